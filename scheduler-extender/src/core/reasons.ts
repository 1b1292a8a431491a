/**
 * Why a node cannot host a pod. Every rejection has a stable code (metrics, logs, docs) and a
 * sentence a person can act on. The sentence is what kube-scheduler shows in the pod's
 * FailedScheduling event, where it counts identical sentences ("0/500 nodes are available:
 * 480 too few free InfiniBand VFs now, ..."), so texts name the cause but never per-node numbers;
 * the numbers of one node are in `GET /v1/nodes/NAME`. Reasons are interned: one object per
 * (code, link type), so the filter path allocates nothing per rejected node.
 *
 * The pod-level reasons (invalid request, tenancy: docs/adr/0017) carry a per-pod detail and
 * reject every node alike.
 *
 * `unresolvable` reasons go to `FailedAndUnresolvableNodes` (preemption cannot help: the node
 * lacks the hardware, or could not supply the pod even when idle); the others go to
 * `FailedNodes` (something may free up or come back).
 */
import { LINK_TYPE_LABEL, type LinkType } from '@rdmasched/contracts';

export interface ReasonSpec {
  readonly unresolvable: boolean;
  /** The sentence; `{link}` is replaced by the link type's label (InfiniBand, RoCE). */
  readonly text: string;
  /** What an operator or workload owner can do about it (README catalogue). */
  readonly action: string;
}

export const REASONS = {
  UNKNOWN_NODE: {
    unresolvable: false,
    text: 'unknown node (no report from its rdmasched node agent)',
    action: 'Check that the node agent runs on the node and can reach Redis.',
  },
  STALE_REPORT: {
    unresolvable: false,
    text: 'rdmasched node agent report is stale (missed heartbeats)',
    action: 'Check the node agent on the node; the node is used again at its next heartbeat.',
  },
  INVALID_POD_REQUEST: {
    unresolvable: true,
    text: 'invalid pod request: {detail}',
    action: 'Fix the annotation or resource quantity named in the message.',
  },
  NO_TENANT: {
    unresolvable: true,
    text: 'no RdmaTenant owns namespace {detail}',
    action:
      'Add the namespace to an RdmaTenant (spec.namespaces or spec.namespaceSelector), or run the extender with RDMASCHED_UNTENANTED_PODS=allow.',
  },
  LINK_TYPE_NOT_ALLOWED: {
    unresolvable: true,
    text: 'tenant {detail} may not use {link} VFs (spec.allowedLinkTypes)',
    action:
      "Request the tenant's allowed link type, or add this one to the RdmaTenant's spec.allowedLinkTypes.",
  },
  QUOTA_EXCEEDED: {
    unresolvable: true,
    text: 'tenant {detail} would exceed its {link} VF quota',
    action: "Wait for the tenant's pods to end (the pod is retried), request fewer VFs, or raise spec.quota.",
  },
  CROSS_TENANT_NETWORK: {
    unresolvable: true,
    text: "network {detail} is in another tenant's namespace",
    action: "Reference only networks of the pod's own tenant, or of namespaces that belong to no tenant.",
  },
  NO_LINK_TYPE: {
    unresolvable: true,
    text: 'node has no {link} PF',
    action: 'Request the other link type, or add nodes with this NIC type.',
  },
  RATE_TOO_LOW: {
    unresolvable: true,
    text: "no {link} PF reaches the pod's minimum link rate",
    action: 'Lower rdmasched.io/min-rate-gbps, or add faster ports.',
  },
  SRIOV_DISABLED: {
    unresolvable: true,
    text: 'SR-IOV is disabled in firmware on every {link} PF',
    action: 'Enable SR-IOV in the NIC firmware (SRIOV_EN, NUM_OF_VFS) and reboot the node.',
  },
  NEVER_ENOUGH_VFS: {
    unresolvable: true,
    text: 'node cannot supply this many {link} VFs even when idle',
    action: 'Request fewer VFs, or raise the firmware/policy VF limit (sriov_totalvfs, maxVfs).',
  },
  NOT_ENOUGH_GPUS: {
    unresolvable: true,
    text: 'node has fewer GPUs than the pod requests',
    action: 'Request fewer GPUs.',
  },
  LOCALITY_UNREACHABLE: {
    unresolvable: true,
    text: "no {link} PF can sit within PXB of the pod's GPUs (gpu-locality: required)",
    action: 'Use rdmasched.io/gpu-locality: preferred, or request fewer GPUs or VFs.',
  },
  NOT_ENOUGH_FREE_GPUS: {
    unresolvable: false,
    text: 'too few free GPUs now',
    action: 'Wait for GPUs to be released; preemption may free some.',
  },
  PORT_DOWN: {
    unresolvable: false,
    text: '{link} port down on the PFs that could host the VFs',
    action: 'Check cabling, the switch and (InfiniBand) the subnet manager.',
  },
  NOT_ENOUGH_VFS: {
    unresolvable: false,
    text: 'too few free {link} VFs now',
    action: 'Wait for VFs to be released or a PF resize to finish; preemption may free some.',
  },
  LOCALITY_NOT_NOW: {
    unresolvable: false,
    text: 'no free {link} VFs within PXB of free GPUs now (gpu-locality: required)',
    action: 'Wait for aligned GPUs and VFs to be released, or relax rdmasched.io/gpu-locality.',
  },
} as const satisfies Record<string, ReasonSpec>;

export type ReasonCode = keyof typeof REASONS;
export const REASON_CODES = Object.keys(REASONS) as ReasonCode[];

export interface Reason {
  readonly code: ReasonCode;
  /** Dense id for tallies (`reasonCount()` entries). */
  readonly id: number;
  readonly unresolvable: boolean;
  /** The link type the reason is about; null for node-wide reasons. */
  readonly linkType: LinkType | null;
  readonly text: string;
  /** `JSON.stringify(text)`, computed once (responses are built from it). */
  readonly json: string;
}

const LINK_KEYS: readonly (LinkType | null)[] = [null, 'ib', 'roce'];
const interned: Reason[] = [];
const byKey = new Map<string, Reason>();
for (const code of REASON_CODES) {
  const spec: ReasonSpec = REASONS[code];
  for (const linkType of LINK_KEYS) {
    if (spec.text.includes('{link}') === (linkType === null)) continue;
    const text = linkType === null ? spec.text : spec.text.replace('{link}', LINK_TYPE_LABEL[linkType]);
    const r: Reason = Object.freeze({
      code,
      id: interned.length,
      unresolvable: spec.unresolvable,
      linkType,
      text,
      json: JSON.stringify(text),
    });
    interned.push(r);
    byKey.set(`${code}/${linkType ?? ''}`, r);
  }
}

/** The interned reason for a code (and link type, for the codes that name one). */
export function reason(code: ReasonCode, linkType: LinkType | null = null): Reason {
  const r = byKey.get(`${code}/${linkType ?? ''}`);
  if (r === undefined)
    throw new Error(`reason ${code} ${linkType === null ? 'needs' : 'takes no'} link type`);
  return r;
}

/**
 * A reason whose text names something of the pod (`{detail}`): the same for every node of one
 * request, so kube-scheduler still aggregates it into one line. Keeps the interned id (metrics).
 */
export function reasonWithDetail(code: ReasonCode, linkType: LinkType | null, detail: string): Reason {
  const base = reason(code, linkType);
  const text = base.text.replace('{detail}', detail);
  return Object.freeze({ ...base, text, json: JSON.stringify(text) });
}

/** The reason for a pod whose annotation or quantity is invalid (docs/adr/0010). */
export function invalidPodRequest(detail: string): Reason {
  return reasonWithDetail('INVALID_POD_REQUEST', null, detail);
}

/** Number of distinct interned reasons (size of a tally array). */
export function reasonCount(): number {
  return interned.length;
}

/** Interned reason by id. */
export function reasonById(id: number): Reason {
  const r = interned[id];
  if (r === undefined) throw new Error(`no reason with id ${id}`);
  return r;
}

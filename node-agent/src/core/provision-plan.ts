/**
 * Plans one provisioning request (docs/adr/0003). Pure: the caller passes what discovery, the
 * ledger and the usage port say now; the plan says what may be written. Every field of the
 * request is untrusted: anything wrong is a `reject` and nothing is written.
 *
 * A resize (`sriov_numvfs` N -> 0 -> maxVfs) is only ever planned when
 *   - no VF of the PF is in use,
 *   - no reservation other than the requester's names the PF (warm pool: none at all),
 *   - nobody else holds the PF's resize claim,
 *   - and maxVfs <= sriov_totalvfs.
 */
import type { LinkType, ProvisionRequest } from '@rdmasched/contracts';
import type { AgentCode } from '../errors.js';
import type { EswitchMode } from '../ports/host-control.js';
import { AGENT_CLAIM_OWNER } from '../ports/ledger.js';

export interface PlanVf {
  readonly index: number;
  readonly pciAddress: string;
  readonly configured: boolean;
  readonly inUse: boolean;
}

export interface PlanPf {
  readonly pciAddress: string;
  readonly linkType: LinkType;
  readonly netdev: string | null;
  readonly sriov: { readonly totalVfs: number; readonly numVfs: number } | null;
  readonly vfs: readonly PlanVf[];
}

export interface PlanInput {
  readonly nodeName: string;
  readonly request: ProvisionRequest;
  /** The PF the request names, as discovered now; undefined when unknown. */
  readonly pf: PlanPf | undefined;
  /** min(totalVfs, policy maximum). */
  readonly maxVfs: number;
  /** Current owner of the PF's resize claim. */
  readonly claimOwner: string | undefined;
  /** VFs reserved on the PF by all reservations. */
  readonly reservedCount: number;
  /** VFs the requesting pod's reservation holds on this PF (0: none). */
  readonly podReservedCount: number;
  readonly eswitchMode: EswitchMode;
}

export type Plan =
  | { readonly kind: 'reject'; readonly code: AgentCode; readonly message: string }
  | {
      readonly kind: 'fail';
      readonly code: AgentCode;
      readonly message: string;
      readonly releaseClaimOf?: string;
    }
  | { readonly kind: 'ready'; readonly releaseClaimOf?: string }
  | { readonly kind: 'configure'; readonly vfs: readonly number[]; readonly releaseClaimOf?: string }
  | {
      readonly kind: 'resize';
      readonly owner: string;
      readonly fromVfs: number;
      readonly targetVfs: number;
      /** The claim is not held yet: take it first. */
      readonly takeClaim: boolean;
    };

/** Pod UIDs are UUIDs; anything outside this alphabet is refused before it reaches a key or a log. */
export const POD_UID_PATTERN = /^[A-Za-z0-9._-]{1,128}$/;

export function planProvisioning(input: PlanInput): Plan {
  const { request: r, pf } = input;
  if (r.node !== input.nodeName)
    return {
      kind: 'reject',
      code: 'WRONG_NODE',
      message: `request is for node ${r.node}, this is ${input.nodeName}`,
    };
  if (pf === undefined)
    return { kind: 'reject', code: 'UNKNOWN_PF', message: `no ConnectX PF ${r.pfPciAddress} on this node` };
  if (pf.sriov === null)
    return {
      kind: 'reject',
      code: 'SRIOV_DISABLED',
      message: `${pf.pciAddress} has SR-IOV disabled in firmware`,
    };
  if (r.minReadyVfs > pf.sriov.totalVfs)
    return {
      kind: 'reject',
      code: 'EXCEEDS_TOTALVFS',
      message: `${r.minReadyVfs} VFs asked, sriov_totalvfs of ${pf.pciAddress} is ${pf.sriov.totalVfs}`,
    };
  if (r.minReadyVfs > input.maxVfs)
    return {
      kind: 'reject',
      code: 'EXCEEDS_MAX_VFS',
      message: `${r.minReadyVfs} VFs asked, the maximum per PF is ${input.maxVfs}`,
    };
  const podUid = r.podUid;
  if (
    r.reason === 'reservation' &&
    (podUid === undefined || !POD_UID_PATTERN.test(podUid) || podUid === AGENT_CLAIM_OWNER)
  )
    return {
      kind: 'reject',
      code: 'MISSING_POD_UID',
      message: 'a reservation request needs a well-formed podUid',
    };
  const owner = r.reason === 'reservation' ? (podUid ?? '') : AGENT_CLAIM_OWNER;
  const ownsClaim =
    input.claimOwner !== undefined && input.claimOwner === owner && owner !== AGENT_CLAIM_OWNER;
  const release = ownsClaim ? { releaseClaimOf: owner } : {};

  const configured = pf.vfs.filter((v) => v.configured).length;
  if (configured >= r.minReadyVfs) return { kind: 'ready', ...release };
  if (pf.sriov.numVfs >= r.minReadyVfs) {
    if (pf.netdev === null)
      return { kind: 'fail', code: 'NO_PF_NETDEV', message: `${pf.pciAddress} has no netdev`, ...release };
    const todo = pf.vfs.filter((v) => !v.configured && !v.inUse).map((v) => v.index);
    return { kind: 'configure', vfs: todo, ...release };
  }
  // A resize is needed.
  if (pf.netdev === null)
    return { kind: 'fail', code: 'NO_PF_NETDEV', message: `${pf.pciAddress} has no netdev`, ...release };
  if (input.eswitchMode !== 'legacy')
    return {
      kind: 'fail',
      code: 'UNSUPPORTED_ESWITCH_MODE',
      message: `${pf.pciAddress} eswitch is ${input.eswitchMode}`,
      ...release,
    };
  const inUse = pf.vfs.filter((v) => v.inUse).length;
  if (inUse > 0)
    return {
      kind: 'fail',
      code: 'PF_BUSY',
      message: `${inUse} VF(s) of ${pf.pciAddress} in use`,
      ...release,
    };
  if (input.claimOwner !== undefined && input.claimOwner !== owner)
    return {
      kind: 'fail',
      code: 'PF_CLAIMED',
      message: `${pf.pciAddress} resize claim is held by ${input.claimOwner}`,
    };
  if (r.reason === 'reservation') {
    if (input.podReservedCount === 0)
      return {
        kind: 'fail',
        code: 'RESERVATION_GONE',
        message: `pod ${owner} has no reservation on ${pf.pciAddress}`,
        ...release,
      };
    if (input.reservedCount > input.podReservedCount)
      return {
        kind: 'fail',
        code: 'PF_HELD',
        message: `${input.reservedCount - input.podReservedCount} VF(s) of ${pf.pciAddress} reserved by others`,
        ...release,
      };
  } else if (input.reservedCount > 0) {
    return {
      kind: 'fail',
      code: 'PF_HELD',
      message: `${input.reservedCount} VF(s) of ${pf.pciAddress} reserved`,
    };
  }
  return {
    kind: 'resize',
    owner,
    fromVfs: pf.sriov.numVfs,
    targetVfs: input.maxVfs,
    takeClaim: input.claimOwner !== owner,
  };
}

/**
 * What the periodic reconcile repairs (docs/adr/0019), decided from three reads taken in this
 * order: the ledger's reservations, then the API's pods, then the node reports. Reservations are
 * read first so that every reservation's pod already existed when the pods were listed: a pod
 * missing from the list is really gone, never "too new to be listed". Pure.
 *
 *   reservation, pod missing / ended / on another node  -> release (orphan)
 *   pending reservation, pod bound to its node           -> mark bound (a bind crashed after the Binding)
 *   pending reservation past expiresAtMs, pod not bound  -> release (expired; a bind crashed before it)
 *   pod bound with VFs, no reservation                   -> record one, from the pod's reservation
 *                                                           annotation, else from the VFs its node
 *                                                           reports in use by it
 */
import { ANNOTATIONS, parseReservation, type Reservation, type ReservedPf } from '@rdmasched/contracts';
import type { PodSummary } from '../ports/pod-api.js';
import { podRequestFrom } from './pod-request.js';

export interface ReconcilePlan {
  readonly release: readonly { readonly reservation: Reservation; readonly why: string }[];
  readonly markBound: readonly Reservation[];
  /** UIDs whose pending reservation expired (released with the expiry condition, atomically). */
  readonly expire: readonly Reservation[];
  readonly record: readonly Reservation[];
  /** Bound pods with VFs whose reservation cannot be rebuilt yet (no annotation, VFs not named). */
  readonly unattributed: readonly PodSummary[];
}

export interface ReconcileInput {
  readonly reservations: readonly Reservation[];
  readonly pods: readonly PodSummary[];
  readonly nowMs: number;
  /** VFs a node reports in use by a pod, per PF (from the snapshot's reports). */
  readonly inUseBy: (node: string, podUid: string) => readonly ReservedPf[];
  /** The tenant a namespace belongs to ('' when none). */
  readonly tenantOf: (namespace: string) => string;
}

function ended(p: PodSummary): boolean {
  return p.phase === 'Succeeded' || p.phase === 'Failed';
}

/** The reservation a bound pod carries in its annotation, when it is valid and is this pod's. */
function fromAnnotation(p: PodSummary): Reservation | undefined {
  const raw = p.annotations[ANNOTATIONS.reservation];
  if (raw === undefined) return undefined;
  const r = parseReservation(raw);
  if (r === undefined || r.podUid !== p.uid || r.node !== p.nodeName) return undefined;
  return { ...r, state: 'bound' };
}

export function planReconcile(input: ReconcileInput): ReconcilePlan {
  const pods = new Map(input.pods.map((p) => [p.uid, p]));
  const held = new Set<string>();
  const release: { reservation: Reservation; why: string }[] = [];
  const markBound: Reservation[] = [];
  const expire: Reservation[] = [];
  for (const r of input.reservations) {
    held.add(r.podUid);
    const pod = pods.get(r.podUid);
    if (pod === undefined) release.push({ reservation: r, why: 'pod no longer exists' });
    else if (ended(pod)) release.push({ reservation: r, why: `pod ${pod.phase ?? 'ended'}` });
    else if (pod.nodeName !== undefined && pod.nodeName !== r.node)
      release.push({ reservation: r, why: `pod runs on ${pod.nodeName}, not ${r.node}` });
    else if (r.state === 'pending' && pod.nodeName === r.node) markBound.push(r);
    else if (r.state === 'pending' && r.expiresAtMs <= input.nowMs) expire.push(r);
  }
  const record: Reservation[] = [];
  const unattributed: PodSummary[] = [];
  for (const p of input.pods) {
    if (held.has(p.uid) || p.nodeName === undefined || ended(p)) continue;
    const parsed = podRequestFrom(p.object);
    if (parsed.kind !== 'ok' || parsed.request.totalVfs === 0) continue;
    const annotated = fromAnnotation(p);
    if (annotated !== undefined) {
      record.push(annotated);
      continue;
    }
    const pfs = input.inUseBy(p.nodeName, p.uid);
    if (pfs.length === 0) {
      unattributed.push(p);
      continue;
    }
    record.push({
      podUid: p.uid,
      namespace: p.namespace,
      podName: p.name,
      tenant: input.tenantOf(p.namespace),
      node: p.nodeName,
      pfs: [...pfs],
      gpus: [],
      state: 'bound',
      createdAtMs: Math.floor(input.nowMs),
      expiresAtMs: Math.floor(input.nowMs),
    });
  }
  return { release, markBound, expire, record, unattributed };
}

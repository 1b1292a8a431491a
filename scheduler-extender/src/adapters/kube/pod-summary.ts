import type { V1Pod } from '@kubernetes/client-node';
import type { PodSummary } from '../../ports/pod-api.js';

/** The PodSummary of a client-node V1Pod (its fields use the JSON names podRequestFrom reads). */
export function podSummary(pod: V1Pod): PodSummary {
  const annotations: Record<string, string> = {};
  for (const [k, v] of Object.entries(pod.metadata?.annotations ?? {}))
    if (typeof v === 'string') annotations[k] = v;
  return {
    uid: pod.metadata?.uid ?? '',
    namespace: pod.metadata?.namespace ?? '',
    name: pod.metadata?.name ?? '',
    nodeName: pod.spec?.nodeName === undefined || pod.spec.nodeName === '' ? undefined : pod.spec.nodeName,
    phase: pod.status?.phase,
    deleting: pod.metadata?.deletionTimestamp !== undefined && pod.metadata.deletionTimestamp !== null,
    schedulerName: pod.spec?.schedulerName,
    annotations,
    object: pod,
  };
}

/** A pod that will not run containers again: its VFs can be released. */
export function podEnded(p: PodSummary): boolean {
  return p.phase === 'Succeeded' || p.phase === 'Failed';
}

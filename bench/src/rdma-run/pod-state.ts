/**
 * What a pod's status says, in the words a person needs: scheduled or not and why (the
 * `PodScheduled` condition, e.g. `0/5 nodes are available: ...`), why a container is not running
 * yet (`ImagePullBackOff: ...`), how it ended. Pure.
 */
import { isIP } from 'node:net';
import type { CoreV1Event, V1Pod } from '@kubernetes/client-node';

export type PodStage = 'unscheduled' | 'starting' | 'running' | 'succeeded' | 'failed' | 'unknown';

export interface PodState {
  readonly stage: PodStage;
  readonly node: string | null;
  /** A valid IP address, or null. */
  readonly podIP: string | null;
  /** Why it is not scheduled: `Unschedulable: 0/5 nodes are available: ...`. */
  readonly scheduling: string | null;
  /** Why the container does not run yet: `ImagePullBackOff: Back-off pulling image "x"`. */
  readonly waiting: string | null;
  /** How the container ended: exit code and reason. */
  readonly exitCode: number | null;
  readonly ended: string | null;
}

export function podState(pod: V1Pod): PodState {
  const status = pod.status ?? {};
  const node = pod.spec?.nodeName !== undefined && pod.spec.nodeName !== '' ? pod.spec.nodeName : null;
  const scheduledCond = (status.conditions ?? []).find((c) => c.type === 'PodScheduled');
  const scheduled = node !== null || scheduledCond?.status === 'True';
  const cs = status.containerStatuses?.[0];
  const waiting = cs?.state?.waiting;
  const terminated = cs?.state?.terminated;
  const ip = status.podIP !== undefined && isIP(status.podIP) !== 0 ? status.podIP : null;
  const phase = status.phase;
  const stage: PodStage =
    phase === 'Succeeded'
      ? 'succeeded'
      : phase === 'Failed'
        ? 'failed'
        : phase === 'Running'
          ? 'running'
          : !scheduled
            ? 'unscheduled'
            : phase === 'Pending' || phase === undefined
              ? 'starting'
              : 'unknown';
  const join = (reason: string | undefined, message: string | undefined) =>
    [reason, message].filter((s) => s !== undefined && s !== '').join(': ') || null;
  let ended: string | null = null;
  if (stage === 'succeeded' || stage === 'failed') {
    const parts = [
      terminated?.exitCode !== undefined ? `exit code ${terminated.exitCode}` : null,
      join(terminated?.reason ?? status.reason, terminated?.message ?? status.message),
    ].filter((s): s is string => s !== null);
    ended = parts.join(', ') || (stage === 'failed' ? 'Failed' : 'Succeeded');
  }
  return {
    stage,
    node,
    podIP: ip,
    scheduling: scheduledCond?.status === 'False' ? join(scheduledCond.reason, scheduledCond.message) : null,
    waiting: waiting !== undefined ? join(waiting.reason, waiting.message) : null,
    exitCode: terminated?.exitCode ?? null,
    ended,
  };
}

/** The newest event with one of `reasons` (e.g. FailedScheduling), as `Reason: message`. */
export function latestEvent(events: readonly CoreV1Event[], reasons: readonly string[]): string | null {
  for (let i = events.length - 1; i >= 0; i--) {
    const e = events[i];
    if (e !== undefined && e.reason !== undefined && reasons.includes(e.reason))
      return `${e.reason}: ${e.message ?? ''}`.trim();
  }
  return null;
}

/** Events that explain a pod stuck before running. */
export const SCHEDULING_EVENT_REASONS = ['FailedScheduling'] as const;
export const START_EVENT_REASONS = [
  'Failed',
  'FailedMount',
  'FailedCreatePodSandBox',
  'ErrImageNeverPull',
  'InspectFailed',
  'BackOff',
  'FailedAttachVolume',
  'UnexpectedAdmissionError',
] as const;

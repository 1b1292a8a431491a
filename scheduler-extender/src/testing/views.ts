/**
 * Helpers to turn reports into views and decisions without a store, for tests and examples.
 */
import type { NodeReport } from '@rdmasched/contracts';
import { computeCapacity } from '../core/capacity.js';
import { decideNode, type NodeDecision } from '../core/decision.js';
import { NodeView } from '../core/node-view.js';
import { podRequestFrom, type PodRequest } from '../core/pod-request.js';
import type { PackingPolicy } from '../core/score.js';
import type { NodeReservations } from '../ports/reservation-view.js';

export function viewOf(report: NodeReport, lastHeartbeatMs = 0): NodeView {
  return new NodeView(report, { version: 1, lastHeartbeatMs, staleAfterHeartbeats: 3 });
}

/** The request of a pod JSON; throws when the pod is not valid (tests only). */
export function requestOf(pod: unknown): PodRequest {
  const r = podRequestFrom(pod);
  if (r.kind !== 'ok') throw new Error(`pod is not a valid request: ${JSON.stringify(r)}`);
  return r.request;
}

export function decide(
  report: NodeReport,
  request: PodRequest,
  opts: { policy?: PackingPolicy; reservations?: NodeReservations } = {},
): NodeDecision {
  const view = viewOf(report);
  return decideNode(view, computeCapacity(view, opts.reservations), request, opts.policy ?? 'pack');
}

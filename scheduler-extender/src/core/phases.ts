/**
 * The two scheduling phases the extender serves, one small interface each (kube-scheduler
 * framework style). Outcomes are data; nothing here throws for an expected rejection.
 *
 * Later phases and policies plug in around these without rewriting them:
 * - tenancy (issue 4: tenant quota, allowed link types) decorates `FilterPhase`: a pod-level
 *   check can reject every node with one reason before or after `SnapshotFilter` runs;
 * - bind and preempt are separate verbs with their own interfaces; they read the same
 *   snapshot and write the ledger, whose mirror feeds `ReservationView`.
 */
import { reasonCount, type Reason } from './reasons.js';
import type { PodRequest } from './pod-request.js';
import type { Snapshot } from './snapshot.js';
import type { NodeView } from './node-view.js';
import { reason as internedReason } from './reasons.js';

/** What the filter is asked about: a valid request, or one that is invalid for every node. */
export type PodDemand =
  | { readonly kind: 'request'; readonly request: PodRequest }
  | { readonly kind: 'invalid'; readonly reason: Reason };

export interface FilterOutcome {
  /** Input names that can host the pod, in input order. */
  readonly feasible: string[];
  /** Their positions in the input (to return the original Node objects). */
  readonly feasibleIndexes: number[];
  /** FailedNodes: name -> reason (something may free up). */
  readonly failed: Record<string, string>;
  /** FailedAndUnresolvableNodes: name -> reason (preemption cannot help). */
  readonly unresolvable: Record<string, string>;
  /** Rejections per reason id (reasons.ts), for metrics. */
  readonly tally: Uint32Array;
  /** Rejections whose reason is not interned (invalid pod request): counted here. */
  readonly invalid: number;
}

export interface FilterPhase {
  /** Splits `nodeNames` into feasible / failed / unresolvable. Pure read of the snapshot. */
  filter(demand: PodDemand, nodeNames: readonly string[], nowMs: number): FilterOutcome;
}

export interface PrioritizePhase {
  /** Scores 0..10 aligned with `nodeNames`; 0 for nodes that cannot host the pod. */
  prioritize(demand: PodDemand, nodeNames: readonly string[], nowMs: number): Uint8Array;
}

function emptyRecord(): Record<string, string> {
  return Object.create(null) as Record<string, string>;
}

const UNKNOWN = internedReason('UNKNOWN_NODE');
const STALE = internedReason('STALE_REPORT');

/** Filter and prioritize over the in-memory snapshot (no I/O). */
export class SnapshotPhases implements FilterPhase, PrioritizePhase {
  constructor(private readonly snapshot: Snapshot) {}

  filter(demand: PodDemand, nodeNames: readonly string[], nowMs: number): FilterOutcome {
    const feasible: string[] = [];
    const feasibleIndexes: number[] = [];
    const failed = emptyRecord();
    const unresolvable = emptyRecord();
    const tally = new Uint32Array(reasonCount());
    const n = nodeNames.length;
    if (demand.kind === 'invalid') {
      for (let i = 0; i < n; i++) unresolvable[nodeNames[i] as string] = demand.reason.text;
      return { feasible, feasibleIndexes, failed, unresolvable, tally, invalid: n };
    }
    const request = demand.request;
    if (request.totalVfs === 0) {
      for (let i = 0; i < n; i++) {
        feasible.push(nodeNames[i] as string);
        feasibleIndexes.push(i);
      }
      return { feasible, feasibleIndexes, failed, unresolvable, tally, invalid: 0 };
    }
    const snapshot = this.snapshot;
    const shape = snapshot.shapeOf(request);
    for (let i = 0; i < n; i++) {
      const name = nodeNames[i] as string;
      const view = snapshot.get(name);
      let rejected: Reason | undefined;
      if (view === undefined) {
        rejected = UNKNOWN;
      } else {
        const d = snapshot.decide(view, shape);
        if (!d.feasible && d.reason.unresolvable) rejected = d.reason;
        else if (view.isStale(nowMs)) rejected = STALE;
        else if (!d.feasible) rejected = d.reason;
      }
      if (rejected === undefined) {
        feasible.push(name);
        feasibleIndexes.push(i);
      } else {
        (rejected.unresolvable ? unresolvable : failed)[name] = rejected.text;
        tally[rejected.id] = (tally[rejected.id] ?? 0) + 1;
      }
    }
    return { feasible, feasibleIndexes, failed, unresolvable, tally, invalid: 0 };
  }

  prioritize(demand: PodDemand, nodeNames: readonly string[], nowMs: number): Uint8Array {
    const scores = new Uint8Array(nodeNames.length);
    if (demand.kind === 'invalid' || demand.request.totalVfs === 0) return scores;
    const snapshot = this.snapshot;
    const shape = snapshot.shapeOf(demand.request);
    for (let i = 0; i < nodeNames.length; i++) {
      const view: NodeView | undefined = snapshot.get(nodeNames[i] as string);
      if (view === undefined || view.isStale(nowMs)) continue;
      const d = snapshot.decide(view, shape);
      if (d.feasible) scores[i] = d.score;
    }
    return scores;
  }
}

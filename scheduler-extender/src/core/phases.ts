/**
 * The two scheduling phases the extender serves, one small interface each (kube-scheduler
 * framework style). Outcomes are data; nothing here throws for an expected rejection.
 *
 * Around them:
 * - tenancy (core/tenancy.ts) runs first: a pod it denies arrives here as a `denied` demand and
 *   every node is rejected with its reason;
 * - bind and preempt are separate verbs (services/); they read the same snapshot and write the
 *   ledger, whose mirror feeds `ReservationView`.
 *
 * Outcomes are arrays indexed like the input names (no per-node objects), because at 5,000
 * candidate nodes the filter must stay well under a microsecond per node.
 */
import { REJECTED } from './hot-table.js';
import { reason as internedReason, reasonById, reasonCount, type Reason } from './reasons.js';
import type { PodRequest } from './pod-request.js';
import type { Snapshot } from './snapshot.js';

/**
 * What the filter is asked about: a valid request; one that is invalid for every node; or one a
 * pod-level policy (tenancy) denies on every node with its reason.
 */
export type PodDemand =
  | { readonly kind: 'request'; readonly request: PodRequest }
  | { readonly kind: 'invalid'; readonly reason: Reason }
  | { readonly kind: 'denied'; readonly reason: Reason };

export interface FilterOutcome {
  /** The input names. */
  readonly names: readonly string[];
  /** The snapshot slot of each input name (-1 when unknown), aligned with `names`. */
  readonly slots: Int32Array;
  /** Positions of the nodes that can host the pod, in input order. */
  readonly feasibleIndexes: readonly number[];
  /** Positions of the rejected nodes, in input order, and why (parallel arrays). */
  readonly rejectedIndexes: readonly number[];
  readonly rejectedReasons: readonly Reason[];
  /** Rejections per interned reason id (reasons.ts), for metrics. */
  readonly tally: Uint32Array;
  /** Rejections for an invalid pod request (its reason is not interned). */
  readonly invalid: number;
}

export interface FilterPhase {
  /** Splits `nodeNames` into feasible and rejected (with reasons). Pure read of the snapshot. */
  filter(demand: PodDemand, nodeNames: readonly string[], nowMs: number): FilterOutcome;
}

export interface PrioritizeOutcome {
  readonly names: readonly string[];
  /** The snapshot slot of each input name (-1 when unknown), aligned with `names`. */
  readonly slots: Int32Array;
  /** Scores 0..10 aligned with `names`; 0 for nodes that cannot host the pod. */
  readonly scores: Uint8Array;
}

export interface PrioritizePhase {
  prioritize(demand: PodDemand, nodeNames: readonly string[], nowMs: number): PrioritizeOutcome;
}

/** Names of the feasible nodes, in input order. */
export function feasibleNames(o: FilterOutcome): string[] {
  return o.feasibleIndexes.map((i) => o.names[i] as string);
}

/** FailedNodes (`unresolvable: false`) or FailedAndUnresolvableNodes (`true`) as a record. */
export function rejectedRecord(o: FilterOutcome, unresolvable: boolean): Record<string, string> {
  const out = Object.create(null) as Record<string, string>;
  o.rejectedIndexes.forEach((i, k) => {
    const r = o.rejectedReasons[k];
    if (r !== undefined && r.unresolvable === unresolvable) out[o.names[i] as string] = r.text;
  });
  return out;
}

const UNKNOWN = internedReason('UNKNOWN_NODE');
const STALE = internedReason('STALE_REPORT');

/**
 * Filter and prioritize over the in-memory snapshot (no I/O). Per candidate: one Map lookup
 * (name -> slot), then reads of the snapshot's hot arrays and the shape's decision codes; a
 * decision is computed only when the node or its reservations changed since it was memoised.
 */
export class SnapshotPhases implements FilterPhase, PrioritizePhase {
  /** The last filter's names and slots: prioritize usually gets a subsequence of them. */
  private lastFilter: { names: readonly string[]; slots: Int32Array; slotVersion: number } | undefined;

  constructor(private readonly snapshot: Snapshot) {}

  private lookup(nodeNames: readonly string[]): Int32Array {
    const n = nodeNames.length;
    const slots = new Int32Array(n);
    for (let i = 0; i < n; i++) slots[i] = this.snapshot.slotOf(nodeNames[i] as string);
    return slots;
  }

  /**
   * Slots for prioritize. kube-scheduler calls prioritize right after filter with the nodes that
   * passed, in filter's order: a subsequence of the last filter's input. Walking both lists and
   * comparing names (each name must match exactly) is much cheaper than hashing every name
   * again. Any mismatch, or a slot change in between, falls back to the full lookup.
   */
  private prioritizeSlots(nodeNames: readonly string[]): Int32Array {
    const last = this.lastFilter;
    if (last === undefined || last.slotVersion !== this.snapshot.slotVersion) return this.lookup(nodeNames);
    const n = nodeNames.length;
    const slots = new Int32Array(n);
    const prev = last.names;
    let j = 0;
    for (let i = 0; i < n; i++) {
      const name = nodeNames[i] as string;
      while (j < prev.length && prev[j] !== name) j++;
      if (j === prev.length) return this.lookup(nodeNames);
      slots[i] = last.slots[j] as number;
      j++;
    }
    return slots;
  }

  filter(demand: PodDemand, nodeNames: readonly string[], nowMs: number): FilterOutcome {
    const n = nodeNames.length;
    const slots = this.lookup(nodeNames);
    this.lastFilter = { names: nodeNames, slots, slotVersion: this.snapshot.slotVersion };
    const feasibleIndexes: number[] = [];
    const rejectedIndexes: number[] = [];
    const rejectedReasons: Reason[] = [];
    const tally = new Uint32Array(reasonCount());
    const outcome = {
      names: nodeNames,
      slots,
      feasibleIndexes,
      rejectedIndexes,
      rejectedReasons,
      tally,
      invalid: 0,
    };
    if (demand.kind !== 'request') {
      for (let i = 0; i < n; i++) {
        rejectedIndexes.push(i);
        rejectedReasons.push(demand.reason);
      }
      if (demand.kind === 'invalid') return { ...outcome, invalid: n };
      tally[demand.reason.id] = n;
      return outcome;
    }
    const request = demand.request;
    if (request.totalVfs === 0) {
      for (let i = 0; i < n; i++) feasibleIndexes.push(i);
      return outcome;
    }
    const snapshot = this.snapshot;
    const shape = snapshot.shapeOf(request);
    const data = snapshot.table.data;
    const memo = shape.memo;
    for (let i = 0; i < n; i++) {
      const slot = slots[i] as number;
      let rejected: Reason | undefined;
      if (slot < 0) {
        rejected = UNKNOWN;
      } else {
        const at = 2 * slot;
        const code =
          memo[at] === data[at + 1] ? (memo[at + 1] as number) : snapshot.decisionCode(slot, shape);
        const stale = nowMs > (data[at] as number);
        if (code >= REJECTED) {
          const r = reasonById(code - REJECTED);
          rejected = !r.unresolvable && stale ? STALE : r;
        } else if (stale) {
          rejected = STALE;
        }
      }
      if (rejected === undefined) {
        feasibleIndexes.push(i);
      } else {
        rejectedIndexes.push(i);
        rejectedReasons.push(rejected);
        tally[rejected.id] = (tally[rejected.id] ?? 0) + 1;
      }
    }
    return outcome;
  }

  prioritize(demand: PodDemand, nodeNames: readonly string[], nowMs: number): PrioritizeOutcome {
    const n = nodeNames.length;
    const slots = this.prioritizeSlots(nodeNames);
    const scores = new Uint8Array(n);
    const outcome = { names: nodeNames, slots, scores };
    if (demand.kind !== 'request' || demand.request.totalVfs === 0) return outcome;
    const snapshot = this.snapshot;
    const shape = snapshot.shapeOf(demand.request);
    const data = snapshot.table.data;
    const memo = shape.memo;
    for (let i = 0; i < n; i++) {
      const slot = slots[i] as number;
      if (slot < 0) continue;
      const at = 2 * slot;
      if (nowMs > (data[at] as number)) continue;
      const code = memo[at] === data[at + 1] ? (memo[at + 1] as number) : snapshot.decisionCode(slot, shape);
      if (code < REJECTED) scores[i] = code;
    }
    return outcome;
  }
}

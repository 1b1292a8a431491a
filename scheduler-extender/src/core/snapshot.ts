/**
 * Every node report the extender knows, in memory, with the per-node indices of NodeView.
 * Filter and prioritize read only this; a TopologyStore adapter keeps it current (Redis in
 * production, in-memory in tests and the simulation).
 *
 * Rules every update follows, whatever the source:
 * - a report is validated with `validateNodeReport` from contracts; one that fails never enters
 *   the snapshot (the outcome carries the reasons, for a log line and a metric);
 * - a report whose generation is not newer than the one held is ignored;
 * - the last heartbeat comes from the heartbeat or report time given by the adapter, clamped to
 *   the adapter's `nowMs` (a clock running ahead on the node must not keep a node fresh).
 *
 * Decisions are memoised per node (NodeView.memo*, MEMO_SLOTS shapes) and dropped when the node's
 * reservations change (ReservationView.onChange) or its report is replaced (a new NodeView).
 */
import { validateNodeReport, type NodeReport } from '@rdmasched/contracts';
import type { ReservationView } from '../ports/reservation-view.js';
import { computeCapacity } from './capacity.js';
import { isObject } from './json-fields.js';
import { decideNode, type NodeDecision } from './decision.js';
import { MEMO_SLOTS, NodeView } from './node-view.js';
import type { PackingPolicy } from './score.js';
import { ShapeTable, type RequestShape } from './shape.js';
import type { PodRequest } from './pod-request.js';

export const DEFAULT_STALE_AFTER_HEARTBEATS = 3;

export type ApplyOutcome =
  | { readonly kind: 'accepted'; readonly node: string; readonly generation: number }
  | { readonly kind: 'rejected'; readonly node: string | undefined; readonly errors: readonly string[] }
  | {
      readonly kind: 'not-newer';
      readonly node: string;
      readonly generation: number;
      readonly current: number;
    };

/** What an adapter passes for a stored report that is not even JSON: rejected like an invalid one. */
export class UnparsableReport {
  constructor(
    readonly node: string,
    readonly reason: string,
  ) {}
}

export interface SnapshotListener {
  /** After every applyReport, including each entry of a reload. */
  onReport?(outcome: ApplyOutcome): void;
  onRemoved?(node: string): void;
  /** After a full reload, with the number of nodes now held. */
  onReload?(nodes: number): void;
}

export interface SnapshotOptions {
  readonly reservations: ReservationView;
  readonly policy: PackingPolicy;
  /** A node is stale after this many heartbeat intervals without a heartbeat (default 3). */
  readonly staleAfterHeartbeats?: number;
}

export interface ReportTimes {
  /** The adapter's current time (unix ms). */
  readonly nowMs: number;
  /** The agent's last heartbeat, when known (unix ms). */
  readonly heartbeatAtMs?: number | undefined;
}

export class Snapshot {
  readonly policy: PackingPolicy;
  readonly staleAfterHeartbeats: number;
  private readonly reservations: ReservationView;
  private nodes = new Map<string, NodeView>();
  private readonly listeners = new Set<SnapshotListener>();
  private readonly shapes = new ShapeTable();
  private readonly unsubscribe: () => void;
  private sequence = 0;
  private isLoaded = false;

  constructor(opts: SnapshotOptions) {
    const multiple = opts.staleAfterHeartbeats ?? DEFAULT_STALE_AFTER_HEARTBEATS;
    if (!(multiple > 0)) throw new Error(`staleAfterHeartbeats must be > 0, got ${multiple}`);
    this.policy = opts.policy;
    this.staleAfterHeartbeats = multiple;
    this.reservations = opts.reservations;
    this.unsubscribe = this.reservations.onChange((node) => this.nodes.get(node)?.invalidate());
  }

  /** True once a store finished its first full load; `/readyz` answers 200 from then on. */
  get loaded(): boolean {
    return this.isLoaded;
  }

  markLoaded(): void {
    this.isLoaded = true;
  }

  get size(): number {
    return this.nodes.size;
  }

  /** Incremented on every change (new report, removal, reload). */
  get version(): number {
    return this.sequence;
  }

  get(name: string): NodeView | undefined {
    return this.nodes.get(name);
  }

  views(): IterableIterator<NodeView> {
    return this.nodes.values();
  }

  addListener(listener: SnapshotListener): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  /** Stops following the reservation view. */
  close(): void {
    this.unsubscribe();
  }

  private lastSign(report: NodeReport, times: ReportTimes, previous: NodeView | undefined): number {
    const reported = Date.parse(report.reportedAt);
    const candidates = [times.heartbeatAtMs ?? 0, Number.isFinite(reported) ? reported : 0];
    const latest = Math.min(times.nowMs, Math.max(...candidates));
    return Math.max(latest, previous?.lastHeartbeatMs ?? 0);
  }

  private apply(value: unknown, times: ReportTimes, into: Map<string, NodeView>): ApplyOutcome {
    const checked = value instanceof UnparsableReport ? undefined : validateNodeReport(value);
    if (checked === undefined || !checked.ok) {
      let name: string | undefined;
      if (value instanceof UnparsableReport) name = value.node;
      else if (isObject(value) && typeof value['nodeName'] === 'string') name = value['nodeName'];
      // A node keeps its last valid report: an invalid one never replaces it (nor, in a reload, drops it).
      const current = name === undefined ? undefined : this.nodes.get(name);
      if (current !== undefined && into !== this.nodes) into.set(current.name, current);
      const errors = checked === undefined ? [`/: ${(value as UnparsableReport).reason}`] : checked.errors;
      return { kind: 'rejected', node: name, errors };
    }
    const report = checked.value;
    const current = into.get(report.nodeName) ?? this.nodes.get(report.nodeName);
    if (current !== undefined && report.generation <= current.generation) {
      // Same or older report: keep the view (and its memo), but a newer sign of life counts.
      current.lastHeartbeatMs = this.lastSign(report, times, current);
      into.set(report.nodeName, current);
      return {
        kind: 'not-newer',
        node: report.nodeName,
        generation: report.generation,
        current: current.generation,
      };
    }
    const view = new NodeView(report, {
      version: ++this.sequence,
      lastHeartbeatMs: this.lastSign(report, times, current),
      staleAfterHeartbeats: this.staleAfterHeartbeats,
    });
    into.set(report.nodeName, view);
    return { kind: 'accepted', node: report.nodeName, generation: report.generation };
  }

  private emit(outcome: ApplyOutcome): void {
    for (const l of this.listeners) l.onReport?.(outcome);
  }

  /** Validates and applies one report (a `report` event, or the in-memory store). */
  applyReport(value: unknown, times: ReportTimes): ApplyOutcome {
    const outcome = this.apply(value, times, this.nodes);
    this.emit(outcome);
    return outcome;
  }

  /** Records a heartbeat. Returns false for a node the snapshot does not hold. */
  heartbeat(node: string, atMs: number, nowMs: number): boolean {
    const view = this.nodes.get(node);
    if (view === undefined) return false;
    view.lastHeartbeatMs = Math.max(view.lastHeartbeatMs, Math.min(atMs, nowMs));
    return true;
  }

  /** Drops a node (its agent announced it left). Returns false when it was not held. */
  remove(node: string): boolean {
    const removed = this.nodes.delete(node);
    if (removed) {
      this.sequence++;
      for (const l of this.listeners) l.onRemoved?.(node);
    }
    return removed;
  }

  /**
   * Replaces the whole snapshot with `entries` (a full load or reload): nodes not listed are
   * dropped; a listed node keeps its current view when the entry is not newer. Invalid entries
   * are skipped, as in applyReport.
   */
  replaceAll(
    entries: Iterable<{ readonly report: unknown; readonly heartbeatAtMs?: number | undefined }>,
    nowMs: number,
  ) {
    const next = new Map<string, NodeView>();
    const outcomes: ApplyOutcome[] = [];
    for (const e of entries) {
      const outcome = this.apply(e.report, { nowMs, heartbeatAtMs: e.heartbeatAtMs }, next);
      outcomes.push(outcome);
    }
    this.nodes = next;
    this.sequence++;
    for (const o of outcomes) this.emit(o);
    for (const l of this.listeners) l.onReload?.(next.size);
    return {
      accepted: outcomes.filter((o) => o.kind !== 'rejected').length,
      rejected: outcomes.filter((o) => o.kind === 'rejected').length,
    };
  }

  /** The interned shape of a request (memo key). */
  shapeOf(request: PodRequest): RequestShape {
    return this.shapes.intern(request);
  }

  /** The node's decision for the shape, memoised. Time-independent (see decision.ts). */
  decide(view: NodeView, shape: RequestShape): NodeDecision {
    const shapes = view.memoShapes;
    for (let i = 0; i < MEMO_SLOTS; i++) {
      if (shapes[i] === shape) {
        const d = view.memoDecisions[i];
        if (d !== undefined) return d;
      }
    }
    view.capacity ??= computeCapacity(view, this.reservations.forNode(view.name));
    const decision = decideNode(view, view.capacity, shape.request, this.policy);
    const slot = view.memoNext;
    shapes[slot] = shape;
    view.memoDecisions[slot] = decision;
    view.memoNext = (slot + 1) % MEMO_SLOTS;
    return decision;
  }

  /** Number of nodes whose last heartbeat is older than their stale limit. */
  staleCount(nowMs: number): number {
    let n = 0;
    for (const v of this.nodes.values()) if (v.isStale(nowMs)) n++;
    return n;
  }

  /** Capacity of a node under the current reservations (for `/v1/nodes`). */
  capacityOf(view: NodeView) {
    view.capacity ??= computeCapacity(view, this.reservations.forNode(view.name));
    return view.capacity;
  }
}

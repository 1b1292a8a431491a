/**
 * Every node report the extender knows, in memory, with the per-node indices of NodeView.
 * Filter and prioritize read only this; a TopologyStore adapter keeps it current (Redis in
 * production, in-memory in tests and the simulation).
 *
 * Rules every update follows, whatever the source:
 * - a report is validated with `validateNodeReport` from contracts; one that fails never enters
 *   the snapshot (the outcome carries the reasons, for a log line and a metric), and a node keeps
 *   its last valid report;
 * - a report whose generation is not newer than the one held is ignored;
 * - the last heartbeat comes from the heartbeat or report time given by the adapter, clamped to
 *   the adapter's `nowMs` (a clock running ahead on the node must not keep a node fresh).
 *
 * Decisions are memoised twice: per request shape and node slot as a small code (the filter
 * path, hot-table.ts), and per node as full decision objects with plans (explain, tests). Both
 * are dropped when the node's report is replaced or its reservations change.
 */
import { validateNodeReport, type NodeReport } from '@rdmasched/contracts';
import type { ReservationView } from '../ports/reservation-view.js';
import { computeCapacity } from './capacity.js';
import { decideNode, type NodeDecision } from './decision.js';
import { HotTable, REJECTED } from './hot-table.js';
import { isObject } from './json-fields.js';
import { MEMO_SLOTS, NodeView } from './node-view.js';
import { NameIndex } from './name-index.js';
import type { PodRequest } from './pod-request.js';
import type { PackingPolicy } from './score.js';
import { ShapeTable, type RequestShape } from './shape.js';

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
  /** Hot per-slot arrays (filter path). Read-only outside this class. */
  readonly table = new HotTable();
  private readonly reservations: ReservationView;
  private readonly nodes = new Map<string, NodeView>();
  /** Node name -> slot (bookkeeping). */
  private readonly slots = new Map<string, number>();
  /** The same, laid out for the filter path's one lookup per candidate (name-index.ts). */
  private readonly index = new NameIndex();
  private readonly viewAt: (NodeView | undefined)[] = [];
  private readonly freeSlots: number[] = [];
  private readonly listeners = new Set<SnapshotListener>();
  private readonly shapes = new ShapeTable();
  private readonly unsubscribe: () => void;
  private sequence = 0;
  private slotSequence = 0;
  /** During replaceAll: new names are indexed once, at the end. */
  private bulk = false;
  private isLoaded = false;

  constructor(opts: SnapshotOptions) {
    const multiple = opts.staleAfterHeartbeats ?? DEFAULT_STALE_AFTER_HEARTBEATS;
    if (!(multiple > 0)) throw new Error(`staleAfterHeartbeats must be > 0, got ${multiple}`);
    this.policy = opts.policy;
    this.staleAfterHeartbeats = multiple;
    this.reservations = opts.reservations;
    this.unsubscribe = this.reservations.onChange((node) => {
      const view = this.nodes.get(node);
      if (view === undefined) return;
      view.invalidate();
      this.bumpEpoch(view.slot);
    });
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

  /** Incremented whenever a name gets or loses a slot; slots looked up earlier stay valid until then. */
  get slotVersion(): number {
    return this.slotSequence;
  }

  get(name: string): NodeView | undefined {
    return this.nodes.get(name);
  }

  /** The node's slot in `table`, or -1 when the snapshot does not hold it. */
  slotOf(name: string): number {
    return this.index.get(name);
  }

  /** The node name of a slot, as ASCII bytes (see name-index.ts), for building responses. */
  get names(): Pick<NameIndex, 'nameLength' | 'copyName'> {
    return this.index;
  }

  viewAtSlot(slot: number): NodeView | undefined {
    return this.viewAt[slot];
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

  private bumpEpoch(slot: number): void {
    this.table.bumpEpoch(slot);
  }

  private setHeartbeat(view: NodeView, ms: number): void {
    view.lastHeartbeatMs = ms;
    if (view.slot >= 0) this.table.setStaleAt(view.slot, ms + view.staleAfterMs);
  }

  /** Makes `view` the node's current view, in its slot (allocated on first sight). */
  private install(view: NodeView): void {
    let slot = this.slots.get(view.name);
    if (slot === undefined) {
      slot = this.freeSlots.pop() ?? this.viewAt.length;
      this.slots.set(view.name, slot);
      if (!this.bulk) this.index.set(view.name, slot);
      this.slotSequence++;
      this.table.ensureCapacity(slot + 1);
    }
    view.slot = slot;
    this.viewAt[slot] = view;
    this.table.setStaleAt(slot, view.lastHeartbeatMs + view.staleAfterMs);
    this.bumpEpoch(slot);
    this.nodes.set(view.name, view);
  }

  private uninstall(name: string, rebuildIndex = true): boolean {
    const view = this.nodes.get(name);
    if (view === undefined) return false;
    this.nodes.delete(name);
    this.slots.delete(name);
    this.slotSequence++;
    if (rebuildIndex) this.index.rebuild(this.slots);
    this.viewAt[view.slot] = undefined;
    this.bumpEpoch(view.slot);
    this.freeSlots.push(view.slot);
    view.slot = -1;
    return true;
  }

  private lastSign(report: NodeReport, times: ReportTimes, previous: NodeView | undefined): number {
    const reported = Date.parse(report.reportedAt);
    const candidates = [times.heartbeatAtMs ?? 0, Number.isFinite(reported) ? reported : 0];
    const latest = Math.min(times.nowMs, Math.max(...candidates));
    return Math.max(latest, previous?.lastHeartbeatMs ?? 0);
  }

  /**
   * Validates one report against the current state. Returns the outcome and, for an accepted or
   * not-newer report, the view the node should have (a new one, or the current one).
   */
  private check(value: unknown, times: ReportTimes): { outcome: ApplyOutcome; view: NodeView | undefined } {
    const checked = value instanceof UnparsableReport ? undefined : validateNodeReport(value);
    if (checked === undefined || !checked.ok) {
      let name: string | undefined;
      if (value instanceof UnparsableReport) name = value.node;
      else if (isObject(value) && typeof value['nodeName'] === 'string') name = value['nodeName'];
      const errors = checked === undefined ? [`/: ${(value as UnparsableReport).reason}`] : checked.errors;
      // A node keeps its last valid report: an invalid one never replaces it (nor, in a reload, drops it).
      const current = name === undefined ? undefined : this.nodes.get(name);
      return { outcome: { kind: 'rejected', node: name, errors }, view: current };
    }
    const report = checked.value;
    const current = this.nodes.get(report.nodeName);
    if (current !== undefined && report.generation <= current.generation) {
      // Same or older report: keep the view (and its memo), but a newer sign of life counts.
      this.setHeartbeat(current, this.lastSign(report, times, current));
      return {
        outcome: {
          kind: 'not-newer',
          node: report.nodeName,
          generation: report.generation,
          current: current.generation,
        },
        view: current,
      };
    }
    const view = new NodeView(report, {
      version: ++this.sequence,
      lastHeartbeatMs: this.lastSign(report, times, current),
      staleAfterHeartbeats: this.staleAfterHeartbeats,
    });
    return { outcome: { kind: 'accepted', node: report.nodeName, generation: report.generation }, view };
  }

  private emit(outcome: ApplyOutcome): void {
    for (const l of this.listeners) l.onReport?.(outcome);
  }

  /** Validates and applies one report (a `report` event, or the in-memory store). */
  applyReport(value: unknown, times: ReportTimes): ApplyOutcome {
    const { outcome, view } = this.check(value, times);
    if (outcome.kind === 'accepted' && view !== undefined) this.install(view);
    this.emit(outcome);
    return outcome;
  }

  /** Records a heartbeat. Returns false for a node the snapshot does not hold. */
  heartbeat(node: string, atMs: number, nowMs: number): boolean {
    const view = this.nodes.get(node);
    if (view === undefined) return false;
    this.setHeartbeat(view, Math.max(view.lastHeartbeatMs, Math.min(atMs, nowMs)));
    return true;
  }

  /** Drops a node (its agent announced it left). Returns false when it was not held. */
  remove(node: string): boolean {
    const removed = this.uninstall(node);
    if (removed) {
      this.sequence++;
      for (const l of this.listeners) l.onRemoved?.(node);
    }
    return removed;
  }

  /**
   * Replaces the whole snapshot with `entries` (a full load or reload): nodes not listed are
   * dropped; a listed node keeps its current view when the entry is not newer (or invalid).
   */
  replaceAll(
    entries: Iterable<{ readonly report: unknown; readonly heartbeatAtMs?: number | undefined }>,
    nowMs: number,
  ) {
    const next = new Map<string, NodeView>();
    const outcomes: ApplyOutcome[] = [];
    for (const e of entries) {
      const { outcome, view } = this.check(e.report, { nowMs, heartbeatAtMs: e.heartbeatAtMs });
      outcomes.push(outcome);
      if (view !== undefined) next.set(view.name, view);
    }
    const gone = [...this.nodes.keys()].filter((name) => !next.has(name));
    const added = [...next.keys()].some((name) => !this.slots.has(name));
    this.bulk = true;
    try {
      for (const name of gone) this.uninstall(name, false);
      for (const view of next.values()) if (this.nodes.get(view.name) !== view) this.install(view);
    } finally {
      this.bulk = false;
    }
    if (gone.length > 0 || added) this.index.rebuild(this.slots, { replan: true });
    this.sequence++;
    for (const o of outcomes) this.emit(o);
    for (const l of this.listeners) l.onReload?.(this.nodes.size);
    return {
      accepted: outcomes.filter((o) => o.kind !== 'rejected').length,
      rejected: outcomes.filter((o) => o.kind === 'rejected').length,
    };
  }

  /** The interned shape of a request (memo key). */
  shapeOf(request: PodRequest): RequestShape {
    const shape = this.shapes.intern(request);
    shape.ensureCapacity(this.table.capacity);
    return shape;
  }

  /** The node's full decision for the shape, memoised per node. Time-independent (decision.ts). */
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

  /**
   * The node's decision for the shape as if the GPUs `taken` (PCI addresses) were not free either;
   * not memoised. Bind uses it after the ledger refused a plan whose GPU another replica had just
   * promised (GPU_TAKEN, docs/adr/0073); filter and prioritize never call it.
   */
  decideWithout(view: NodeView, shape: RequestShape, taken: ReadonlySet<string>): NodeDecision {
    if (taken.size === 0) return this.decide(view, shape);
    view.capacity ??= computeCapacity(view, this.reservations.forNode(view.name));
    const out = new Set(view.gpus.filter((g) => taken.has(g.pciAddress)).map((g) => g.index));
    const freeGpus = view.capacity.freeGpus.filter((i) => !out.has(i));
    return decideNode(view, { ...view.capacity, freeGpus }, shape.request, this.policy);
  }

  /**
   * The decision code (hot-table.ts) of the node in `slot` for `shape`, computing and
   * memoising it when the shape has none at the slot's current epoch. `shape` must come from
   * `shapeOf` (its memo sized to the table).
   */
  decisionCode(slot: number, shape: RequestShape): number {
    const epoch = this.table.epoch(slot);
    const memo = shape.memo;
    if (memo[2 * slot] === epoch) return memo[2 * slot + 1] ?? 0;
    const view = this.viewAt[slot];
    if (view === undefined) throw new Error(`no node in slot ${slot}`);
    const d = this.decide(view, shape);
    const code = d.feasible ? d.score : REJECTED + d.reason.id;
    memo[2 * slot] = epoch;
    memo[2 * slot + 1] = code;
    return code;
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

/**
 * kube-scheduler's scheduling queue, reduced: activeQ (priority, then arrival), backoffQ
 * (exponential, initial 1 s, max 10 s upstream; configurable so simulations can run fast) and
 * unschedulable pods that wait for a cluster event (`moveAllToActive`) or a flush interval.
 * One scheduling cycle at a time; bindings run concurrently, as upstream's binding cycles do.
 */
import type { SchedulerDriver, ScheduleResult } from './driver.js';
import type { PodLike } from './pod-resources.js';

export interface QueueOptions {
  readonly initialBackoffMs?: number;
  readonly maxBackoffMs?: number;
  /** Unschedulable pods are retried at least this often even without events (upstream: 5 min). */
  readonly unschedulableFlushMs?: number;
  readonly maxInFlightBinds?: number;
}

export interface QueueHooks {
  onScheduled?(pod: PodLike, result: Extract<ScheduleResult, { outcome: 'scheduled' }>): void;
  onBound?(pod: PodLike, node: string, bindMs: number): void;
  onBindFailed?(pod: PodLike, node: string, err: unknown): void;
  onUnschedulable?(
    pod: PodLike,
    result: Extract<ScheduleResult, { outcome: 'unschedulable' }>,
    attempts: number,
  ): void;
  onError?(pod: PodLike, message: string, attempts: number): void;
}

interface Entry {
  readonly pod: PodLike;
  readonly uid: string;
  readonly priority: number;
  readonly seq: number;
  attempts: number;
}

/** Before: higher priority first, then earlier arrival. */
function before(a: Entry, b: Entry): boolean {
  return a.priority > b.priority || (a.priority === b.priority && a.seq < b.seq);
}

/** activeQ: a binary heap (upstream uses one too), so a burst of thousands of pods stays O(log n). */
class ActiveHeap {
  private readonly items: Entry[] = [];

  get length(): number {
    return this.items.length;
  }

  push(e: Entry): void {
    const a = this.items;
    a.push(e);
    let i = a.length - 1;
    while (i > 0) {
      const parent = (i - 1) >> 1;
      if (!before(a[i] as Entry, a[parent] as Entry)) break;
      [a[i], a[parent]] = [a[parent] as Entry, a[i] as Entry];
      i = parent;
    }
  }

  pop(): Entry | undefined {
    const a = this.items;
    const top = a[0];
    const last = a.pop();
    if (a.length > 0 && last !== undefined) {
      a[0] = last;
      let i = 0;
      for (;;) {
        const l = 2 * i + 1;
        const r = l + 1;
        let m = i;
        if (l < a.length && before(a[l] as Entry, a[m] as Entry)) m = l;
        if (r < a.length && before(a[r] as Entry, a[m] as Entry)) m = r;
        if (m === i) break;
        [a[i], a[m]] = [a[m] as Entry, a[i] as Entry];
        i = m;
      }
    }
    return top;
  }

  /** Removes the entry with this UID (O(n); deletions of queued pods are rare). */
  remove(uid: string): void {
    const i = this.items.findIndex((e) => e.uid === uid);
    if (i < 0) return;
    const rest = this.items.splice(i);
    rest.shift();
    for (const e of rest) this.push(e);
  }
}

export class SchedulingQueue {
  private readonly active = new ActiveHeap();
  private readonly backoff = new Map<string, { entry: Entry; timer: NodeJS.Timeout }>();
  private readonly unschedulable = new Map<string, Entry>();
  private readonly known = new Set<string>();
  private readonly inFlight = new Set<Promise<unknown>>();
  private seq = 0;
  private running = false;
  private pumping: Promise<void> | undefined;
  private wake: (() => void) | undefined;
  private flushTimer: NodeJS.Timeout | undefined;
  private readonly initialBackoffMs: number;
  private readonly maxBackoffMs: number;
  private readonly maxInFlight: number;

  constructor(
    private readonly driver: SchedulerDriver,
    private readonly opts: QueueOptions = {},
    private readonly hooks: QueueHooks = {},
  ) {
    this.initialBackoffMs = opts.initialBackoffMs ?? 1000;
    this.maxBackoffMs = opts.maxBackoffMs ?? 10_000;
    this.maxInFlight = opts.maxInFlightBinds ?? 64;
  }

  add(pod: PodLike): void {
    const uid = pod.metadata?.uid ?? '';
    if (uid === '' || this.known.has(uid)) return;
    this.known.add(uid);
    const priority = (pod.spec as { priority?: number } | undefined)?.priority ?? 0;
    this.pushActive({ pod, uid, priority, seq: this.seq++, attempts: 0 });
  }

  /** The pod was deleted before it was scheduled. */
  remove(uid: string): void {
    this.known.delete(uid);
    this.active.remove(uid);
    const b = this.backoff.get(uid);
    if (b !== undefined) clearTimeout(b.timer);
    this.backoff.delete(uid);
    this.unschedulable.delete(uid);
  }

  /** A cluster event (pod ended, node changed): unschedulable pods get another try after backoff. */
  moveAllToActive(): void {
    for (const e of this.unschedulable.values()) this.toBackoff(e);
    this.unschedulable.clear();
  }

  get pending(): number {
    return this.active.length + this.backoff.size + this.unschedulable.size;
  }
  get pendingUnschedulable(): number {
    return this.unschedulable.size;
  }

  start(): void {
    if (this.running) return;
    this.running = true;
    const flush = this.opts.unschedulableFlushMs ?? 300_000;
    this.flushTimer = setInterval(() => this.moveAllToActive(), flush);
    this.flushTimer.unref();
    this.pumping = this.pump();
  }

  async stop(): Promise<void> {
    this.running = false;
    if (this.flushTimer !== undefined) clearInterval(this.flushTimer);
    for (const b of this.backoff.values()) clearTimeout(b.timer);
    this.wake?.();
    await this.pumping;
    await Promise.allSettled([...this.inFlight]);
  }

  /** Resolves when nothing is active or backing off and no binding is in flight. */
  async drained(pollMs = 5): Promise<void> {
    while (this.active.length > 0 || this.backoff.size > 0 || this.inFlight.size > 0) {
      await new Promise((r) => setTimeout(r, pollMs));
    }
  }

  private pushActive(e: Entry): void {
    this.active.push(e);
    this.wake?.();
  }

  private toBackoff(e: Entry): void {
    if (!this.known.has(e.uid)) return;
    const delay = Math.min(this.maxBackoffMs, this.initialBackoffMs * 2 ** Math.max(0, e.attempts - 1));
    const timer = setTimeout(() => {
      this.backoff.delete(e.uid);
      if (this.known.has(e.uid)) this.pushActive(e);
    }, delay);
    this.backoff.set(e.uid, { entry: e, timer });
  }

  private async pump(): Promise<void> {
    while (this.running) {
      const e = this.inFlight.size >= this.maxInFlight ? undefined : this.active.pop();
      if (e === undefined) {
        await new Promise<void>((r) => {
          this.wake = r;
          if (this.inFlight.size >= this.maxInFlight) void Promise.race(this.inFlight).finally(r);
        });
        this.wake = undefined;
        continue;
      }
      e.attempts++;
      const result = await this.driver.scheduleOne(e.pod);
      if (!this.known.has(e.uid)) continue;
      if (result.outcome === 'scheduled') {
        this.hooks.onScheduled?.(e.pod, result);
        const p = result.bound.then(
          ({ bindMs }) => {
            this.known.delete(e.uid);
            this.hooks.onBound?.(e.pod, result.node, bindMs);
          },
          (err: unknown) => {
            this.hooks.onBindFailed?.(e.pod, result.node, err);
            this.toBackoff(e);
          },
        );
        this.inFlight.add(p);
        void p.finally(() => this.inFlight.delete(p));
      } else if (result.outcome === 'unschedulable') {
        this.hooks.onUnschedulable?.(e.pod, result, e.attempts);
        this.unschedulable.set(e.uid, e);
      } else {
        this.hooks.onError?.(e.pod, result.message, e.attempts);
        this.toBackoff(e);
      }
    }
  }
}

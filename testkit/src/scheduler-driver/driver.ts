/**
 * A stand-in for kube-scheduler towards the extender (tests, simulation, benchmarks only; never
 * shipped). One scheduling cycle per pod, as pkg/scheduler/schedule_one.go does it:
 *   in-tree filters from a rotating start index until numFeasibleNodesToFind nodes fit
 *   -> extender filter on those -> in-tree scores + extender score × weight × 10
 *   -> highest score, random tie-break (reservoir) -> assume -> bind (extender bindVerb or API).
 * Binding runs after the cycle returns, as upstream's binding cycle does.
 */
import { ExtenderClient, type ExtenderConfig } from './extender-client.js';
import { inTreeFilter, inTreeScore, MAX_NODE_SCORE, type PodInfo } from './in-tree.js';
import { NodeCache, type CachedNode, type NodeLike } from './node-cache.js';
import { podRequests, requestsAnyOf, type PodLike } from './pod-resources.js';
import { numFeasibleNodesToFind } from './sampling.js';

export interface SchedulerDriverOptions {
  readonly extender?: ExtenderConfig;
  /** 0 = upstream adaptive default. */
  readonly percentageOfNodesToScore?: number;
  /** Seeded randomness for the tie-break; default Math.random. */
  readonly random?: () => number;
  /** Creates the Binding when no extender has a bindVerb (e.g. POST pods/binding on the API). */
  readonly bind?: (pod: { name: string; namespace: string; uid: string }, node: string) => Promise<void>;
  /** Feeds the in-tree score; false = extender score only (to isolate its effect). Default true. */
  readonly inTreeScoring?: boolean;
}

export interface CycleTimings {
  readonly totalMs: number;
  readonly extenderFilterMs: number;
  readonly extenderPrioritizeMs: number;
}

export type ScheduleResult =
  | {
      readonly outcome: 'scheduled';
      readonly node: string;
      readonly timings: CycleTimings;
      /** Settles when the binding cycle ends; rejects when binding failed (the pod is forgotten). */
      readonly bound: Promise<{ bindMs: number }>;
    }
  | {
      readonly outcome: 'unschedulable';
      /** Upstream-style: `0/12 nodes are available: 8 Insufficient cpu, 4 <extender reason>.` */
      readonly message: string;
      /** node -> reason, for the nodes that were checked. */
      readonly reasons: ReadonlyMap<string, string>;
      /** True when every rejection was unresolvable (preemption cannot help). */
      readonly unresolvable: boolean;
      readonly timings: CycleTimings;
    }
  | { readonly outcome: 'error'; readonly message: string; readonly timings: CycleTimings };

function mulberryFallback(): () => number {
  return Math.random;
}

export class SchedulerDriver {
  readonly cache = new NodeCache();
  private readonly extender: ExtenderClient | undefined;
  private readonly ignored: ReadonlySet<string>;
  private readonly random: () => number;
  private nextStartNodeIndex = 0;

  constructor(private readonly opts: SchedulerDriverOptions = {}) {
    this.extender = opts.extender ? new ExtenderClient(opts.extender) : undefined;
    this.ignored = this.extender?.ignoredResources() ?? new Set();
    this.random = opts.random ?? mulberryFallback();
    if (opts.extender?.bindVerb === undefined && opts.bind === undefined)
      throw new Error('SchedulerDriver needs a binder: an extender bindVerb or the bind option');
  }

  upsertNode(node: NodeLike): void {
    this.cache.upsertNode(node);
  }
  removeNode(name: string): void {
    this.cache.removeNode(name);
  }
  /** The pod ended or was deleted: its requests leave the cache. */
  forgetPod(uid: string): void {
    this.cache.forget(uid);
  }

  close(): void {
    this.extender?.close();
  }

  async scheduleOne(pod: PodLike): Promise<ScheduleResult> {
    const started = performance.now();
    let filterMs = 0;
    let prioritizeMs = 0;
    const timings = (): CycleTimings => ({
      totalMs: performance.now() - started,
      extenderFilterMs: filterMs,
      extenderPrioritizeMs: prioritizeMs,
    });
    const meta = {
      name: pod.metadata?.name ?? '',
      namespace: pod.metadata?.namespace ?? 'default',
      uid: pod.metadata?.uid ?? '',
    };
    if (meta.uid === '' || meta.name === '')
      return { outcome: 'error', message: 'pod has no name or uid', timings: timings() };

    const spec = pod.spec as (PodLike['spec'] & { nodeSelector?: Record<string, string> }) | undefined;
    const info: PodInfo = {
      pod,
      requests: podRequests(pod),
      ...(spec?.nodeSelector ? { nodeSelector: spec.nodeSelector } : {}),
    };
    const all = this.cache.list();
    const reasons = new Map<string, string>();
    let unresolvableCount = 0;
    if (all.length === 0) return this.unschedulable(0, reasons, false, timings());

    // 1. in-tree filters, stopping at numFeasibleNodesToFind.
    const toFind = numFeasibleNodesToFind(this.opts.percentageOfNodesToScore ?? 0, all.length);
    let feasible: CachedNode[] = [];
    let processed = 0;
    for (let i = 0; i < all.length && feasible.length < toFind; i++) {
      const node = all[(this.nextStartNodeIndex + i) % all.length];
      if (node === undefined) continue;
      processed++;
      const reason = inTreeFilter(info, node, this.ignored);
      if (reason === undefined) feasible.push(node);
      else reasons.set(node.name, reason);
    }
    this.nextStartNodeIndex = (this.nextStartNodeIndex + processed) % all.length;

    // 2. extender filter on the feasible set.
    const ext =
      this.extender !== undefined && this.extender.isInterested(pod, requestsAnyOf)
        ? this.extender
        : undefined;
    if (ext?.config.filterVerb !== undefined && feasible.length > 0) {
      const t = performance.now();
      try {
        const byName = new Map(feasible.map((n) => [n.name, n]));
        const answer = await ext.filter(
          pod,
          feasible.map((n) => n.name),
          () => feasible.map((n) => n.node),
        );
        feasible = answer.feasible.map((n) => byName.get(n)).filter((n): n is CachedNode => n !== undefined);
        for (const [n, r] of Object.entries(answer.failed)) reasons.set(n, r);
        for (const [n, r] of Object.entries(answer.failedAndUnresolvable)) {
          reasons.set(n, r);
          unresolvableCount++;
        }
      } catch (err: unknown) {
        filterMs = performance.now() - t;
        if (ext.config.ignorable !== true)
          return {
            outcome: 'error',
            message: err instanceof Error ? err.message : String(err),
            timings: timings(),
          };
      }
      filterMs = performance.now() - t;
    }
    if (feasible.length === 0)
      return this.unschedulable(
        all.length,
        reasons,
        unresolvableCount > 0 && unresolvableCount === reasons.size,
        timings(),
      );

    // 3. scores, 4. select host.
    let selected: CachedNode;
    if (feasible.length === 1) {
      selected = feasible[0] as CachedNode;
    } else {
      const scores = new Map<string, number>();
      for (const n of feasible)
        scores.set(n.name, this.opts.inTreeScoring === false ? 0 : inTreeScore(info, n));
      if (ext?.config.prioritizeVerb !== undefined) {
        const t = performance.now();
        try {
          const list = await ext.prioritize(
            pod,
            feasible.map((n) => n.name),
            () => feasible.map((n) => n.node),
          );
          const factor = ext.config.weight * (MAX_NODE_SCORE / 10);
          for (const hp of list) {
            const cur = scores.get(hp.host);
            if (cur !== undefined && Number.isFinite(hp.score)) scores.set(hp.host, cur + hp.score * factor);
          }
        } catch {
          // Prioritize errors are ignored upstream: other plugins decide.
        }
        prioritizeMs = performance.now() - t;
      }
      selected = this.selectHost(feasible, scores);
    }

    // 5. assume, 6. bind in the background.
    this.cache.assume(meta.uid, pod, selected.name);
    const bound = this.bindPod(meta, selected.name);
    bound.catch(() => undefined); // the caller observes it; never an unhandled rejection
    return { outcome: 'scheduled', node: selected.name, timings: timings(), bound };
  }

  private async bindPod(
    meta: { name: string; namespace: string; uid: string },
    node: string,
  ): Promise<{ bindMs: number }> {
    const t = performance.now();
    try {
      if (this.extender?.config.bindVerb !== undefined) await this.extender.bind(meta, node);
      else if (this.opts.bind !== undefined) await this.opts.bind(meta, node);
    } catch (err: unknown) {
      this.cache.forget(meta.uid);
      throw err;
    }
    return { bindMs: performance.now() - t };
  }

  /** Highest score wins; ties broken uniformly at random (reservoir sampling, as upstream). */
  private selectHost(nodes: readonly CachedNode[], scores: ReadonlyMap<string, number>): CachedNode {
    let best = nodes[0] as CachedNode;
    let bestScore = scores.get(best.name) ?? 0;
    let ties = 1;
    for (let i = 1; i < nodes.length; i++) {
      const n = nodes[i] as CachedNode;
      const s = scores.get(n.name) ?? 0;
      if (s > bestScore) {
        best = n;
        bestScore = s;
        ties = 1;
      } else if (s === bestScore) {
        ties++;
        if (Math.floor(this.random() * ties) === 0) best = n;
      }
    }
    return best;
  }

  private unschedulable(
    total: number,
    reasons: ReadonlyMap<string, string>,
    unresolvable: boolean,
    timings: CycleTimings,
  ): ScheduleResult {
    const counts = new Map<string, number>();
    for (const r of reasons.values()) counts.set(r, (counts.get(r) ?? 0) + 1);
    const parts = [...counts.entries()].sort(([a], [b]) => a.localeCompare(b)).map(([r, c]) => `${c} ${r}`);
    const message = `0/${total} nodes are available${parts.length > 0 ? `: ${parts.join(', ')}` : ''}.`;
    return { outcome: 'unschedulable', message, reasons, unresolvable, timings };
  }
}

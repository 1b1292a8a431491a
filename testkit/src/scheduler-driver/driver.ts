/**
 * A stand-in for kube-scheduler towards extenders (tests, simulation, benchmarks only; never
 * shipped). One scheduling cycle per pod, as pkg/scheduler/schedule_one.go does it:
 *   in-tree filters from a rotating start index until numFeasibleNodesToFind nodes fit
 *   -> each interested extender's filter on those, in order, each narrowing the set
 *   -> in-tree scores + every interested extender's score × weight × 10
 *   -> highest score, random tie-break (reservoir) -> assume -> bind (the binder extender's
 *      bindVerb, or the default binder: POST pods/binding).
 * Binding runs after the cycle returns, as upstream's binding cycle does. Differences from
 * kube-scheduler are listed in testkit/README.md.
 */
import {
  ExtenderClient,
  validateExtenders,
  type Candidates,
  type ExtenderConfig,
} from './extender-client.js';
import { FIT, inTreeFilter, inTreeScore, MAX_NODE_SCORE, reasonText, type PodInfo } from './in-tree.js';
import { NodeCache, type CachedNode, type NodeLike } from './node-cache.js';
import { requestsAnyOf, type PodLike } from './pod-resources.js';
import { numFeasibleNodesToFind } from './sampling.js';

export interface SchedulerDriverOptions {
  /** One extender (shorthand for `extenders: [extender]`). */
  readonly extender?: ExtenderConfig;
  /** Extenders in the order kube-scheduler calls them; at most one may have a bindVerb. */
  readonly extenders?: readonly ExtenderConfig[];
  /** 0 = upstream adaptive default. */
  readonly percentageOfNodesToScore?: number;
  /** Seeded randomness for the tie-break; default Math.random. */
  readonly random?: () => number;
  /** The default binder (POST pods/binding on the API), used when no interested extender binds. */
  readonly bind?: (pod: { name: string; namespace: string; uid: string }, node: string) => Promise<void>;
  /** Feeds the in-tree score; false = extender score only (to isolate its effect). Default true. */
  readonly inTreeScoring?: boolean;
}

export interface CycleTimings {
  readonly totalMs: number;
  readonly extenderFilterMs: number;
  readonly extenderPrioritizeMs: number;
  /** Nodes the in-tree filters looked at. */
  readonly nodesEvaluated: number;
  /** Nodes sent to the first extender filter (0 when none was called). */
  readonly extenderCandidates: number;
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

export class SchedulerDriver {
  readonly cache = new NodeCache();
  private readonly extenders: readonly ExtenderClient[];
  private readonly binder: ExtenderClient | undefined;
  /** 1 at the index of every resource the in-tree fit check skips. */
  private ignored = new Uint8Array(0);
  private readonly ignoredNames: ReadonlySet<string>;
  private readonly random: () => number;
  private nextStartNodeIndex = 0;
  /** Scores by node position, reused across cycles (only feasible positions are written and read). */
  private scores = new Float64Array(0);

  constructor(private readonly opts: SchedulerDriverOptions = {}) {
    const configs = [...(opts.extender ? [opts.extender] : []), ...(opts.extenders ?? [])];
    const problems = validateExtenders(configs);
    if (problems.length > 0) throw new Error(`invalid extender configuration: ${problems.join('; ')}`);
    this.extenders = configs.map((c) => new ExtenderClient(c));
    this.binder = this.extenders.find((e) => e.config.bindVerb !== undefined && e.config.bindVerb !== '');
    this.ignoredNames = new Set(this.extenders.flatMap((e) => [...e.ignoredResources()]));
    this.random = opts.random ?? Math.random;
    if (this.binder === undefined && opts.bind === undefined)
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
    for (const e of this.extenders) e.close();
  }

  private ignoredMask(): Uint8Array {
    const size = this.cache.resources.size;
    if (this.ignored.length < size) {
      const mask = new Uint8Array(Math.max(size, 16));
      for (const name of this.ignoredNames) {
        const i = this.cache.resources.intern(name);
        if (i < mask.length) mask[i] = 1;
      }
      this.ignored = mask;
      if (this.cache.resources.size > mask.length) return this.ignoredMask();
    }
    return this.ignored;
  }

  /**
   * One scheduling cycle. `podJson` is the pod as it is sent to extenders (JSON.stringify(pod)
   * when left out).
   */
  async scheduleOne(pod: PodLike, podJson?: string): Promise<ScheduleResult> {
    const started = performance.now();
    let filterMs = 0;
    let prioritizeMs = 0;
    let evaluated = 0;
    let extenderCandidates = 0;
    const timings = (): CycleTimings => ({
      totalMs: performance.now() - started,
      extenderFilterMs: filterMs,
      extenderPrioritizeMs: prioritizeMs,
      nodesEvaluated: evaluated,
      extenderCandidates,
    });
    const meta = {
      name: pod.metadata?.name ?? '',
      namespace: pod.metadata?.namespace ?? 'default',
      uid: pod.metadata?.uid ?? '',
    };
    if (meta.uid === '' || meta.name === '')
      return { outcome: 'error', message: 'pod has no name or uid', timings: timings() };

    const spec = pod.spec as
      (PodLike['spec'] & { nodeSelector?: Record<string, string>; nodeName?: string }) | undefined;
    const requests = this.cache.requestsOf(pod);
    const ignored = this.ignoredMask();
    const info: PodInfo = {
      pod,
      requests,
      ...(spec?.nodeSelector ? { nodeSelector: spec.nodeSelector } : {}),
    };
    const all = this.cache.list();
    const n = all.length;
    // In-tree rejections: node positions and codes (texts are made only when the pod fails).
    const rejectedAt: number[] = [];
    const rejectedCode: number[] = [];
    const extenderReasons = new Map<string, string>();
    let unresolvableCount = 0;
    if (n === 0) return this.unschedulable(0, [], [], extenderReasons, 0, timings());

    // 1. in-tree filters, stopping at numFeasibleNodesToFind.
    const toFind = numFeasibleNodesToFind(this.opts.percentageOfNodesToScore ?? 0, n);
    let feasible: CachedNode[] = [];
    const start = this.nextStartNodeIndex;
    for (let i = 0; i < n && feasible.length < toFind; i++) {
      const node = all[(start + i) % n] as CachedNode;
      evaluated++;
      const code = inTreeFilter(info, node, ignored);
      if (code === FIT) feasible.push(node);
      else {
        rejectedAt.push(node.position);
        rejectedCode.push(code);
      }
    }
    this.nextStartNodeIndex = (start + evaluated) % n;

    // 2. each interested extender's filter, in order, on what is left.
    const interested = this.extenders.filter((e) => e.isInterested(pod, requestsAnyOf));
    const json = interested.length > 0 ? (podJson ?? JSON.stringify(pod)) : '';
    for (const ext of interested) {
      if (ext.config.filterVerb === undefined || ext.config.filterVerb === '' || feasible.length === 0)
        continue;
      const t = performance.now();
      if (extenderCandidates === 0) extenderCandidates = feasible.length;
      try {
        const answer = await ext.filter(json, this.candidates(feasible));
        const next: CachedNode[] = [];
        for (const name of answer.feasible) {
          const node = this.cache.get(name);
          if (node !== undefined) next.push(node);
        }
        feasible = next;
        for (const [name, r] of Object.entries(answer.failed)) extenderReasons.set(name, r);
        for (const [name, r] of Object.entries(answer.failedAndUnresolvable)) {
          extenderReasons.set(name, r);
          unresolvableCount++;
        }
      } catch (err: unknown) {
        filterMs += performance.now() - t;
        if (ext.config.ignorable === true) continue;
        return {
          outcome: 'error',
          message: err instanceof Error ? err.message : String(err),
          timings: timings(),
        };
      }
      filterMs += performance.now() - t;
    }
    if (feasible.length === 0)
      return this.unschedulable(n, rejectedAt, rejectedCode, extenderReasons, unresolvableCount, timings());

    // 3. scores (skipped for a single feasible node, as upstream), 4. select host.
    let selected: CachedNode;
    if (feasible.length === 1) {
      selected = feasible[0] as CachedNode;
    } else {
      if (this.scores.length < n) this.scores = new Float64Array(n);
      const scores = this.scores;
      const inTree = this.opts.inTreeScoring !== false;
      for (const node of feasible) scores[node.position] = inTree ? inTreeScore(info, node) : 0;
      const prioritizers = interested.filter(
        (e) => e.config.prioritizeVerb !== undefined && e.config.prioritizeVerb !== '',
      );
      if (prioritizers.length > 0) {
        const t = performance.now();
        const candidates = this.candidates(feasible);
        // Upstream runs the extenders' prioritize calls in parallel and ignores their errors.
        const lists = await Promise.all(
          prioritizers.map((e) => e.prioritize(json, candidates).catch(() => undefined)),
        );
        lists.forEach((list, k) => {
          if (list === undefined) return;
          const factor = (prioritizers[k] as ExtenderClient).config.weight * (MAX_NODE_SCORE / 10);
          for (const hp of list) {
            const node = this.cache.get(hp.host);
            if (node !== undefined && Number.isFinite(hp.score))
              scores[node.position] = (scores[node.position] ?? 0) + hp.score * factor;
          }
        });
        prioritizeMs = performance.now() - t;
      }
      selected = this.selectHost(feasible, scores);
    }

    // 5. assume, 6. bind in the background.
    this.cache.assume(meta.uid, requests, selected.name);
    const binder = this.binder !== undefined && interested.includes(this.binder) ? this.binder : undefined;
    const bound = this.bindPod(meta, selected.name, binder);
    bound.catch(() => undefined); // the caller observes it; never an unhandled rejection
    return { outcome: 'scheduled', node: selected.name, timings: timings(), bound };
  }

  private candidates(nodes: readonly CachedNode[]): Candidates {
    return {
      names: nodes.map((x) => x.name),
      namesJson: nodes.map((x) => x.nameJson),
      nodes: () => nodes.map((x) => x.node),
    };
  }

  private async bindPod(
    meta: { name: string; namespace: string; uid: string },
    node: string,
    binder: ExtenderClient | undefined,
  ): Promise<{ bindMs: number }> {
    const t = performance.now();
    try {
      if (binder !== undefined) await binder.bind(meta, node);
      else if (this.opts.bind !== undefined) await this.opts.bind(meta, node);
      else
        throw new Error(
          'no binder: the binding extender is not interested in this pod and no default binder is set',
        );
    } catch (err: unknown) {
      this.cache.forget(meta.uid);
      throw err;
    }
    return { bindMs: performance.now() - t };
  }

  /** Highest score wins; ties broken uniformly at random (reservoir sampling, as upstream). */
  private selectHost(nodes: readonly CachedNode[], scores: Float64Array): CachedNode {
    let best = nodes[0] as CachedNode;
    let bestScore = scores[best.position] ?? 0;
    let ties = 1;
    for (let i = 1; i < nodes.length; i++) {
      const node = nodes[i] as CachedNode;
      const s = scores[node.position] ?? 0;
      if (s > bestScore) {
        best = node;
        bestScore = s;
        ties = 1;
      } else if (s === bestScore) {
        ties++;
        if (Math.floor(this.random() * ties) === 0) best = node;
      }
    }
    return best;
  }

  private unschedulable(
    total: number,
    rejectedAt: readonly number[],
    rejectedCode: readonly number[],
    extenderReasons: ReadonlyMap<string, string>,
    unresolvableCount: number,
    timings: CycleTimings,
  ): ScheduleResult {
    const all = this.cache.list();
    const reasons = new Map<string, string>();
    rejectedAt.forEach((pos, i) => {
      const node = all[pos];
      if (node !== undefined) reasons.set(node.name, reasonText(rejectedCode[i] ?? 0, this.cache.resources));
    });
    for (const [name, r] of extenderReasons) reasons.set(name, r);
    const counts = new Map<string, number>();
    for (const r of reasons.values()) counts.set(r, (counts.get(r) ?? 0) + 1);
    const parts = [...counts.entries()].sort(([a], [b]) => a.localeCompare(b)).map(([r, c]) => `${c} ${r}`);
    const message = `0/${total} nodes are available${parts.length > 0 ? `: ${parts.join(', ')}` : ''}.`;
    const unresolvable = unresolvableCount > 0 && unresolvableCount === reasons.size;
    return { outcome: 'unschedulable', message, reasons, unresolvable, timings };
  }
}

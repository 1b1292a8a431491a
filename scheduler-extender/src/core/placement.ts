/**
 * Where on one node a pod's VFs and GPUs would go: the plan a reservation will later take.
 *
 * 1. Locality first. GPUs with the same distances to every candidate PF are interchangeable, so
 *    free GPUs are grouped into buckets and every choice of min(gpus, buckets) buckets is tried
 *    (at most MAX_GPU_COMBINATIONS; beyond that a greedy choice per class, documented as such).
 *    For each choice, a PF's class is its distance to the nearest chosen GPU; the plan's class is
 *    the worst class over the PFs it uses. The lowest class at which the VF counts fit wins
 *    (`required` allows PIX and PXB only).
 * 2. Then, among plans of that class, the highest score (score.ts): for every rate cap (best fit
 *    for `min-rate-gbps`), "only already-held PFs" (pack) or not, and "only ready VFs" or not,
 *    the VFs are allocated greedily. Each variant is checked exactly for feasibility, so the
 *    search returns the best plan over all plans of the best class, not a heuristic one.
 *
 * Pure: no clock, no I/O.
 */
import {
  DISTANCE_CLASSES,
  distanceRank,
  GDR_MAX_CLASS,
  LINK_TYPES,
  type DistanceClass,
  type LinkType,
} from '@rdmasched/contracts';
import type { NodeCapacity } from './capacity.js';
import type { NodeView } from './node-view.js';
import type { PodRequest } from './pod-request.js';
import { rateFit, scoreOf, type PackingPolicy, type ScoreBreakdown } from './score.js';

export interface PlannedPf {
  readonly pfIndex: number;
  readonly pciAddress: string;
  readonly linkType: LinkType;
  readonly count: number;
  /** The PF needs provisioning (VFs created or configured) before the pod can have them. */
  readonly provision: boolean;
}

export interface Plan {
  readonly pfs: readonly PlannedPf[];
  /** PCI addresses of the GPUs the VFs were aligned with. */
  readonly gpus: readonly string[];
  /** Worst VF -> nearest chosen GPU class; null when locality does not apply. */
  readonly distance: DistanceClass | null;
  readonly needsProvisioning: boolean;
  /** Fastest port the plan uses, in Gb/s. */
  readonly fastestRateGbps: number;
}

export interface Placement {
  readonly plan: Plan;
  readonly breakdown: ScoreBreakdown;
}

export interface PlacementInput {
  readonly view: NodeView;
  readonly capacity: NodeCapacity;
  readonly request: PodRequest;
  readonly policy: PackingPolicy;
  /** Indices (into view.gpus) of the GPUs the plan may use. */
  readonly gpus: readonly number[];
}

/** Most GPU-bucket combinations tried exactly; larger searches fall back to a greedy choice. */
export const MAX_GPU_COMBINATIONS = 512;

const NO_CLASS = 127;

interface Bucket {
  /** GPUs with identical distances to every candidate PF. */
  readonly gpus: number[];
  /** Distance rank to every PF, indexed like view.pfs. */
  readonly row: Uint8Array;
}

interface Best {
  alloc: Int32Array;
  gpus: number[];
  distance: DistanceClass | null;
  needsProvisioning: boolean;
  fastest: number;
  breakdown: ScoreBreakdown;
}

function requestedTypes(request: PodRequest): LinkType[] {
  return LINK_TYPES.filter((t) => request.vfs[t] > 0);
}

/** True when the PFs in `set` can give every requested link type its count from `per`. */
function countsFit(view: NodeView, request: PodRequest, set: readonly number[], per: Int32Array): boolean {
  let ib = 0;
  let roce = 0;
  for (const p of set) {
    if (view.pfs[p]?.linkType === 'ib') ib += per[p] ?? 0;
    else roce += per[p] ?? 0;
  }
  return ib >= request.vfs.ib && roce >= request.vfs.roce;
}

/** u = (held + requested) / capacity over the usable PFs of the requested link types. */
export function utilisationOf(view: NodeView, capacity: NodeCapacity, request: PodRequest): number {
  let held = 0;
  let cap = 0;
  for (const t of requestedTypes(request)) {
    for (const p of view.pfsByLinkType[t]) {
      const pf = view.pfs[p];
      if (pf === undefined || pf.rateGbps < request.minRateGbps || capacity.blocked[p] !== null) continue;
      const h = capacity.held[p] ?? 0;
      held += h;
      cap += h + (capacity.avail[p] ?? 0);
    }
  }
  if (cap <= 0) return 1;
  return Math.min(1, (held + request.totalVfs) / cap);
}

function bucketGpus(view: NodeView, gpus: readonly number[], cand: readonly number[]): Bucket[] {
  const nPf = view.pfs.length;
  const byKey = new Map<string, Bucket>();
  for (const g of gpus) {
    const row = view.distance.subarray(g * nPf, (g + 1) * nPf);
    let key = '';
    for (const p of cand) key += String.fromCharCode(48 + (row[p] ?? 0));
    const b = byKey.get(key);
    if (b === undefined) byKey.set(key, { gpus: [g], row });
    else b.gpus.push(g);
  }
  return [...byKey.values()];
}

function binomial(n: number, k: number): number {
  let r = 1;
  for (let i = 1; i <= k; i++) r = (r * (n - k + i)) / i;
  return Math.round(r);
}

/** Every k-subset of 0..n-1, lexicographic. */
function combinations(n: number, k: number): number[][] {
  const out: number[][] = [];
  const idx = Array.from({ length: k }, (_, i) => i);
  if (k === 0) return [[]];
  for (;;) {
    out.push(idx.slice());
    let i = k - 1;
    while (i >= 0 && idx[i] === n - k + i) i--;
    if (i < 0) return out;
    idx[i] = (idx[i] ?? 0) + 1;
    for (let j = i + 1; j < k; j++) idx[j] = (idx[j - 1] ?? 0) + 1;
  }
}

/** Per-PF class to the nearest bucket of `combo` (NO_CLASS for PFs outside `cand`). */
function classesFor(
  view: NodeView,
  buckets: readonly Bucket[],
  combo: readonly number[],
  cand: readonly number[],
) {
  const cls = new Uint8Array(view.pfs.length).fill(NO_CLASS);
  for (const p of cand) {
    let c = NO_CLASS;
    for (const b of combo) c = Math.min(c, buckets[b]?.row[p] ?? NO_CLASS);
    cls[p] = c;
  }
  return cls;
}

/** Greedy stand-in for huge searches: per class, add the bucket that covers the most VFs. */
function greedyCombos(
  view: NodeView,
  buckets: readonly Bucket[],
  k: number,
  cand: readonly number[],
  avail: Int32Array,
  maxClass: number,
): number[][] {
  const out: number[][] = [];
  for (let c = 0; c <= maxClass; c++) {
    const chosen: number[] = [];
    const covered = new Set<number>();
    while (chosen.length < k) {
      let bestB = -1;
      let bestGain = -1;
      buckets.forEach((b, i) => {
        if (chosen.includes(i)) return;
        let gain = 0;
        for (const p of cand) if (!covered.has(p) && (b.row[p] ?? NO_CLASS) <= c) gain += avail[p] ?? 0;
        if (gain > bestGain) {
          bestGain = gain;
          bestB = i;
        }
      });
      if (bestB < 0) break;
      chosen.push(bestB);
      for (const p of cand) if ((buckets[bestB]?.row[p] ?? NO_CLASS) <= c) covered.add(p);
    }
    out.push(chosen);
  }
  return out;
}

/** Finds the best plan, or undefined when none fits (counts, GPUs or `required` locality). */
export function place(input: PlacementInput): Placement | undefined {
  const { view, capacity, request, policy } = input;
  const { avail, readyFree, held } = capacity;
  const types = requestedTypes(request);
  if (input.gpus.length < request.gpus) return undefined;
  const cand: number[] = [];
  for (const t of types) {
    for (const p of view.pfsByLinkType[t]) {
      const pf = view.pfs[p];
      if (pf !== undefined && pf.rateGbps >= request.minRateGbps && (avail[p] ?? 0) > 0) cand.push(p);
    }
  }
  if (!countsFit(view, request, cand, avail)) return undefined;
  const utilisation = utilisationOf(view, capacity, request);
  const useLocality = request.gpus > 0 && request.gpuLocality !== 'none';
  const nPf = view.pfs.length;
  let best: Best | undefined;

  const allocate = (set: readonly number[], readyOnly: boolean, cls: Uint8Array | undefined): Int32Array => {
    const x = new Int32Array(nPf);
    for (const t of types) {
      const list = set.filter((p) => view.pfs[p]?.linkType === t);
      list.sort((a, b) => {
        if (cls !== undefined && cls[a] !== cls[b]) return (cls[a] ?? 0) - (cls[b] ?? 0);
        const ha = (held[a] ?? 0) > 0 ? 0 : 1;
        const hb = (held[b] ?? 0) > 0 ? 0 : 1;
        if (policy === 'pack') {
          if (ha !== hb) return ha - hb;
          if (avail[a] !== avail[b]) return (avail[a] ?? 0) - (avail[b] ?? 0);
        } else if (avail[a] !== avail[b]) {
          return (avail[b] ?? 0) - (avail[a] ?? 0);
        }
        return a - b;
      });
      let need = request.vfs[t];
      for (const p of list) {
        if (need === 0) break;
        const take = Math.min(need, readyFree[p] ?? 0);
        x[p] = (x[p] ?? 0) + take;
        need -= take;
      }
      if (!readyOnly) {
        for (const p of list) {
          if (need === 0) break;
          const take = Math.min(need, (avail[p] ?? 0) - (x[p] ?? 0));
          x[p] = (x[p] ?? 0) + take;
          need -= take;
        }
      }
    }
    return x;
  };

  const chooseGpus = (reps: readonly number[], x: Int32Array): number[] => {
    const chosen = reps.slice(0, request.gpus);
    if (chosen.length >= request.gpus) return chosen;
    const nearest = (g: number): number => {
      let c = NO_CLASS;
      for (let p = 0; p < nPf; p++)
        if ((x[p] ?? 0) > 0) c = Math.min(c, view.distance[g * nPf + p] ?? NO_CLASS);
      return c;
    };
    const rest = input.gpus.filter((g) => !chosen.includes(g));
    rest.sort((a, b) => nearest(a) - nearest(b) || a - b);
    for (const g of rest) {
      if (chosen.length >= request.gpus) break;
      chosen.push(g);
    }
    return chosen;
  };

  const consider = (set: readonly number[], cls: Uint8Array | undefined, reps: readonly number[]): void => {
    const rateCaps =
      request.minRateGbps > 0
        ? [...new Set(set.map((p) => view.pfs[p]?.rateGbps ?? 0))].sort((a, b) => a - b)
        : [Infinity];
    for (const cap of rateCaps) {
      const capped = set.filter((p) => (view.pfs[p]?.rateGbps ?? 0) <= cap);
      if (!countsFit(view, request, capped, avail)) continue;
      for (const heldOnly of policy === 'pack' ? [true, false] : [false]) {
        const pool = heldOnly ? capped.filter((p) => (held[p] ?? 0) > 0) : capped;
        for (const readyOnly of [true, false]) {
          if (!countsFit(view, request, pool, readyOnly ? readyFree : avail)) continue;
          const x = allocate(pool, readyOnly, cls);
          const gpus = chooseGpus(reps, x);
          let needsProvisioning = false;
          let onlyHeld = true;
          let fastest = 0;
          let worst = 0;
          for (let p = 0; p < nPf; p++) {
            const n = x[p] ?? 0;
            if (n === 0) continue;
            if (n > (readyFree[p] ?? 0)) needsProvisioning = true;
            if ((held[p] ?? 0) === 0) onlyHeld = false;
            fastest = Math.max(fastest, view.pfs[p]?.rateGbps ?? 0);
            if (useLocality) {
              let c = NO_CLASS;
              for (const g of gpus) c = Math.min(c, view.distance[g * nPf + p] ?? NO_CLASS);
              worst = Math.max(worst, c);
            }
          }
          const distance = useLocality ? (DISTANCE_CLASSES[worst] ?? 'SYS') : null;
          const breakdown = scoreOf({
            distance,
            rateFit: rateFit(request.minRateGbps, fastest),
            readyNow: !needsProvisioning,
            utilisation,
            onlyHeldPfs: onlyHeld,
            policy,
          });
          if (best === undefined || breakdown.total > best.breakdown.total) {
            best = { alloc: x, gpus, distance, needsProvisioning, fastest, breakdown };
          }
        }
      }
    }
  };

  if (!useLocality) {
    consider(cand, undefined, []);
  } else {
    const maxClass =
      request.gpuLocality === 'required' ? distanceRank(GDR_MAX_CLASS) : DISTANCE_CLASSES.length - 1;
    const buckets = bucketGpus(view, input.gpus, cand);
    const k = Math.min(request.gpus, buckets.length);
    const combos =
      binomial(buckets.length, k) <= MAX_GPU_COMBINATIONS
        ? combinations(buckets.length, k)
        : greedyCombos(view, buckets, k, cand, avail, maxClass);
    let bestClass = NO_CLASS;
    const classes: { cls: Uint8Array; combo: number[]; at: number }[] = [];
    for (const combo of combos) {
      const cls = classesFor(view, buckets, combo, cand);
      const limit = Math.min(maxClass, bestClass);
      for (let c = 0; c <= limit; c++) {
        if (
          countsFit(
            view,
            request,
            cand.filter((p) => (cls[p] ?? NO_CLASS) <= c),
            avail,
          )
        ) {
          classes.push({ cls, combo, at: c });
          bestClass = Math.min(bestClass, c);
          break;
        }
      }
    }
    if (bestClass === NO_CLASS) return undefined;
    for (const { cls, combo, at } of classes) {
      if (at !== bestClass) continue;
      const reps = combo.map((b) => buckets[b]?.gpus[0] ?? 0);
      consider(
        cand.filter((p) => (cls[p] ?? NO_CLASS) <= bestClass),
        cls,
        reps,
      );
    }
  }

  const found = best;
  if (found === undefined) return undefined;
  const pfs: PlannedPf[] = [];
  for (let p = 0; p < nPf; p++) {
    const count = found.alloc[p] ?? 0;
    const pf = view.pfs[p];
    if (count === 0 || pf === undefined) continue;
    pfs.push({
      pfIndex: p,
      pciAddress: pf.pciAddress,
      linkType: pf.linkType,
      count,
      provision: count > (readyFree[p] ?? 0),
    });
  }
  return {
    plan: {
      pfs,
      gpus: found.gpus.map((g) => view.gpus[g]?.pciAddress ?? ''),
      distance: found.distance,
      needsProvisioning: found.needsProvisioning,
      fastestRateGbps: found.fastest,
    },
    breakdown: found.breakdown,
  };
}

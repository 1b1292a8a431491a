/**
 * The prioritize score: 0..10 points, the sum of four parts, rounded to an integer.
 *
 * When the pod asks for GPUs and `gpu-locality` is not `none`:
 *
 *   score = round( L + 0.5 * R + 1 * P + 2.5 * K )
 *
 *   L  locality, by the worst VF -> nearest chosen GPU distance class of the plan:
 *      PIX 6, PXB 4.5, PHB 3, NODE 1.5, SYS 0 (same PCIe switch > same root complex > ...)
 *   R  rate fit in 0..1: 1 without a minimum rate; with `min-rate-gbps: m`, m / (fastest port
 *      the plan uses). Best fit: the slowest port that meets the request wins, so faster ports
 *      stay free for pods that ask for them.
 *   P  1 when every VF is ready now, 0 when a VF has to be created or configured first.
 *   K  packing in 0..1, from the node's utilisation u = (held + requested) / capacity over the
 *      usable PFs of the requested link types (after placement, so 0 < u <= 1):
 *        pack:   K = 0.5 * u + 0.5 * [the plan uses only PFs that are already held]
 *                (fuller nodes first, and idle PFs stay idle so they can still be resized)
 *        spread: K = 1 - u (emptier nodes first)
 *
 * Without GPUs (or with `gpu-locality: none`) L does not apply and the other parts are scaled by
 * 10/4 to fill the range: score = round( 1.25 * R + 2.5 * P + 6.25 * K ).
 *
 * Locality dominates on purpose: one class step (1.5 points) is worth at least R and P together
 * (0.5 + 1), so the plan with the best class always wins, and under `spread` more free VFs
 * never lower a node's score (property-tested).
 */
import type { DistanceClass } from '@rdmasched/contracts';

export type PackingPolicy = 'pack' | 'spread';
export const PACKING_POLICIES: readonly PackingPolicy[] = ['pack', 'spread'];

export const LOCALITY_POINTS: Readonly<Record<DistanceClass, number>> = {
  PIX: 6,
  PXB: 4.5,
  PHB: 3,
  NODE: 1.5,
  SYS: 0,
};
const RATE_POINTS = 0.5;
const READY_POINTS = 1;
const PACKING_POINTS = 2.5;
/** Scale of R, P and K when locality does not apply: 10 / (0.5 + 1 + 2.5). */
const NO_LOCALITY_SCALE = 10 / (RATE_POINTS + READY_POINTS + PACKING_POINTS);

export const MIN_SCORE = 0;
export const MAX_SCORE = 10;

export interface ScoreInputs {
  /** Worst VF -> nearest chosen GPU class; null when locality does not apply. */
  readonly distance: DistanceClass | null;
  /** R, 0..1. */
  readonly rateFit: number;
  /** No VF needs provisioning. */
  readonly readyNow: boolean;
  /** u, 0..1. */
  readonly utilisation: number;
  /** The plan uses only PFs that are already held (pack). */
  readonly onlyHeldPfs: boolean;
  readonly policy: PackingPolicy;
}

export interface ScoreBreakdown {
  readonly locality: number;
  readonly rate: number;
  readonly ready: number;
  readonly packing: number;
  /** Sum of the parts before rounding. */
  readonly total: number;
  /** round(total), within 0..10. */
  readonly score: number;
}

/** R: 1 without a minimum rate, else minimum / fastest port used (both in Gb/s). */
export function rateFit(minRateGbps: number, fastestUsedGbps: number): number {
  if (minRateGbps <= 0 || fastestUsedGbps <= 0) return 1;
  return Math.min(1, minRateGbps / fastestUsedGbps);
}

export function packingValue(policy: PackingPolicy, utilisation: number, onlyHeldPfs: boolean): number {
  const u = Math.min(1, Math.max(0, utilisation));
  return policy === 'pack' ? 0.5 * u + 0.5 * (onlyHeldPfs ? 1 : 0) : 1 - u;
}

export function scoreOf(i: ScoreInputs): ScoreBreakdown {
  const scale = i.distance === null ? NO_LOCALITY_SCALE : 1;
  const locality = i.distance === null ? 0 : LOCALITY_POINTS[i.distance];
  const rate = RATE_POINTS * scale * Math.min(1, Math.max(0, i.rateFit));
  const ready = i.readyNow ? READY_POINTS * scale : 0;
  const packing = PACKING_POINTS * scale * packingValue(i.policy, i.utilisation, i.onlyHeldPfs);
  // Quantised so that equal sums reached along different float paths round the same way.
  const total = Math.round((locality + rate + ready + packing) * 1e6) / 1e6;
  const score = Math.min(MAX_SCORE, Math.max(MIN_SCORE, Math.round(total)));
  return { locality, rate, ready, packing, total, score };
}

/**
 * Seeded randomness for reproducible simulations: the same seed gives the same cluster and the
 * same workload on every machine.
 */
export interface Rng {
  /** Uniform in [0, 1). */
  next(): number;
  int(minInclusive: number, maxInclusive: number): number;
  pick<T>(items: readonly T[]): T;
  /** Picks by weight; weights need not sum to 1. */
  weighted<T>(items: readonly { item: T; weight: number }[]): T;
  /** Exponential with the given mean (inter-arrival times of a Poisson process). */
  exponential(mean: number): number;
  /** Log-normal with the given median and shape sigma (job durations). */
  logNormal(median: number, sigma: number): number;
  /** An independent stream derived from this one (stable regardless of later draws here). */
  fork(label: string): Rng;
}

function hashString(s: string): number {
  let h = 2166136261;
  for (let i = 0; i < s.length; i++) {
    h ^= s.charCodeAt(i);
    h = Math.imul(h, 16777619);
  }
  return h >>> 0;
}

/** mulberry32: small, fast, good enough for simulation (not for cryptography). */
export function createRng(seed: number | string): Rng {
  let state = typeof seed === 'number' ? seed >>> 0 : hashString(seed);
  const next = (): number => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
  const initial = state;
  const rng: Rng = {
    next,
    int: (min, max) => min + Math.floor(next() * (max - min + 1)),
    pick: (items) => {
      if (items.length === 0) throw new Error('pick from an empty list');
      return items[Math.floor(next() * items.length)] as (typeof items)[number];
    },
    weighted: (items) => {
      const total = items.reduce((s, i) => s + Math.max(0, i.weight), 0);
      if (total <= 0) throw new Error('weighted pick needs a positive total weight');
      let r = next() * total;
      for (const i of items) {
        r -= Math.max(0, i.weight);
        if (r < 0) return i.item;
      }
      return (items[items.length - 1] as (typeof items)[number]).item;
    },
    exponential: (mean) => -Math.log(1 - next()) * mean,
    logNormal: (median, sigma) => {
      // Box-Muller
      const u1 = 1 - next();
      const u2 = next();
      const z = Math.sqrt(-2 * Math.log(u1)) * Math.cos(2 * Math.PI * u2);
      return median * Math.exp(sigma * z);
    },
    fork: (label) => createRng((initial ^ hashString(label)) >>> 0),
  };
  return rng;
}

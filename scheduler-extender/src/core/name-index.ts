/**
 * Node name -> slot, built for the filter path's one lookup per candidate (5,000 per request).
 *
 * A JavaScript Map compares each candidate with its stored key string, and the stored keys live
 * wherever the heap put them (among the reports): at 5,000 lookups that is thousands of cache
 * misses per request, and a Map computes each fresh string's hash in the runtime. Here:
 *
 * - the hash reads only a few characters of the name: the positions (counted from the start or
 *   from the end) that best tell the current names apart, chosen when the index is rebuilt (the
 *   "plan"; names like `node-00123` and `ip-10-0-12-34.ec2.internal` differ in a few places).
 *   Reading characters is the dominant cost of hashing in JavaScript;
 * - buckets are an open-addressing table of typed arrays;
 * - a hit is always confirmed against a private copy of the name (the engine's native string
 *   comparison), so the plan only ever changes speed, never the answer.
 *
 * The names are also kept as bytes in one buffer, for writing responses without strings. Node
 * names are DNS-1123 (`[a-z0-9.-]`, checked by the report schema); a name with any other
 * character cannot be indexed. Removal rebuilds the table (nodes leave rarely).
 */

import { copyBytes, viewOf } from './bytes.js';

const FNV_OFFSET = 0x811c9dc5;
const FNV_PRIME = 0x01000193;
const EMPTY = 0;
/** Most positions a plan samples; past that a full-string hash is used. */
const MAX_PLAN = 8;
/** Candidate positions: the first and the last this many characters. */
const PLAN_REACH = 48;
/** Names looked at when choosing a plan. */
const PLAN_SAMPLE = 2048;

/**
 * Hash of `name` under `plan` (null: every character). Positions >= 0 count from the start,
 * negative ones from the end; a position outside the name contributes a fixed value.
 */
export function hashName(name: string, plan: Int32Array | null = null): number {
  const len = name.length;
  let h = Math.imul(FNV_OFFSET ^ len, FNV_PRIME);
  if (plan === null) {
    for (let i = 0; i < len; i++) h = Math.imul(h ^ name.charCodeAt(i), FNV_PRIME);
  } else {
    for (let k = 0; k < plan.length; k++) {
      const p = plan[k] as number;
      const i = p >= 0 ? p : len + p;
      h = Math.imul(h ^ (i >= 0 && i < len ? name.charCodeAt(i) : 0x10000), FNV_PRIME);
    }
  }
  return h | 0;
}

/**
 * Greedily picks up to MAX_PLAN positions that split `names` into as many distinct groups as
 * possible; null when that is not much better than hashing everything (then every character is
 * read).
 */
export function choosePlan(names: readonly string[]): Int32Array | null {
  if (names.length < 2) return null;
  const step = Math.ceil(names.length / PLAN_SAMPLE);
  const sample = step === 1 ? names : names.filter((_, i) => i % step === 0);
  const n = sample.length;
  const charAt = (name: string, p: number): number => {
    const i = p >= 0 ? p : name.length + p;
    return i >= 0 && i < name.length ? name.charCodeAt(i) : 0x10000;
  };
  // Group ids of the sample under the plan so far; the length is always part of the hash.
  let group = new Int32Array(n);
  let groups: number;
  {
    const ids = new Map<number, number>();
    sample.forEach((name, i) => {
      let id = ids.get(name.length);
      if (id === undefined) ids.set(name.length, (id = ids.size));
      group[i] = id;
    });
    groups = ids.size;
  }
  const plan: number[] = [];
  while (plan.length < MAX_PLAN && groups < n) {
    let bestP = 0;
    let bestGroups = groups;
    for (let c = 0; c < PLAN_REACH * 2; c++) {
      const p = c % 2 === 0 ? c / 2 : -1 - (c - 1) / 2;
      if (plan.includes(p)) continue;
      const seen = new Set<number>();
      for (let i = 0; i < n; i++) seen.add((group[i] as number) * 0x10001 + charAt(sample[i] as string, p));
      if (seen.size > bestGroups) {
        bestGroups = seen.size;
        bestP = p;
      }
    }
    if (bestGroups === groups) break;
    plan.push(bestP);
    const ids = new Map<number, number>();
    const next = new Int32Array(n);
    for (let i = 0; i < n; i++) {
      const key = (group[i] as number) * 0x10001 + charAt(sample[i] as string, bestP);
      let id = ids.get(key);
      if (id === undefined) ids.set(key, (id = ids.size));
      next[i] = id;
    }
    group = next;
    groups = ids.size;
  }
  // Worth it only if nearly every name gets its own group; otherwise chains would grow.
  return groups >= n * 0.98 ? Int32Array.from(plan) : null;
}

export class NameIndex {
  private count = 0;
  /** Open addressing: slot + 1, or EMPTY. Power-of-two size, at most half full. */
  private buckets = new Int32Array(64);
  /** Per slot: hash, offset and length of the name in `bytes`; length 0 = slot unused. */
  private hashes = new Int32Array(16);
  private offsets = new Uint32Array(16);
  private lengths = new Uint16Array(16);
  private bytes = new Uint8Array(1024);
  private bytesView = viewOf(this.bytes);
  private used = 0;
  /**
   * Per slot, a private flat copy of the name, made when it is indexed (so the copies of a
   * reload sit next to each other in memory): the confirming comparison is the engine's native
   * string comparison against it, measured ~40% cheaper than comparing bytes in JavaScript.
   */
  private keys: string[] = [];
  private plan: Int32Array | null = null;
  /** Re-plan when the index has grown to this many names. */
  private replanAt = 64;

  get size(): number {
    return this.count;
  }

  /** The slot of `name`, or -1. */
  get(name: string): number {
    const len = name.length;
    let h = Math.imul(FNV_OFFSET ^ len, FNV_PRIME);
    const plan = this.plan;
    if (plan === null) {
      for (let i = 0; i < len; i++) h = Math.imul(h ^ name.charCodeAt(i), FNV_PRIME);
    } else {
      for (let k = 0; k < plan.length; k++) {
        const p = plan[k] as number;
        const i = p >= 0 ? p : len + p;
        h = Math.imul(h ^ (i >= 0 && i < len ? name.charCodeAt(i) : 0x10000), FNV_PRIME);
      }
    }
    const buckets = this.buckets;
    const mask = buckets.length - 1;
    const hashes = this.hashes;
    const keys = this.keys;
    for (let b = h & mask; ; b = (b + 1) & mask) {
      const entry = buckets[b] as number;
      if (entry === EMPTY) return -1;
      const slot = entry - 1;
      if (hashes[slot] === h && keys[slot] === name) return slot;
    }
  }

  /** Length in bytes of the name indexed at `slot` (0 when none). */
  nameLength(slot: number): number {
    return this.lengths[slot] ?? 0;
  }

  /**
   * Copies the name indexed at `slot` into `out` at `offset` (room for `nameLength(slot)` bytes
   * is the caller's business); returns the offset after it.
   */
  copyName(slot: number, out: DataView, offset: number): number {
    const len = this.lengths[slot] as number;
    copyBytes(out, offset, this.bytesView, this.offsets[slot] as number, len);
    return offset + len;
  }

  /** Indexes `name` at `slot` (the name must not be indexed yet, and must be ASCII). */
  set(name: string, slot: number): void {
    this.add(name, slot);
    if (this.count >= this.replanAt) this.replan();
    else if (this.count * 2 > this.buckets.length) this.rehash(this.buckets.length * 2);
    else this.place(slot);
  }

  /**
   * Rebuilds the index from `entries` (name, slot): after a removal (keeping the plan: fewer
   * names never collide more) or a full reload (`replan: true`).
   */
  rebuild(entries: Iterable<readonly [string, number]>, opts: { replan?: boolean } = {}): void {
    this.count = 0;
    this.used = 0;
    this.lengths.fill(0);
    this.keys = [];
    for (const [name, slot] of entries) this.add(name, slot);
    if (opts.replan === true) this.replan();
    else this.rehash(this.tableSize());
  }

  private tableSize(): number {
    let size = 64;
    while (size < this.count * 2 + 2) size *= 2;
    return size;
  }

  private add(name: string, slot: number): void {
    if (name.length === 0 || name.length > 0xffff)
      throw new Error(`cannot index a name of length ${name.length}`);
    this.ensureSlot(slot);
    this.ensureBytes(name.length);
    const o = this.used;
    for (let i = 0; i < name.length; i++) {
      const c = name.charCodeAt(i);
      if (c > 0x7f) throw new Error(`node name ${JSON.stringify(name)} is not ASCII`);
      this.bytes[o + i] = c;
    }
    this.used += name.length;
    this.offsets[slot] = o;
    this.lengths[slot] = name.length;
    this.keys[slot] = Buffer.from(name, 'latin1').toString('latin1');
    this.hashes[slot] = hashName(name, this.plan);
    this.count++;
  }

  /** Chooses the sampled positions for the current names and rehashes everything. */
  private replan(): void {
    const names: string[] = [];
    for (let slot = 0; slot < this.lengths.length; slot++) {
      const key = this.keys[slot];
      if (this.lengths[slot] !== 0 && key !== undefined) names.push(key);
    }
    this.plan = choosePlan(names);
    for (let slot = 0; slot < this.lengths.length; slot++) {
      const key = this.keys[slot];
      if (this.lengths[slot] !== 0 && key !== undefined) this.hashes[slot] = hashName(key, this.plan);
    }
    this.replanAt = Math.max(64, Math.ceil(this.count * 1.25));
    this.rehash(this.tableSize());
  }

  private place(slot: number): void {
    const mask = this.buckets.length - 1;
    let b = (this.hashes[slot] as number) & mask;
    while (this.buckets[b] !== EMPTY) b = (b + 1) & mask;
    this.buckets[b] = slot + 1;
  }

  private rehash(size: number): void {
    this.buckets = new Int32Array(size);
    for (let slot = 0; slot < this.lengths.length; slot++) if (this.lengths[slot] !== 0) this.place(slot);
  }

  private ensureSlot(slot: number): void {
    if (slot < this.hashes.length) return;
    const n = Math.max(slot + 1, this.hashes.length * 2);
    const grow = <T extends Int32Array | Uint32Array | Uint16Array>(a: T, make: (n: number) => T): T => {
      const next = make(n);
      next.set(a);
      return next;
    };
    this.hashes = grow(this.hashes, (c) => new Int32Array(c));
    this.offsets = grow(this.offsets, (c) => new Uint32Array(c));
    this.lengths = grow(this.lengths, (c) => new Uint16Array(c));
  }

  private ensureBytes(extra: number): void {
    if (this.used + extra <= this.bytes.length) return;
    const next = new Uint8Array(Math.max(this.bytes.length * 2, this.used + extra));
    next.set(this.bytes.subarray(0, this.used));
    this.bytes = next;
    this.bytesView = viewOf(next);
  }
}

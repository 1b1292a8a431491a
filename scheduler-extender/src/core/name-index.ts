/**
 * Node name -> slot, built for the filter path's one lookup per candidate (5,000 per request).
 *
 * A JavaScript Map compares each candidate with its stored key string, and the stored keys live
 * wherever the heap put them: at 5,000 lookups that is thousands of cache misses per request.
 * Here the names are copied byte by byte into one contiguous buffer, next to their hashes and
 * an open-addressing table, so a lookup reads the candidate (just parsed, in cache) and a few
 * compact arrays. Node names are DNS-1123 (`[a-z0-9.-]`, checked by the report schema); a name
 * with any other character is simply never found.
 *
 * Removal rebuilds the table (nodes leave rarely); everything else is O(1).
 */

const FNV_OFFSET = 0x811c9dc5;
const FNV_PRIME = 0x01000193;
const EMPTY = 0;

/** FNV-1a over the UTF-16 code units. */
export function hashName(s: string): number {
  let h = FNV_OFFSET;
  for (let i = 0; i < s.length; i++) h = Math.imul(h ^ s.charCodeAt(i), FNV_PRIME);
  return h >>> 0;
}

export class NameIndex {
  private count = 0;
  /**
   * Open addressing, two ints per bucket: [slot + 1 (0 = empty), hash]. Power-of-two bucket
   * count, at most half full. Keeping the hash in the bucket rejects most non-matches without
   * touching anything else.
   */
  private buckets = new Int32Array(128);
  /** Per slot: [offset of the name in `bytes`, length (0 = slot unused)]. */
  private meta = new Uint32Array(32);
  private bytes = new Uint8Array(1024);
  private used = 0;

  get size(): number {
    return this.count;
  }

  /** The slot of `name`, or -1. */
  get(name: string): number {
    const len = name.length;
    let h = FNV_OFFSET;
    for (let i = 0; i < len; i++) h = Math.imul(h ^ name.charCodeAt(i), FNV_PRIME);
    const buckets = this.buckets;
    const mask = (buckets.length >> 1) - 1;
    for (let b = h & mask; ; b = (b + 1) & mask) {
      const entry = buckets[2 * b] as number;
      if (entry === EMPTY) return -1;
      if (buckets[2 * b + 1] === h) {
        const slot = entry - 1;
        if (this.meta[2 * slot + 1] === len && this.equals(slot, name)) return slot;
      }
    }
  }

  /** Length in bytes of the name indexed at `slot` (0 when none). */
  nameLength(slot: number): number {
    return this.meta[2 * slot + 1] ?? 0;
  }

  /** Copies the name indexed at `slot` into `out` at `offset`; returns the offset after it. */
  copyName(slot: number, out: Uint8Array, offset: number): number {
    const o = this.meta[2 * slot] as number;
    const len = this.meta[2 * slot + 1] as number;
    const bytes = this.bytes;
    for (let i = 0; i < len; i++) out[offset + i] = bytes[o + i] as number;
    return offset + len;
  }

  private equals(slot: number, name: string): boolean {
    const bytes = this.bytes;
    const o = this.meta[2 * slot] as number;
    for (let i = 0; i < name.length; i++) if (bytes[o + i] !== name.charCodeAt(i)) return false;
    return true;
  }

  /** Indexes `name` at `slot` (the name must not be indexed yet, and must be ASCII). */
  set(name: string, slot: number): void {
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
    this.meta[2 * slot] = o;
    this.meta[2 * slot + 1] = name.length;
    this.count++;
    if (this.count * 2 > this.buckets.length >> 1) this.rehash(this.buckets.length * 2);
    else this.place(slot, hashName(name) | 0);
  }

  /** Rebuilds the index from `entries` (name, slot), e.g. after a removal. */
  rebuild(entries: Iterable<readonly [string, number]>): void {
    const list = [...entries];
    this.count = 0;
    this.used = 0;
    this.meta.fill(0);
    let buckets = 64;
    while (buckets < list.length * 2 + 2) buckets *= 2;
    this.buckets = new Int32Array(buckets * 2);
    for (const [name, slot] of list) this.set(name, slot);
  }

  private place(slot: number, hash: number): void {
    const mask = (this.buckets.length >> 1) - 1;
    let b = hash & mask;
    while (this.buckets[2 * b] !== EMPTY) b = (b + 1) & mask;
    this.buckets[2 * b] = slot + 1;
    this.buckets[2 * b + 1] = hash;
  }

  private rehash(size: number): void {
    const old = this.buckets;
    this.buckets = new Int32Array(size);
    for (let b = 0; b < old.length; b += 2) {
      const entry = old[b] as number;
      if (entry !== EMPTY) this.place(entry - 1, old[b + 1] as number);
    }
  }

  private ensureSlot(slot: number): void {
    if (2 * slot + 1 < this.meta.length) return;
    const next = new Uint32Array(Math.max(2 * (slot + 1), this.meta.length * 2));
    next.set(this.meta);
    this.meta = next;
  }

  private ensureBytes(extra: number): void {
    if (this.used + extra <= this.bytes.length) return;
    const next = new Uint8Array(Math.max(this.bytes.length * 2, this.used + extra));
    next.set(this.bytes.subarray(0, this.used));
    this.bytes = next;
  }
}

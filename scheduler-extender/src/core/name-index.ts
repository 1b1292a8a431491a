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
  /** Open addressing: slot + 1, or EMPTY. Power-of-two size, at most half full. */
  private buckets = new Int32Array(64);
  /** Per slot: hash, offset and length of the name in `bytes`; length 0 = slot unused. */
  private hashes = new Uint32Array(16);
  private offsets = new Uint32Array(16);
  private lengths = new Uint16Array(16);
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
    h >>>= 0;
    const buckets = this.buckets;
    const mask = buckets.length - 1;
    const hashes = this.hashes;
    const lengths = this.lengths;
    for (let b = h & mask; ; b = (b + 1) & mask) {
      const entry = buckets[b] as number;
      if (entry === EMPTY) return -1;
      const slot = entry - 1;
      if (hashes[slot] === h && lengths[slot] === len && this.equals(slot, name)) return slot;
    }
  }

  /** Length in bytes of the name indexed at `slot` (0 when none). */
  nameLength(slot: number): number {
    return this.lengths[slot] ?? 0;
  }

  /** Copies the name indexed at `slot` into `out` at `offset`; returns the offset after it. */
  copyName(slot: number, out: Uint8Array, offset: number): number {
    const o = this.offsets[slot] as number;
    const len = this.lengths[slot] as number;
    const bytes = this.bytes;
    for (let i = 0; i < len; i++) out[offset + i] = bytes[o + i] as number;
    return offset + len;
  }

  private equals(slot: number, name: string): boolean {
    const bytes = this.bytes;
    const o = this.offsets[slot] as number;
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
    this.offsets[slot] = o;
    this.lengths[slot] = name.length;
    this.hashes[slot] = hashName(name);
    this.count++;
    if (this.count * 2 > this.buckets.length) this.rehash(this.buckets.length * 2);
    else this.place(slot);
  }

  /** Rebuilds the index from `entries` (name, slot), e.g. after a removal. */
  rebuild(entries: Iterable<readonly [string, number]>): void {
    const list = [...entries];
    this.count = 0;
    this.used = 0;
    this.lengths.fill(0);
    let size = 64;
    while (size < list.length * 2 + 2) size *= 2;
    this.buckets = new Int32Array(size);
    for (const [name, slot] of list) this.set(name, slot);
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
    const grow = <T extends Uint32Array | Uint16Array>(a: T, make: (n: number) => T): T => {
      const next = make(n);
      next.set(a);
      return next;
    };
    this.hashes = grow(this.hashes, (c) => new Uint32Array(c));
    this.offsets = grow(this.offsets, (c) => new Uint32Array(c));
    this.lengths = grow(this.lengths, (c) => new Uint16Array(c));
  }

  private ensureBytes(extra: number): void {
    if (this.used + extra <= this.bytes.length) return;
    const next = new Uint8Array(Math.max(this.bytes.length * 2, this.used + extra));
    next.set(this.bytes.subarray(0, this.used));
    this.bytes = next;
  }
}

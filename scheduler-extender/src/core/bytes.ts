/**
 * Byte copies for the response writers (http/wire.ts) and the name index. A JavaScript loop
 * moves one byte per iteration (about 1 ns a byte here); node names and JSON fragments are 10-60
 * bytes, too short for a native copy call to pay off (its fixed cost is larger). Unaligned
 * 32-bit DataView reads and writes compile to plain loads and stores, so this moves four bytes
 * per iteration: measured ~3x faster than the byte loop on a 5,000-node prioritize answer.
 */

/** A DataView over all of `b`. */
export function viewOf(b: Uint8Array): DataView {
  return new DataView(b.buffer, b.byteOffset, b.byteLength);
}

/**
 * Copies `len` bytes from `src` at `from` to `dst` at `to` (the ranges must not overlap and
 * must lie inside both views).
 */
export function copyBytes(dst: DataView, to: number, src: DataView, from: number, len: number): void {
  let k = 0;
  for (; k + 4 <= len; k += 4) dst.setUint32(to + k, src.getUint32(from + k, true), true);
  for (; k < len; k++) dst.setUint8(to + k, src.getUint8(from + k));
}

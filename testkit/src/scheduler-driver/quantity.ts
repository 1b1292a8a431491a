/**
 * Kubernetes resource quantities (`500m`, `2Gi`, `1e3`, `4`) to numbers in base units
 * (CPU in cores, memory in bytes, counts as counts). Enough of resource.Quantity for scheduling.
 */
const SUFFIX: Record<string, number> = {
  n: 1e-9,
  u: 1e-6,
  m: 1e-3,
  '': 1,
  k: 1e3,
  M: 1e6,
  G: 1e9,
  T: 1e12,
  P: 1e15,
  E: 1e18,
  Ki: 2 ** 10,
  Mi: 2 ** 20,
  Gi: 2 ** 30,
  Ti: 2 ** 40,
  Pi: 2 ** 50,
  Ei: 2 ** 60,
};

const QUANTITY_RE = /^([+-]?[0-9.]+)(?:[eE]([+-]?[0-9]+))?(n|u|m|k|M|G|T|P|E|Ki|Mi|Gi|Ti|Pi|Ei)?$/;

/** Parses a quantity; throws on anything Kubernetes would reject. Numbers pass through. */
export function parseQuantity(q: string | number): number {
  if (typeof q === 'number') {
    if (!Number.isFinite(q)) throw new Error(`invalid quantity ${q}`);
    return q;
  }
  const m = QUANTITY_RE.exec(q.trim());
  if (m === null) throw new Error(`invalid quantity "${q}"`);
  const base = Number(m[1]);
  if (!Number.isFinite(base)) throw new Error(`invalid quantity "${q}"`);
  const exp = m[2] === undefined ? 1 : 10 ** Number(m[2]);
  return base * exp * (SUFFIX[m[3] ?? ''] ?? 1);
}

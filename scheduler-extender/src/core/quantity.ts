/**
 * Kubernetes resource quantities (`resource.Quantity` in k8s.io/apimachinery), reduced to what an
 * extended resource may hold: a whole, non-negative number. `"2"`, `"2000m"`, `"1k"` and `"1e1"`
 * are whole numbers; `"1500m"` and `"-1"` are not.
 *
 * Grammar (apimachinery quantity.go): sign? digits ( "." digits )? suffix?, where suffix is a
 * binary SI suffix (Ki Mi Gi Ti Pi Ei), a decimal SI suffix (n u m k M G T P E) or a decimal
 * exponent (e|E followed by a signed integer).
 */

const QUANTITY_RE = /^([+-]?)(\d*)(?:\.(\d*))?(Ki|Mi|Gi|Ti|Pi|Ei|n|u|m|k|M|G|T|P|E|[eE][+-]?\d+)?$/;

const DECIMAL_EXPONENT: Readonly<Record<string, number>> = {
  n: -9,
  u: -6,
  m: -3,
  k: 3,
  M: 6,
  G: 9,
  T: 12,
  P: 15,
  E: 18,
};
const BINARY_EXPONENT: Readonly<Record<string, number>> = { Ki: 10, Mi: 20, Gi: 30, Ti: 40, Pi: 50, Ei: 60 };

export type WholeQuantity = { ok: true; value: number } | { ok: false; message: string };

/**
 * Parses a quantity that must be a whole number in `0..max`. Accepts a JSON number too (some
 * clients send `2` instead of `"2"`). Exact: uses BigInt, so `"0.1k"` is 100 and `"1001m"` is
 * rejected. Never throws.
 */
export function parseWholeQuantity(raw: unknown, max: number): WholeQuantity {
  let text: string;
  if (typeof raw === 'number') {
    if (!Number.isFinite(raw)) return { ok: false, message: `${raw} is not a quantity` };
    text = String(raw);
  } else if (typeof raw === 'string') {
    text = raw.trim();
  } else {
    return { ok: false, message: `must be a quantity string such as "2", not ${describe(raw)}` };
  }
  // Fast path: a plain whole number (what the API server stores for extended resources).
  if (/^\d{1,9}$/.test(text)) {
    const v = Number(text);
    return v <= max
      ? { ok: true, value: v }
      : { ok: false, message: `${JSON.stringify(text)} exceeds the maximum of ${max}` };
  }
  const m = QUANTITY_RE.exec(text);
  const intDigits = m?.[2] ?? '';
  const fracDigits = m?.[3] ?? '';
  if (m === null || (intDigits === '' && fracDigits === '')) {
    return { ok: false, message: `${JSON.stringify(text)} is not a Kubernetes quantity` };
  }
  const negative = m[1] === '-';
  const suffix = m[4] ?? '';
  let exp10 = -fracDigits.length;
  let exp2 = 0;
  if (suffix in BINARY_EXPONENT) exp2 = BINARY_EXPONENT[suffix] ?? 0;
  else if (suffix in DECIMAL_EXPONENT) exp10 += DECIMAL_EXPONENT[suffix] ?? 0;
  else if (suffix !== '') exp10 += Number(suffix.slice(1));
  // Guard against absurd exponents before building big numbers.
  if (exp10 > 30 || exp2 > 64) return { ok: false, message: `${JSON.stringify(text)} is too large` };
  let mantissa = BigInt(`${intDigits}${fracDigits}` || '0');
  if (mantissa === 0n) return { ok: true, value: 0 };
  if (negative) return { ok: false, message: `${JSON.stringify(text)} is negative` };
  mantissa <<= BigInt(exp2);
  let value: bigint;
  if (exp10 >= 0) {
    value = mantissa * 10n ** BigInt(exp10);
  } else {
    const divisor = 10n ** BigInt(-exp10);
    if (mantissa % divisor !== 0n) {
      return { ok: false, message: `${JSON.stringify(text)} is not a whole number` };
    }
    value = mantissa / divisor;
  }
  if (value > BigInt(max))
    return { ok: false, message: `${JSON.stringify(text)} exceeds the maximum of ${max}` };
  return { ok: true, value: Number(value) };
}

export function describe(v: unknown): string {
  if (v === null) return 'null';
  if (Array.isArray(v)) return 'an array';
  return `a ${typeof v}`;
}

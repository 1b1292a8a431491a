/** Small statistics helpers for the report (pure). */

/** Nearest-rank percentile (p in 0..100) of unsorted samples; null for no samples. */
export function percentile(samples: readonly number[], p: number): number | null {
  if (samples.length === 0) return null;
  const sorted = [...samples].sort((a, b) => a - b);
  const rank = Math.min(sorted.length, Math.max(1, Math.ceil((p / 100) * sorted.length)));
  return sorted[rank - 1] ?? null;
}

export interface Distribution {
  readonly count: number;
  readonly p50: number | null;
  readonly p90: number | null;
  readonly p99: number | null;
  readonly max: number | null;
}

export function distribution(samples: readonly number[], digits = 3): Distribution {
  const round = (v: number | null) => (v === null ? null : Number(v.toFixed(digits)));
  return {
    count: samples.length,
    p50: round(percentile(samples, 50)),
    p90: round(percentile(samples, 90)),
    p99: round(percentile(samples, 99)),
    max: round(percentile(samples, 100)),
  };
}

/**
 * The reason part of a kube-scheduler FailedScheduling message without its per-node counts, so
 * pods that failed for the same causes group together:
 * `0/24 nodes are available: 3 Insufficient cpu, 21 too few free InfiniBand VFs now.`
 *   -> `Insufficient cpu; too few free InfiniBand VFs now`
 */
export function normaliseReason(message: string): string {
  const m = /^0\/\d+ nodes are available(?::\s*(.*?))?\.?$/s.exec(message.trim());
  if (m === null) return message.trim();
  const body = m[1];
  if (body === undefined || body === '') return 'no nodes';
  return body
    .split(/,\s*(?=\d+ )/)
    .map((part) => part.replace(/^\d+\s+/, '').trim())
    .filter((p) => p !== '')
    .sort()
    .join('; ');
}

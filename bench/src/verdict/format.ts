/** Number formatting shared by verdict reasons and reports, so both say the same thing. */

/** `111.71`, `180`, `0.0422`: two decimals at most for values ≥ 1, three significant digits below. */
export function formatNumber(v: number): string {
  if (!Number.isFinite(v)) return String(v);
  if (v === 0) return '0';
  if (Math.abs(v) >= 1) return String(Number(v.toFixed(2)));
  return String(Number(v.toPrecision(3)));
}

export const formatGbps = (gbps: number): string => `${formatNumber(gbps)} Gb/s`;
export const formatUs = (us: number): string => `${formatNumber(us)} µs`;
export const formatPercent = (fraction: number): string => `${(fraction * 100).toFixed(1)}%`;

/** `65536 B`, `8 MiB`, `unknown size`. */
export function formatBytes(bytes: number | null): string {
  if (bytes === null) return 'unknown size';
  if (bytes >= 1048576 && bytes % 1048576 === 0) return `${bytes / 1048576} MiB`;
  if (bytes >= 1024 && bytes % 1024 === 0) return `${bytes / 1024} KiB`;
  return `${bytes} B`;
}

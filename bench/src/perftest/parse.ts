/** One entry point for both input kinds, and the figures a verdict judges. */
import type { ParseOutcome } from './errors.js';
import { parsePerftestJson, type JsonParseOptions } from './json-parser.js';
import { parsePerftestText } from './text-parser.js';
import type { BandwidthResult, BandwidthRow, LatencyResult, LatencyRow, PerftestResult } from './types.js';
import { gbpsFromBytesPerSecond } from './units.js';

/** True when the content is an `--out_json` file rather than tool output. */
export function looksLikeJson(content: string): boolean {
  return content.trimStart().startsWith('{');
}

/**
 * Parses perftest output of either kind: `--out_json` content (starts with `{`) goes to
 * `parsePerftestJson` with `options`, anything else to `parsePerftestText`.
 */
export function parsePerftestOutput(
  content: string,
  options: JsonParseOptions = {},
): ParseOutcome<PerftestResult> {
  return looksLikeJson(content) ? parsePerftestJson(content, options) : parsePerftestText(content);
}

/** The bandwidth a verdict judges. */
export interface BandwidthHeadline {
  /** The largest message size in the result (line rate is only reached with large messages). */
  readonly messageSizeBytes: number | null;
  /** Rows at that size: more than one with --run_infinitely. */
  readonly rowCount: number;
  /** Mean of `BW average` over those rows. */
  readonly averageGbps: number;
  readonly averageBytesPerSecond: number;
  /** Lowest and highest row at that size (equal to the mean with one row). */
  readonly minGbps: number;
  readonly maxGbps: number;
  readonly lineNumbers: readonly (number | null)[];
}

/**
 * Picks the rows a bandwidth verdict is about: those of the largest message size (an `-a` sweep
 * starts at 2 B, where no link reaches line rate), averaged when there are several
 * (`--run_infinitely` prints one every few seconds).
 */
export function bandwidthHeadline(result: BandwidthResult): BandwidthHeadline {
  const largest = result.rows.reduce<number | null>(
    (max, r) =>
      r.messageSizeBytes !== null && (max === null || r.messageSizeBytes > max) ? r.messageSizeBytes : max,
    null,
  );
  const rows: BandwidthRow[] = result.rows.filter((r) => r.messageSizeBytes === largest);
  const bytes = rows.map((r) => r.average.bytesPerSecond);
  const mean = bytes.reduce((a, b) => a + b, 0) / Math.max(1, bytes.length);
  return {
    messageSizeBytes: largest,
    rowCount: rows.length,
    averageBytesPerSecond: mean,
    averageGbps: gbpsFromBytesPerSecond(mean),
    minGbps: gbpsFromBytesPerSecond(Math.min(...bytes)),
    maxGbps: gbpsFromBytesPerSecond(Math.max(...bytes)),
    lineNumbers: rows.map((r) => r.lineNumber),
  };
}

/** The latency a verdict judges. */
export interface LatencyHeadline {
  /** The smallest message size (latency tests default to 2 B). */
  readonly messageSizeBytes: number | null;
  readonly rowCount: number;
  /** Mean `t_avg` over the rows of that size, µs. */
  readonly avgUs: number;
  /** `t_typical` (median) of the first such row; null in duration mode. */
  readonly typicalUs: number | null;
  readonly p99Us: number | null;
  readonly lineNumbers: readonly (number | null)[];
}

/** Picks the rows a latency verdict is about: those of the smallest message size. */
export function latencyHeadline(result: LatencyResult): LatencyHeadline {
  const smallest = result.rows.reduce<number | null>(
    (min, r) =>
      r.messageSizeBytes !== null && (min === null || r.messageSizeBytes < min) ? r.messageSizeBytes : min,
    null,
  );
  const rows: LatencyRow[] = result.rows.filter((r) => r.messageSizeBytes === smallest);
  const first = rows[0];
  return {
    messageSizeBytes: smallest,
    rowCount: rows.length,
    avgUs: rows.reduce((a, r) => a + r.avgUs, 0) / Math.max(1, rows.length),
    typicalUs: first?.typicalUs ?? null,
    p99Us: first?.p99Us ?? null,
    lineNumbers: rows.map((r) => r.lineNumber),
  };
}

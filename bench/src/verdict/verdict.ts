/**
 * Verdicts: does a pair reach line rate and low latency? Pure functions; every verdict says why,
 * with the measured figure, the threshold and the fraction of line rate.
 *
 * Bandwidth: pass when  measured ≥ minBandwidthFraction × lineRate, where
 *   lineRate = portRate × (2 if bidirectional else 1)
 *   portRate = the lower of the two sides' port rates (the slower port bounds the pair)
 *   measured = mean `BW average` of the rows at the largest message size (bandwidthHeadline).
 * Latency: pass when  t_avg ≤ the verb's limit, t_avg = mean over the rows at the smallest size.
 */
import { bandwidthHeadline, latencyHeadline } from '../perftest/parse.js';
import type { PerftestResult, PerftestVerb } from '../perftest/types.js';
import { formatBytes, formatGbps, formatPercent, formatUs } from './format.js';
import type { PairResult, PortRateSource } from './pair.js';
import { latencyLimitUs, type Thresholds } from './thresholds.js';

export interface BandwidthCheck {
  readonly kind: 'bandwidth';
  readonly pass: boolean;
  readonly messageSizeBytes: number | null;
  /** Rows averaged (several with --run_infinitely). */
  readonly rowCount: number;
  readonly measuredGbps: number;
  readonly measuredBytesPerSecond: number;
  /** Lowest row at that size. */
  readonly minGbps: number;
  readonly bidirectional: boolean;
  readonly portRateGbps: number;
  /** portRate × 2 when bidirectional. */
  readonly lineRateGbps: number;
  readonly requiredFraction: number;
  readonly thresholdGbps: number;
  /** measured / lineRate. */
  readonly fractionOfLineRate: number;
  readonly portRateFrom: string;
}

export interface LatencyCheck {
  readonly kind: 'latency';
  readonly pass: boolean;
  readonly verb: PerftestVerb;
  readonly messageSizeBytes: number | null;
  readonly rowCount: number;
  /** t_avg, µs. */
  readonly measuredUs: number;
  readonly typicalUs: number | null;
  readonly p99Us: number | null;
  readonly thresholdUs: number;
}

export type Check = BandwidthCheck | LatencyCheck;

/**
 * - `pass`: every check passed;
 * - `fail`: a check failed;
 * - `no-verdict`: bandwidth measured but no port rate known, so nothing to compare with;
 * - `error`: nothing measured (the run failed).
 */
export type VerdictStatus = 'pass' | 'fail' | 'no-verdict' | 'error';

export interface Verdict {
  readonly status: VerdictStatus;
  readonly checks: readonly Check[];
  /** Sentences a person can act on, first the deciding ones. */
  readonly reasons: readonly string[];
  /** The measured figure, when there is one (bandwidth without a line rate has no check). */
  readonly measured:
    | { readonly kind: 'bandwidth'; readonly gbps: number; readonly messageSizeBytes: number | null }
    | { readonly kind: 'latency'; readonly avgUs: number; readonly messageSizeBytes: number | null }
    | null;
}

/** Judges one parsed result against a port rate (null when unknown). */
export function judgeResult(
  result: PerftestResult,
  opts: { portRate: PortRateSource | null; thresholds: Thresholds },
): Verdict {
  const notes = toolErrorNotes(result);
  if (result.kind === 'latency') {
    const h = latencyHeadline(result);
    const verb = result.settings.verb;
    const limit = latencyLimitUs(verb, opts.thresholds);
    const pass = h.avgUs <= limit;
    const over = pass ? '≤' : 'exceeds';
    const mean = h.rowCount > 1 ? ` (mean of ${h.rowCount} rows)` : '';
    const check: LatencyCheck = {
      kind: 'latency',
      pass,
      verb,
      messageSizeBytes: h.messageSizeBytes,
      rowCount: h.rowCount,
      measuredUs: h.avgUs,
      typicalUs: h.typicalUs,
      p99Us: h.p99Us,
      thresholdUs: limit,
    };
    return {
      status: pass ? 'pass' : 'fail',
      checks: [check],
      reasons: [
        `${verb} latency t_avg ${formatUs(h.avgUs)} at ${formatBytes(h.messageSizeBytes)}${mean} ${over} the ${formatUs(limit)} limit`,
        ...notes,
      ],
      measured: { kind: 'latency', avgUs: h.avgUs, messageSizeBytes: h.messageSizeBytes },
    };
  }

  const h = bandwidthHeadline(result);
  const bidirectional = result.settings.bidirectional;
  const measured = { kind: 'bandwidth' as const, gbps: h.averageGbps, messageSizeBytes: h.messageSizeBytes };
  const mean = h.rowCount > 1 ? ` (mean of ${h.rowCount} rows, lowest ${formatGbps(h.minGbps)})` : '';
  const what = `${bidirectional ? 'bidirectional ' : ''}bandwidth ${formatGbps(h.averageGbps)} at ${formatBytes(h.messageSizeBytes)}${mean}`;
  if (opts.portRate === null || !(opts.portRate.gbps > 0))
    return {
      status: 'no-verdict',
      checks: [],
      reasons: [
        `${what}: no port rate is known for either side, so there is no line rate to compare with` +
          ' (give one, or make sure the node report has rateGbps / sysfs ports/1/rate is readable)',
        ...notes,
      ],
      measured,
    };
  const portRateGbps = opts.portRate.gbps;
  const lineRateGbps = portRateGbps * (bidirectional ? 2 : 1);
  const required = opts.thresholds.minBandwidthFraction;
  const thresholdGbps = lineRateGbps * required;
  const fraction = h.averageGbps / lineRateGbps;
  const pass = h.averageGbps >= thresholdGbps;
  const lineRate = bidirectional
    ? `${formatGbps(lineRateGbps)} line rate (2 × ${formatGbps(portRateGbps)} port rate, bidirectional)`
    : `${formatGbps(lineRateGbps)} line rate`;
  const check: BandwidthCheck = {
    kind: 'bandwidth',
    pass,
    messageSizeBytes: h.messageSizeBytes,
    rowCount: h.rowCount,
    measuredGbps: h.averageGbps,
    measuredBytesPerSecond: h.averageBytesPerSecond,
    minGbps: h.minGbps,
    bidirectional,
    portRateGbps,
    lineRateGbps,
    requiredFraction: required,
    thresholdGbps,
    fractionOfLineRate: fraction,
    portRateFrom: opts.portRate.detail,
  };
  return {
    status: pass ? 'pass' : 'fail',
    checks: [check],
    reasons: [
      `${what} is ${formatPercent(fraction)} of the ${lineRate}; ${pass ? 'meets' : 'below'} the ${formatPercent(required)} threshold (${formatGbps(thresholdGbps)})`,
      `port rate from ${opts.portRate.detail}`,
      ...notes,
    ],
    measured,
  };
}

/** The port rate that bounds a pair: the lower of the two sides' known rates. */
export function pairPortRate(pair: PairResult): PortRateSource | null {
  const sides = [
    { role: 'server', rate: pair.server.portRate },
    { role: 'client', rate: pair.client.portRate },
  ].filter((s): s is { role: string; rate: PortRateSource } => s.rate !== null && s.rate.gbps > 0);
  if (sides.length === 0) return null;
  const lowest = sides.reduce((a, b) => (b.rate.gbps < a.rate.gbps ? b : a));
  const other = sides.find((s) => s !== lowest);
  const note =
    other === undefined
      ? ''
      : other.rate.gbps === lowest.rate.gbps
        ? ' (both sides)'
        : ` (lower than the ${other.role}'s ${formatGbps(other.rate.gbps)})`;
  return { ...lowest.rate, detail: `${lowest.role}: ${lowest.rate.detail}${note}` };
}

/** Judges a pair: a failed run is an `error` verdict carrying its reason. */
export function judgePair(pair: PairResult, thresholds: Thresholds): Verdict {
  if (pair.outcome.status === 'failed')
    return { status: 'error', checks: [], reasons: [pair.outcome.reason], measured: null };
  return judgeResult(pair.outcome.result, { portRate: pairPortRate(pair), thresholds });
}

/**
 * perftest error lines next to valid result rows (e.g. "Failed to destroy QP" after the run) do
 * not change the figure; they are reported beside the verdict so nobody misses them.
 */
function toolErrorNotes(result: PerftestResult): string[] {
  const errors = result.warnings.filter((w) => w.kind === 'tool-error');
  if (errors.length === 0) return [];
  const first = errors[0];
  return [
    `note: perftest also printed ${errors.length} error line(s), first on line ${first?.lineNumber}: ${JSON.stringify(first?.line?.trim())}`,
  ];
}

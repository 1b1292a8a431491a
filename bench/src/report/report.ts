/**
 * The report model: pairs with their verdicts, thresholds and a summary. Markdown, JSON and the
 * SVG charts are all rendered from it, so they always agree.
 */
import type { PerftestResult } from '../perftest/types.js';
import type { Endpoint, PairResult, PairTest } from '../verdict/pair.js';
import type { Thresholds } from '../verdict/thresholds.js';
import { judgePair, type Verdict } from '../verdict/verdict.js';
import { placementWarnings } from './describe.js';

export const BENCH_REPORT_API_VERSION = 'rdmasched.io/v1';
export const BENCH_REPORT_KIND = 'RdmaBenchReport';

export interface ReportPair {
  readonly id: string;
  readonly test: PairTest;
  readonly server: Endpoint;
  readonly client: Endpoint;
  readonly verdict: Verdict;
  /** Placement facts known to cost bandwidth (far GPU, CPU on the other socket). */
  readonly placementWarnings: readonly string[];
  /** The parsed perftest output (figures, settings, warnings); null when the run failed. */
  readonly result: PerftestResult | null;
  /** Why there is no result, and the end of the logs. */
  readonly failure: { readonly reason: string; readonly logTail: string | null } | null;
}

export interface ReportSummary {
  readonly pairs: number;
  readonly pass: number;
  readonly fail: number;
  readonly noVerdict: number;
  readonly error: number;
}

export interface BenchReport {
  readonly apiVersion: typeof BENCH_REPORT_API_VERSION;
  readonly kind: typeof BENCH_REPORT_KIND;
  readonly title: string;
  /** RFC 3339. */
  readonly generatedAt: string;
  readonly thresholds: Thresholds;
  readonly summary: ReportSummary;
  readonly pairs: readonly ReportPair[];
}

/** Judges every pair and builds the report. Pair ids must be unique (a bug otherwise). */
export function buildReport(
  pairs: readonly PairResult[],
  opts: { title: string; thresholds: Thresholds; now: Date },
): BenchReport {
  const seen = new Set<string>();
  for (const p of pairs) {
    if (seen.has(p.id)) throw new Error(`pair id ${JSON.stringify(p.id)} appears twice in one report`);
    seen.add(p.id);
  }
  const reportPairs: ReportPair[] = pairs.map((p) => ({
    id: p.id,
    test: p.test,
    server: p.server,
    client: p.client,
    verdict: judgePair(p, opts.thresholds),
    placementWarnings: [...placementWarnings(p.server), ...placementWarnings(p.client)],
    result: p.outcome.status === 'measured' ? p.outcome.result : null,
    failure: p.outcome.status === 'failed' ? { reason: p.outcome.reason, logTail: p.outcome.logTail } : null,
  }));
  const count = (s: Verdict['status']) => reportPairs.filter((p) => p.verdict.status === s).length;
  return {
    apiVersion: BENCH_REPORT_API_VERSION,
    kind: BENCH_REPORT_KIND,
    title: opts.title,
    generatedAt: opts.now.toISOString(),
    thresholds: opts.thresholds,
    summary: {
      pairs: reportPairs.length,
      pass: count('pass'),
      fail: count('fail'),
      noVerdict: count('no-verdict'),
      error: count('error'),
    },
    pairs: reportPairs,
  };
}

/** The JSON report: the model as it is, two-space indented, newline at the end. */
export function renderJson(report: BenchReport): string {
  return `${JSON.stringify(report, null, 2)}\n`;
}

/** True when every pair passed (an empty report passes nothing). */
export function allPassed(report: BenchReport): boolean {
  return report.summary.pairs > 0 && report.summary.pass === report.summary.pairs;
}

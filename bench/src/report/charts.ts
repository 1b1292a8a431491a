/** The bandwidth and latency charts of a report. */
import { formatBytes, formatGbps, formatPercent, formatUs } from '../verdict/format.js';
import { latencyLimitUs } from '../verdict/thresholds.js';
import type { BandwidthCheck, LatencyCheck } from '../verdict/verdict.js';
import { renderRowChart, type ChartRow } from './chart.js';
import { describeEndpoint, shortEndpoint } from './describe.js';
import type { BenchReport, ReportPair } from './report.js';

function subtitle(report: BenchReport, what: string): string {
  return `${report.title} · ${report.generatedAt.slice(0, 16).replace('T', ' ')} UTC · ${what}`;
}

function tooltip(p: ReportPair): string {
  return [
    p.id,
    `server: ${describeEndpoint(p.server)}`,
    `client: ${describeEndpoint(p.client)}`,
    ...p.verdict.reasons,
    ...p.placementWarnings.map((w) => `placement: ${w}`),
  ].join('\n');
}

function placementNote(p: ReportPair): string | null {
  const [first, ...rest] = p.placementWarnings;
  if (first === undefined) return null;
  return rest.length === 0 ? first : `${first} (+${rest.length} more)`;
}

function label(p: ReportPair): [string, string, string] {
  return [p.id, shortEndpoint(p.server), shortEndpoint(p.client)];
}

/** Measured bandwidth per pair against its line rate (solid) and pass threshold (dashed). */
export function renderBandwidthChart(report: BenchReport): string {
  const pct = formatPercent(report.thresholds.minBandwidthFraction);
  const rows: ChartRow[] = report.pairs
    .filter((p) => p.test.kind === 'bandwidth')
    .map((p) => {
      const check = p.verdict.checks.find((c): c is BandwidthCheck => c.kind === 'bandwidth');
      const measured = p.verdict.measured?.kind === 'bandwidth' ? p.verdict.measured : null;
      let caption: string;
      if (check !== undefined)
        caption = `${formatGbps(check.measuredGbps)} at ${formatBytes(check.messageSizeBytes)} = ${formatPercent(check.fractionOfLineRate)} of ${formatGbps(check.lineRateGbps)} line rate${check.bidirectional ? ' (bidirectional)' : ''}; needs ${formatGbps(check.thresholdGbps)}`;
      else if (measured !== null)
        caption = `${formatGbps(measured.gbps)} at ${formatBytes(measured.messageSizeBytes)}; line rate unknown`;
      else caption = p.verdict.reasons[0] ?? 'no result';
      return {
        id: p.id,
        status: p.verdict.status,
        label: label(p),
        value: check?.measuredGbps ?? measured?.gbps ?? null,
        reference: check?.lineRateGbps ?? null,
        threshold: check?.thresholdGbps ?? null,
        caption,
        note: placementNote(p),
        tooltip: tooltip(p),
      };
    });
  return renderRowChart({
    title: 'RDMA bandwidth per pair against line rate',
    subtitle: subtitle(report, `pass at ≥ ${pct} of line rate (port rate, ×2 when bidirectional)`),
    axisLabel: 'Measured bandwidth, BW average (Gb/s, 1 Gb = 10^9 bit)',
    rows,
    referenceLegend: 'line rate',
    thresholdLegend: `pass threshold (${pct} of line rate)`,
    emptyMessage: 'No bandwidth results in this report',
    description: `Horizontal bars show the measured bandwidth of ${rows.length} pair(s); a solid marker shows each pair's line rate and a dashed marker the ${pct} pass threshold. ${report.summary.pass} of ${report.summary.pairs} pairs in the report pass.`,
  });
}

/** t_avg per pair against its limit (dashed). */
export function renderLatencyChart(report: BenchReport): string {
  const t = report.thresholds;
  const rows: ChartRow[] = report.pairs
    .filter((p) => p.test.kind === 'latency')
    .map((p) => {
      const check = p.verdict.checks.find((c): c is LatencyCheck => c.kind === 'latency');
      let caption: string;
      if (check !== undefined) {
        const extra = [
          check.typicalUs !== null ? `median ${formatUs(check.typicalUs)}` : null,
          check.p99Us !== null ? `p99 ${formatUs(check.p99Us)}` : null,
        ].filter((s) => s !== null);
        caption = `t_avg ${formatUs(check.measuredUs)} at ${formatBytes(check.messageSizeBytes)}${extra.length > 0 ? ` (${extra.join(', ')})` : ''}; limit ${formatUs(check.thresholdUs)} (${check.verb})`;
      } else caption = p.verdict.reasons[0] ?? 'no result';
      return {
        id: p.id,
        status: p.verdict.status,
        label: label(p),
        value: check?.measuredUs ?? null,
        reference: null,
        threshold: check?.thresholdUs ?? latencyLimitUs(p.test.verb, t),
        caption,
        note: placementNote(p),
        tooltip: tooltip(p),
      };
    });
  return renderRowChart({
    title: 'RDMA latency per pair (t_avg)',
    subtitle: subtitle(
      report,
      `pass at t_avg ≤ ${formatUs(t.maxWriteLatencyUs)} for write/send, ≤ ${formatUs(t.maxReadLatencyUs)} for read/atomic`,
    ),
    axisLabel: 't_avg (µs; one-way for write/send, round trip for read/atomic, as perftest reports)',
    rows,
    referenceLegend: null,
    thresholdLegend: 'latency limit',
    emptyMessage: 'No latency results in this report',
    description: `Horizontal bars show the average latency t_avg of ${rows.length} pair(s); a dashed marker shows each pair's limit.`,
  });
}

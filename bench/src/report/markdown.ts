/** The Markdown report: summary, charts, one table per kind, then the details of every pair. */
import { formatBytes, formatGbps, formatNumber, formatPercent, formatUs } from '../verdict/format.js';
import type { BandwidthCheck, LatencyCheck } from '../verdict/verdict.js';
import { STATUS_STYLE } from './chart.js';
import { describeEndpoint } from './describe.js';
import type { BenchReport, ReportPair } from './report.js';

export interface MarkdownOptions {
  /** Relative paths of the chart files to embed; omitted charts are not linked. */
  readonly bandwidthChart?: string;
  readonly latencyChart?: string;
}

const cell = (s: string): string => s.replaceAll('|', '\\|').replace(/\r?\n/g, ' ');
const row = (cells: readonly string[]): string => `| ${cells.map(cell).join(' | ')} |`;
const code = (s: string): string => `\`${s.replaceAll('`', "'")}\``;

export function renderMarkdown(report: BenchReport, opts: MarkdownOptions = {}): string {
  const t = report.thresholds;
  const s = report.summary;
  const out: string[] = [];
  out.push(`# ${report.title}`, '');
  out.push(
    `Generated ${report.generatedAt}. Thresholds: bandwidth ≥ ${formatPercent(t.minBandwidthFraction)} of line rate` +
      ` (port rate, ×2 when bidirectional); t_avg ≤ ${formatUs(t.maxWriteLatencyUs)} for write/send,` +
      ` ≤ ${formatUs(t.maxReadLatencyUs)} for read/atomic.`,
    '',
  );
  out.push(
    `**${s.pass} of ${s.pairs} pairs passed** (${STATUS_STYLE.pass.word} ${s.pass} · ${STATUS_STYLE.fail.word} ${s.fail} · ` +
      `${STATUS_STYLE['no-verdict'].word} ${s.noVerdict} · ${STATUS_STYLE.error.word} ${s.error})`,
    '',
  );

  const bw = report.pairs.filter((p) => p.test.kind === 'bandwidth');
  const lat = report.pairs.filter((p) => p.test.kind === 'latency');
  if (opts.bandwidthChart !== undefined && bw.length > 0)
    out.push(`![Measured bandwidth per pair against line rate](${opts.bandwidthChart})`, '');
  if (opts.latencyChart !== undefined && lat.length > 0)
    out.push(`![Latency per pair](${opts.latencyChart})`, '');

  if (bw.length > 0) {
    out.push('## Bandwidth', '');
    out.push(
      row([
        'Pair',
        'Verdict',
        'Measured',
        'Line rate',
        '% of line rate',
        'Threshold',
        'Size · QPs',
        'Server',
        'Client',
      ]),
    );
    out.push(row(Array.from({ length: 9 }, () => '---')));
    for (const p of bw) out.push(bandwidthRow(p));
    out.push('');
  }
  if (lat.length > 0) {
    out.push('## Latency', '');
    out.push(row(['Pair', 'Verdict', 't_avg', 'Median', 'p99', 'Limit', 'Size', 'Server', 'Client']));
    out.push(row(Array.from({ length: 9 }, () => '---')));
    for (const p of lat) out.push(latencyRow(p));
    out.push('');
  }
  if (report.pairs.length === 0) out.push('No pairs were measured.', '');

  out.push('## Details', '');
  for (const p of report.pairs) out.push(...details(p));

  out.push('## How to read this report', '');
  out.push(
    '- Bandwidth is `BW average` at the largest message size of the run, in Gb/s (10^9 bit/s); several rows of one size (`--run_infinitely`) are averaged.',
    '- Line rate is the lower port rate of the two sides (node report `rateGbps` or sysfs `ports/1/rate`), doubled for a bidirectional test.',
    '- Latency is `t_avg` at the smallest message size. perftest reports half the round trip for write/send and the full round trip for read/atomic.',
    '- NO VERDICT: a figure was measured but no port rate was known. ERROR: nothing was measured; the reason and the end of the logs are in the details.',
    '- Placement warnings name what is known to cost bandwidth: a GPU far from the NIC (NODE, SYS) or a benchmark on the other NUMA node than its NIC.',
    '',
  );
  return out.join('\n');
}

function sizeQps(p: ReportPair): string {
  const size = p.result?.settings.messageSizesBytes;
  const sizes =
    size !== undefined && size.length > 1
      ? `${formatBytes(Math.min(...size))}–${formatBytes(Math.max(...size))}`
      : formatBytes(p.test.messageSizeBytes);
  return `${sizes} · ${p.result?.settings.qps ?? p.test.qps ?? '?'}`;
}

function bandwidthRow(p: ReportPair): string {
  const c = p.verdict.checks.find((x): x is BandwidthCheck => x.kind === 'bandwidth');
  const m = p.verdict.measured?.kind === 'bandwidth' ? p.verdict.measured : null;
  return row([
    p.id,
    STATUS_STYLE[p.verdict.status].word,
    c !== undefined ? formatGbps(c.measuredGbps) : m !== null ? formatGbps(m.gbps) : '—',
    c !== undefined ? `${formatGbps(c.lineRateGbps)}${c.bidirectional ? ' (2 × port)' : ''}` : 'unknown',
    c !== undefined ? formatPercent(c.fractionOfLineRate) : '—',
    c !== undefined ? formatGbps(c.thresholdGbps) : '—',
    sizeQps(p),
    describeEndpoint(p.server),
    describeEndpoint(p.client),
  ]);
}

function latencyRow(p: ReportPair): string {
  const c = p.verdict.checks.find((x): x is LatencyCheck => x.kind === 'latency');
  const us = (v: number | null | undefined) => (v === null || v === undefined ? '—' : formatUs(v));
  return row([
    p.id,
    STATUS_STYLE[p.verdict.status].word,
    us(c?.measuredUs),
    us(c?.typicalUs),
    us(c?.p99Us),
    c !== undefined ? `${formatUs(c.thresholdUs)} (${c.verb})` : '—',
    formatBytes(c?.messageSizeBytes ?? p.test.messageSizeBytes),
    describeEndpoint(p.server),
    describeEndpoint(p.client),
  ]);
}

function details(p: ReportPair): string[] {
  const out = [`### ${p.id}`, ''];
  out.push(`- Verdict: **${STATUS_STYLE[p.verdict.status].word}**`);
  for (const r of p.verdict.reasons) out.push(`  - ${r}`);
  out.push(`- Server: ${describeEndpoint(p.server)}`);
  out.push(`- Client: ${describeEndpoint(p.client)}`);
  for (const w of p.placementWarnings) out.push(`- ⚠ Placement: ${w}`);
  const r = p.result;
  if (r !== null) {
    const st = r.settings;
    const facts = [
      st.testName,
      st.device !== null ? `device ${st.device}` : null,
      st.linkType !== null ? `link ${st.linkType}` : null,
      st.connectionType,
      st.qps !== null ? `${st.qps} QP${st.qps === 1 ? '' : 's'}` : null,
      st.mtuBytes !== null ? `MTU ${st.mtuBytes}` : null,
      st.dataExchange !== null ? `exchange ${st.dataExchange}` : null,
      st.gidIndex !== null ? `GID index ${st.gidIndex}` : null,
      r.kind === 'bandwidth' ? `printed in ${r.unit}` : null,
      `from ${r.source === 'json' ? '--out_json' : 'text output'}`,
    ].filter((x): x is string => x !== null);
    out.push(`- Test: ${facts.join(', ')}`);
    if (r.kind === 'bandwidth' && r.rows.length > 1) {
      out.push(
        `- Rows: ${r.rows.map((x) => `${formatBytes(x.messageSizeBytes)} ${formatNumber(x.average.gbps)}`).join(', ')} (Gb/s)`,
      );
    }
    for (const w of r.warnings)
      out.push(
        `- perftest ${w.kind}${w.lineNumber !== null ? ` (line ${w.lineNumber})` : ''}: ${w.line !== null ? `${code(w.line.trim())} — ` : ''}${w.message}`,
      );
  }
  if (p.failure !== null && p.failure.logTail !== null && p.failure.logTail !== '') {
    out.push('- End of the logs:', '', '  ```text');
    for (const l of p.failure.logTail.split('\n')) out.push(`  ${l.replaceAll('```', "'''")}`);
    out.push('  ```');
  }
  out.push('');
  return out;
}

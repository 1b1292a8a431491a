/**
 * `rdmasched-bench parse FILE [--json] [--bw-unit U | --text FILE] [--port-rate R | --port-rate-gbps N]`
 *
 * Parses perftest output (text, or an `--out_json` file) and prints the normalised figures; with a
 * port rate it also prints the verdict. FILE `-` reads standard input (`kubectl logs pod | ...`).
 */
import { readFile } from 'node:fs/promises';
import type { Command } from '../command.js';
import { parseCommandArgs, thresholdOptions } from '../command-options.js';
import {
  looksLikeJson,
  parsePerftestJson,
  parsePerftestText,
  parseBandwidthUnit,
} from '../perftest/index.js';
import type { BandwidthUnit, PerftestResult } from '../perftest/index.js';
import { EXIT } from '../rdma-local/exit-codes.js';
import { processIo, type CommandIo } from '../rdma-local/io.js';
import { formatNumber } from '../verdict/format.js';
import { parseSysfsRate } from '../verdict/port-rate.js';
import type { PortRateSource } from '../verdict/pair.js';
import { judgeResult, type Verdict } from '../verdict/verdict.js';

const USAGE = `usage: rdmasched-bench parse FILE [options]

Parses ib_write_bw / ib_read_bw / ib_send_bw / ib_*_lat output (text, or an --out_json file) and
prints the figures: bandwidth in Gb/s (10^9 bit/s) and bytes/s, latency in µs, message rate in Mpps,
plus the test settings. FILE - reads standard input.

options:
  --json                    print {"result": ..., "verdict": ...|null} as JSON
  --judge                   also print the verdict (implied by --port-rate*; bandwidth needs a
                            port rate, latency is judged against the t_avg limits)
  --bw-unit MiB/s|Gb/s      unit of an --out_json bandwidth file (it has none): Gb/s if the run
                            used --report_gbits, else MiB/s
  --text FILE               the text output of the same run as the --out_json FILE: gives the
                            unit and is cross-checked against the JSON figures
  --port-rate "400 Gb/sec (4X NDR)"
                            port rate as sysfs prints it (/sys/class/infiniband/<dev>/ports/1/rate):
                            also judge the result
  --port-rate-gbps N        the same as a number of Gb/s
  --min-bw-fraction F       bandwidth threshold as a fraction of line rate (default 0.9)
  --max-write-lat-us N      t_avg limit for write/send latency (default 2.5)
  --max-read-lat-us N       t_avg limit for read/atomic latency (default 4.5)

exit codes: 0 parsed (and passed, when judged); 1 verdict failed; 2 usage or unreadable file;
            5 output not parseable, or no verdict possible`;

export function createParseCommand(
  io: CommandIo = processIo,
  readStdin: () => Promise<string> = () => readAll(process.stdin),
): Command {
  return {
    name: 'parse',
    summary: 'parse perftest output (text or --out_json) into normalised figures, optionally judge it',
    async run(argv) {
      const parsed = parseCommandArgs(
        {
          args: [...argv],
          allowPositionals: true,
          options: {
            json: { type: 'boolean', default: false },
            judge: { type: 'boolean', default: false },
            'bw-unit': { type: 'string' },
            text: { type: 'string' },
            'port-rate': { type: 'string' },
            'port-rate-gbps': { type: 'string' },
            'min-bw-fraction': { type: 'string' },
            'max-write-lat-us': { type: 'string' },
            'max-read-lat-us': { type: 'string' },
            help: { type: 'boolean', short: 'h', default: false },
          },
        },
        io,
        USAGE,
      );
      if ('exit' in parsed) return parsed.exit;
      const { values, positionals } = parsed;
      const problems: string[] = [];
      if (positionals.length !== 1) problems.push(`expected one FILE, got ${positionals.length}`);
      let unit: BandwidthUnit | undefined;
      if (values['bw-unit'] !== undefined) {
        unit = parseBandwidthUnit(values['bw-unit']);
        if (unit === undefined)
          problems.push(`--bw-unit must be MiB/s or Gb/s, got ${JSON.stringify(values['bw-unit'])}`);
      }
      let portRate: PortRateSource | null = null;
      if (values['port-rate'] !== undefined && values['port-rate-gbps'] !== undefined)
        problems.push('give --port-rate or --port-rate-gbps, not both');
      else if (values['port-rate'] !== undefined) {
        const r = parseSysfsRate(values['port-rate']);
        if (r.ok)
          portRate = {
            gbps: r.value.gbps,
            source: 'given',
            detail: `--port-rate ${JSON.stringify(values['port-rate'])}`,
          };
        else problems.push(`--port-rate: ${r.error}`);
      } else if (values['port-rate-gbps'] !== undefined) {
        const n = Number(values['port-rate-gbps']);
        if (Number.isFinite(n) && n > 0)
          portRate = { gbps: n, source: 'given', detail: `--port-rate-gbps ${values['port-rate-gbps']}` };
        else
          problems.push(
            `--port-rate-gbps must be a positive number, got ${JSON.stringify(values['port-rate-gbps'])}`,
          );
      }
      const thresholds = thresholdOptions(values, problems);
      if (problems.length > 0 || !thresholds.ok) {
        io.err(`${problems.join('\n')}\n\n${USAGE}`);
        return EXIT.usage;
      }

      const file = positionals[0] ?? '-';
      const read = async (path: string) => (path === '-' ? readStdin() : readFile(path, 'utf8'));
      let content: string;
      let textContent: string | undefined;
      try {
        content = await read(file);
        if (values.text !== undefined) textContent = await readFile(values.text, 'utf8');
      } catch (err: unknown) {
        io.err(`cannot read input: ${err instanceof Error ? err.message : String(err)}`);
        return EXIT.usage;
      }

      let outcome;
      if (looksLikeJson(content)) {
        let companion: PerftestResult | undefined;
        if (textContent !== undefined) {
          const t = parsePerftestText(textContent);
          if (!t.ok) {
            io.err(`${values.text}: ${t.error.message} [${t.error.code}]`);
            return EXIT.noVerdict;
          }
          companion = t.value;
        }
        outcome = parsePerftestJson(content, {
          ...(unit !== undefined ? { bandwidthUnit: unit } : {}),
          ...(companion !== undefined ? { text: companion } : {}),
        });
      } else {
        if (values.text !== undefined || unit !== undefined)
          io.err('note: --text and --bw-unit apply to --out_json input only; the text output names its unit');
        outcome = parsePerftestText(content);
      }
      if (!outcome.ok) {
        io.err(`${file === '-' ? 'stdin' : file}: ${outcome.error.message} [${outcome.error.code}]`);
        return EXIT.noVerdict;
      }
      const result = outcome.value;
      const judge = values.judge || portRate !== null;
      const verdict = judge ? judgeResult(result, { portRate, thresholds: thresholds.value }) : null;

      if (values.json) io.out(JSON.stringify({ result, verdict }, null, 2));
      else io.out(describe(result, verdict));
      if (verdict === null) return EXIT.ok;
      return verdict.status === 'pass' ? EXIT.ok : verdict.status === 'fail' ? EXIT.fail : EXIT.noVerdict;
    },
  };
}

export const parseCommand: Command = createParseCommand();

async function readAll(stream: NodeJS.ReadableStream): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const c of stream) chunks.push(typeof c === 'string' ? Buffer.from(c) : c);
  return Buffer.concat(chunks).toString('utf8');
}

function table(head: readonly string[], rows: readonly (readonly string[])[]): string[] {
  const widths = head.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? '').length)));
  const line = (r: readonly string[]) =>
    r
      .map((c, i) => c.padEnd(widths[i] ?? 0))
      .join('  ')
      .trimEnd();
  return [line(head), ...rows.map(line)];
}

const n = (v: number | null): string => (v === null ? '-' : String(v));

function describe(r: PerftestResult, verdict: Verdict | null): string {
  const s = r.settings;
  const out: string[] = [];
  out.push(
    `${s.testName} · from ${r.source === 'json' ? '--out_json' : 'text output'}${r.kind === 'bandwidth' ? ` · bandwidth printed in ${r.unit}${s.unitLabel !== null ? ` (label ${s.unitLabel})` : ''}` : ' · latency in µs'}`,
  );
  const facts = [
    s.device !== null ? `device ${s.device}` : null,
    s.linkType !== null ? `link ${s.linkType}` : null,
    s.transportType !== null ? `transport ${s.transportType}` : null,
    s.connectionType,
    s.qps !== null ? `${s.qps} QP${s.qps === 1 ? '' : 's'}` : null,
    s.mtuBytes !== null ? `MTU ${s.mtuBytes} B` : null,
    s.txDepth !== null ? `TX depth ${s.txDepth}` : null,
    s.gidIndex !== null ? `GID index ${s.gidIndex}` : null,
    s.dataExchange !== null ? `exchange ${s.dataExchange}` : null,
    s.bidirectional ? 'bidirectional' : null,
    s.timeSeries ? 'time series (--run_infinitely)' : null,
    s.durationMode ? 'duration mode' : null,
    r.commandLine !== null ? `command: ${r.commandLine}` : null,
  ].filter((x): x is string => x !== null);
  if (facts.length > 0) out.push(facts.join(' · '));
  out.push('');
  if (r.kind === 'bandwidth')
    out.push(
      ...table(
        [
          'line',
          'bytes',
          'iterations',
          'BW avg Gb/s',
          'BW avg bytes/s',
          'BW peak Gb/s',
          'MsgRate Mpps',
          'CPU %',
        ],
        r.rows.map((x) => [
          n(x.lineNumber),
          n(x.messageSizeBytes),
          n(x.iterations),
          formatNumber(x.average.gbps),
          String(Math.round(x.average.bytesPerSecond)),
          x.peak === null ? 'not measured' : formatNumber(x.peak.gbps),
          n(x.msgRateMpps),
          n(x.cpuUtilPercent),
        ]),
      ),
    );
  else
    out.push(
      ...table(
        [
          'line',
          'bytes',
          'iterations',
          't_min',
          't_max',
          't_typical',
          't_avg',
          't_stdev',
          'p99',
          'p99.9',
          'tps',
        ],
        r.rows.map((x) => [
          n(x.lineNumber),
          n(x.messageSizeBytes),
          n(x.iterations),
          n(x.minUs),
          n(x.maxUs),
          n(x.typicalUs),
          String(x.avgUs),
          n(x.stdevUs),
          n(x.p99Us),
          n(x.p999Us),
          n(x.tpsAverage),
        ]),
      ),
    );
  if (r.warnings.length > 0) out.push('');
  for (const w of r.warnings)
    out.push(
      `${w.kind}${w.lineNumber !== null ? ` (line ${w.lineNumber})` : ''}: ${w.message}${w.line !== null ? ` — ${JSON.stringify(w.line.trim())}` : ''}`,
    );
  if (verdict !== null) {
    out.push('', `verdict: ${verdict.status.toUpperCase()}`);
    for (const reason of verdict.reasons) out.push(`  ${reason}`);
  }
  return out.join('\n');
}

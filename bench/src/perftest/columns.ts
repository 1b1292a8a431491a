/**
 * The result column headers perftest prints (`RESULT_FMT*` in `src/perftest_parameters.h`):
 *
 *   ` #bytes     #iterations    BW peak[MiB/sec]    BW average[MiB/sec]   MsgRate[Mpps]`
 *   (`MB/sec` before 24.07, `Gb/sec` with --report_gbits, `#sl` for QoS, per-port columns with
 *   --report-per-port, `CPU_Util[%]` with --cpu_util; old builds omit the `#`)
 *   ` #bytes #iterations    t_min[usec]    t_max[usec]  t_typical[usec]    t_avg[usec]
 *     t_stdev[usec]   99% percentile[usec]   99.9% percentile[usec]`
 *   ` #bytes        #iterations       t_avg[usec]    tps average`            (latency with -D)
 *
 * Rows are split on whitespace, never on fixed columns (the formats mix spaces and tabs).
 */
import { unitFromLabel, type BandwidthUnit } from './units.js';

export type ColumnId =
  | 'bytes'
  | 'sl'
  | 'iterations'
  | 'bwPeak'
  | 'bwAvg'
  | 'msgRate'
  | 'bwPort1'
  | 'msgRatePort1'
  | 'bwPort2'
  | 'msgRatePort2'
  | 'cpuUtil'
  | 'tMin'
  | 'tMax'
  | 'tTypical'
  | 'tAvg'
  | 'tStdev'
  | 'p99'
  | 'p999'
  | 'tps';

interface LabelSpec {
  readonly id: ColumnId | 'bwPort' | 'msgRatePort';
  readonly source: string;
}

// Order matters where one label is a prefix of another (`99.9%` before `99%` is not needed
// since both end in `percentile`, but `MsgRate Port` must come before `MsgRate`).
const LABELS: readonly LabelSpec[] = [
  { id: 'bytes', source: '#?bytes' },
  { id: 'sl', source: '#sl' },
  { id: 'iterations', source: '#?iterations' },
  { id: 'bwPeak', source: 'BW peak\\[(MB|MiB|Gb)/sec\\]' },
  { id: 'bwAvg', source: 'BW average\\[(MB|MiB|Gb)/sec\\]' },
  { id: 'bwPort', source: 'BW Port([12])\\[(MB|MiB|Gb)/sec\\]' },
  { id: 'msgRatePort', source: 'MsgRate Port([12])\\[Mpps\\]' },
  { id: 'msgRate', source: 'MsgRate\\[Mpps\\]' },
  { id: 'cpuUtil', source: 'CPU_Util\\[%\\]' },
  { id: 'tMin', source: 't_min\\[(usec|cycles)\\]' },
  { id: 'tMax', source: 't_max\\[(usec|cycles)\\]' },
  { id: 'tTypical', source: 't_typical\\[(usec|cycles)\\]' },
  { id: 'tAvg', source: 't_avg\\[(usec|cycles)\\]' },
  { id: 'tStdev', source: 't_stdev\\[(usec|cycles)\\]' },
  { id: 'p999', source: '99\\.9% percentile\\[(usec|cycles)\\]' },
  { id: 'p99', source: '99% percentile\\[(usec|cycles)\\]' },
  { id: 'tps', source: 'tps average' },
];

const LABEL_RES = LABELS.map((l) => ({ id: l.id, re: new RegExp(`^(?:${l.source})(?=\\s|$)`) }));

export interface ColumnLayout {
  readonly kind: 'bandwidth' | 'latency';
  readonly columns: readonly ColumnId[];
  /** Bandwidth unit of the BW columns; null for latency. */
  readonly unit: BandwidthUnit | null;
  /** The unit label as printed (`MiB/sec`, `MB/sec`, `Gb/sec`). */
  readonly unitLabel: string | null;
  /** Latency with -D: only t_avg and tps. */
  readonly durationMode: boolean;
  /** Time columns labelled in cycles. */
  readonly cycles: boolean;
}

/** True when the line looks like a result column header (starts with `#bytes` or `bytes`). */
export function looksLikeColumnHeader(line: string): boolean {
  return /^\s*#?bytes\s/.test(line);
}

/**
 * Reads a column header line. Returns the layout, or a sentence saying what is wrong (an unknown
 * column, a missing one, mixed units). Never guesses.
 */
export function parseColumnHeader(
  line: string,
): { ok: true; layout: ColumnLayout } | { ok: false; why: string } {
  const columns: ColumnId[] = [];
  const unitLabels = new Set<string>();
  let cycles = false;
  let rest = line.trim();
  while (rest.length > 0) {
    let matched = false;
    for (const { id, re } of LABEL_RES) {
      const m = re.exec(rest);
      if (m === null) continue;
      matched = true;
      if (id === 'bwPort' || id === 'msgRatePort') {
        const port = m[1];
        columns.push(
          id === 'bwPort'
            ? port === '1'
              ? 'bwPort1'
              : 'bwPort2'
            : port === '1'
              ? 'msgRatePort1'
              : 'msgRatePort2',
        );
        if (id === 'bwPort' && m[2] !== undefined) unitLabels.add(`${m[2]}/sec`);
      } else {
        columns.push(id);
        if ((id === 'bwPeak' || id === 'bwAvg') && m[1] !== undefined) unitLabels.add(`${m[1]}/sec`);
        if (m[1] === 'cycles') cycles = true;
      }
      rest = rest.slice(m[0].length).trimStart();
      break;
    }
    if (!matched)
      return { ok: false, why: `unknown column starting at ${JSON.stringify(rest.slice(0, 30))}` };
  }
  const dup = columns.find((c, i) => columns.indexOf(c) !== i);
  if (dup !== undefined) return { ok: false, why: `column ${dup} appears twice` };
  if (unitLabels.size > 1)
    return { ok: false, why: `bandwidth columns in different units (${[...unitLabels].join(', ')})` };

  const has = (...ids: ColumnId[]) => ids.every((id) => columns.includes(id));
  const missing = (ids: ColumnId[]) => ids.filter((id) => !columns.includes(id)).join(', ');
  const base: ColumnId[] = ['bytes', 'iterations'];
  if (columns.includes('bwAvg') || columns.includes('bwPeak')) {
    const need: ColumnId[] = [...base, 'bwPeak', 'bwAvg', 'msgRate'];
    if (!has(...need)) return { ok: false, why: `bandwidth header without ${missing(need)}` };
    const label = [...unitLabels][0] ?? '';
    const unit = unitFromLabel(label);
    if (unit === undefined) return { ok: false, why: `unknown bandwidth unit ${JSON.stringify(label)}` };
    return {
      ok: true,
      layout: { kind: 'bandwidth', columns, unit, unitLabel: label, durationMode: false, cycles },
    };
  }
  if (columns.includes('tAvg')) {
    const durationMode = columns.includes('tps');
    const need: ColumnId[] = durationMode
      ? [...base, 'tAvg', 'tps']
      : [...base, 'tMin', 'tMax', 'tTypical', 'tAvg', 'tStdev', 'p99', 'p999'];
    if (!has(...need)) return { ok: false, why: `latency header without ${missing(need)}` };
    return {
      ok: true,
      layout: { kind: 'latency', columns, unit: null, unitLabel: null, durationMode, cycles },
    };
  }
  return { ok: false, why: 'neither bandwidth (BW average) nor latency (t_avg) columns' };
}

export function sameLayout(a: ColumnLayout, b: ColumnLayout): boolean {
  return a.columns.join(',') === b.columns.join(',') && a.unitLabel === b.unitLabel;
}

/** Human names for messages. */
export const COLUMN_LABEL: Readonly<Record<ColumnId, string>> = {
  bytes: '#bytes',
  sl: '#sl',
  iterations: '#iterations',
  bwPeak: 'BW peak',
  bwAvg: 'BW average',
  msgRate: 'MsgRate',
  bwPort1: 'BW Port1',
  msgRatePort1: 'MsgRate Port1',
  bwPort2: 'BW Port2',
  msgRatePort2: 'MsgRate Port2',
  cpuUtil: 'CPU_Util',
  tMin: 't_min',
  tMax: 't_max',
  tTypical: 't_typical',
  tAvg: 't_avg',
  tStdev: 't_stdev',
  p99: '99% percentile',
  p999: '99.9% percentile',
  tps: 'tps average',
};

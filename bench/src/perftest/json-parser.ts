/**
 * Parser for perftest `--out_json` files (reference: perftest.md §6).
 *
 * The file has known defects, repaired here and reported as `json-repair` warnings:
 * - `--output=bandwidth|message_rate` leaves a comma before the closing brace (`"bw_avg": X,\n}`);
 * - the QoS variant writes an unquoted key (`sl: 0`).
 * Nothing else is repaired: any other defect is an error naming the line.
 *
 * The file carries **no unit**: bandwidth is MiB/s, or Gb/s when the run had `--report_gbits`. So
 * the caller must say which, explicitly (`bandwidthUnit`), or hand over the parsed text output of
 * the same run (`text`), which gives the unit and is cross-checked against the JSON figures.
 * With `-a` perftest rewrites the file for every size, so only the last size survives in it.
 */
import { parseError, type ParseOutcome } from './errors.js';
import { parseJsonTitle } from './header.js';
import { firstJsonErrorOffset } from './json-position.js';
import { JSON_KEYS, applyValue, buildSettings, emptyHeaderSettings } from './settings.js';
import type {
  BandwidthResult,
  BandwidthRow,
  LatencyResult,
  LatencyRow,
  PerftestResult,
  PerftestWarning,
} from './types.js';
import { toBandwidth, type BandwidthUnit } from './units.js';

export interface JsonParseOptions {
  /**
   * Unit of `BW_peak`, `BW_average` and `bw_avg`: `Gb/s` when the run used `--report_gbits`,
   * else `MiB/s`. Required for bandwidth files unless `text` is given; ignored for latency.
   */
  readonly bandwidthUnit?: BandwidthUnit;
  /**
   * The parsed text output of the same run. Gives the unit, and the JSON must agree with it
   * (same test, and the figures of its row for the same message size, to the printed precision).
   */
  readonly text?: PerftestResult;
}

interface Repair {
  readonly code: 'trailing-comma' | 'unquoted-key';
  readonly lineNumber: number;
  readonly detail: string;
}

/**
 * Repairs the two known defects without changing line structure, so error positions still map
 * to the lines of the original file. Strings are copied untouched.
 */
export function repairPerftestJson(text: string): { text: string; repairs: Repair[] } {
  const repairs: Repair[] = [];
  let out = '';
  let inString = false;
  let escaped = false;
  let line = 1;
  for (let i = 0; i < text.length; i++) {
    const c = text[i] ?? '';
    if (c === '\n') line++;
    if (inString) {
      out += c;
      if (escaped) escaped = false;
      else if (c === '\\') escaped = true;
      else if (c === '"') inString = false;
      continue;
    }
    if (c === '"') {
      inString = true;
      out += c;
      continue;
    }
    if (c === ',') {
      const next = /^\s*([}\]])/.exec(text.slice(i + 1));
      if (next !== null) {
        repairs.push({
          code: 'trailing-comma',
          lineNumber: line,
          detail: `comma before "${next[1]}" removed`,
        });
        continue;
      }
    }
    if (/[A-Za-z_]/.test(c) && /[{,]\s*$/.test(out)) {
      const m = /^([A-Za-z_][A-Za-z0-9_.]*)(\s*):/.exec(text.slice(i));
      if (m !== null) {
        const key = m[1] ?? '';
        repairs.push({ code: 'unquoted-key', lineNumber: line, detail: `key ${key} quoted` });
        out += `"${key}"`;
        i += key.length - 1;
        continue;
      }
    }
    out += c;
  }
  return { text: out, repairs };
}

const REPAIR_MEANING: Readonly<Record<Repair['code'], string>> = {
  'trailing-comma':
    'perftest wrote a trailing comma (--output=bandwidth/message_rate); removed before parsing',
  'unquoted-key': 'perftest wrote an unquoted key (QoS "sl:"); quoted before parsing',
};

type Obj = Record<string, unknown>;
const isObj = (v: unknown): v is Obj => typeof v === 'object' && v !== null && !Array.isArray(v);

/** Parses an `--out_json` file. Never throws. */
export function parsePerftestJson(
  json: string,
  options: JsonParseOptions = {},
): ParseOutcome<PerftestResult> {
  if (json.trim() === '') return parseError('EMPTY_INPUT', 'the JSON input is empty');
  const lines = json.split(/\r?\n/);
  const at = (lineNumber: number) => ({ lineNumber, line: lines[lineNumber - 1] ?? '' });
  const lineOfKey = (key: string): number => {
    const i = lines.findIndex((l) => l.includes(`"${key}"`) || new RegExp(`(^|[{,\\s])${key}\\s*:`).test(l));
    return i < 0 ? 1 : i + 1;
  };

  const repaired = repairPerftestJson(json);
  let root: unknown;
  try {
    root = JSON.parse(repaired.text);
  } catch (err: unknown) {
    const message = err instanceof Error ? err.message : String(err);
    const offset = firstJsonErrorOffset(repaired.text);
    // Repairs never add or remove a newline, so the offset's line is the original file's line.
    const lineNumber = offset === undefined ? null : repaired.text.slice(0, offset).split('\n').length;
    const detail = `not valid JSON even after the known perftest repairs (${message})`;
    return lineNumber === null
      ? parseError('BAD_JSON', detail)
      : parseError('BAD_JSON', detail, at(lineNumber));
  }
  const warnings: PerftestWarning[] = repaired.repairs.map((r) => ({
    kind: 'json-repair',
    code: r.code,
    lineNumber: r.lineNumber,
    line: lines[r.lineNumber - 1] ?? null,
    message: `${REPAIR_MEANING[r.code]} (${r.detail})`,
  }));

  if (!isObj(root) || !isObj(root['test_info']) || !isObj(root['results']))
    return parseError(
      'JSON_SHAPE',
      'expected an object with "test_info" and "results" objects, as perftest writes',
    );
  const info = root['test_info'];
  const results = root['results'];

  const test = info['test'];
  const title = typeof test === 'string' ? parseJsonTitle(test) : undefined;
  if (title === undefined)
    return parseError(
      'JSON_SHAPE',
      `test_info.test should name a perftest test (e.g. "RDMA_Write_BW_Test"), got ${JSON.stringify(test)}`,
      at(lineOfKey('test')),
    );

  const header = emptyHeaderSettings();
  const rawHeader: Record<string, string> = {};
  for (const [key, value] of Object.entries(info)) {
    if (key === 'test') continue;
    rawHeader[key] = String(value);
    const spec = JSON_KEYS[key];
    if (spec === undefined) continue;
    const typeOk =
      spec.kind === 'int'
        ? typeof value === 'number' && Number.isSafeInteger(value) && value >= 0
        : typeof value === 'string';
    const problem = typeOk
      ? applyValue(header, spec.field, spec.kind, value as string | number, `test_info.${key}`)
      : `test_info.${key} should be ${spec.kind === 'int' ? 'a whole number' : 'a string'}, got ${JSON.stringify(value)}`;
    if (problem !== undefined) return parseError('JSON_SHAPE', problem, at(lineOfKey(key)));
  }

  // Every figure must be a finite, non-negative number; sizes and iterations whole numbers.
  const num = (key: string, opts: { integer?: boolean } = {}): ParseOutcome<number | null> => {
    if (!(key in results)) return { ok: true, value: null };
    const v = results[key];
    const good =
      typeof v === 'number' &&
      Number.isFinite(v) &&
      v >= 0 &&
      (opts.integer !== true || Number.isSafeInteger(v));
    return good
      ? { ok: true, value: v }
      : parseError(
          'JSON_SHAPE',
          `results.${key} should be ${opts.integer === true ? 'a whole number' : 'a non-negative number'}, got ${JSON.stringify(v)}`,
          at(lineOfKey(key)),
        );
  };
  const read = (keys: readonly string[], integers: readonly string[] = []) => {
    const out: Record<string, number | null> = {};
    for (const k of keys) {
      const r = num(k, { integer: integers.includes(k) });
      if (!r.ok) return r;
      out[k] = r.value;
    }
    return { ok: true as const, value: out };
  };

  if (options.text !== undefined) {
    const t = options.text.settings;
    if (t.kind !== title.kind || t.verb !== title.verb || t.bidirectional !== title.bidirectional)
      return parseError(
        'JSON_TEXT_MISMATCH',
        `the JSON is a ${JSON.stringify(title.testName)} but the text output is a ${JSON.stringify(t.testName)}`,
      );
  }

  const figures = read(
    [
      'MsgSize',
      'n_iterations',
      'BW_peak',
      'BW_average',
      'MsgRate',
      'CPU_util',
      'sl',
      'bw_avg',
      'msgRate_avg',
      't_min',
      't_max',
      't_typical',
      't_avg',
      't_stdev',
      'percentile_99',
      'percentile_99.9',
      'tps_average',
      'avg_lat',
    ],
    ['MsgSize', 'n_iterations', 'sl'],
  );
  if (!figures.ok) return figures;
  const f = figures.value;
  const size = f['MsgSize'] ?? null;
  if (size !== null && size < 1)
    return parseError('JSON_SHAPE', 'results.MsgSize must be at least 1', at(lineOfKey('MsgSize')));
  const commandLine = options.text?.commandLine ?? null;

  if (title.kind === 'bandwidth') {
    const textUnit = options.text?.kind === 'bandwidth' ? options.text.unit : undefined;
    if (options.bandwidthUnit !== undefined && textUnit !== undefined && options.bandwidthUnit !== textUnit)
      return parseError(
        'JSON_TEXT_MISMATCH',
        `bandwidthUnit ${options.bandwidthUnit} was given but the text output of the run is in ${textUnit}`,
      );
    const unit = options.bandwidthUnit ?? textUnit;
    if (unit === undefined)
      return parseError(
        'JSON_UNIT_REQUIRED',
        'perftest JSON files carry no unit: say whether the run used --report_gbits (bandwidthUnit "Gb/s") or not ("MiB/s"), or pass the text output of the same run',
      );
    const avg = f['BW_average'] ?? f['bw_avg'] ?? null;
    if (avg === null)
      return parseError(
        'JSON_SHAPE',
        f['msgRate_avg'] !== null
          ? 'results hold only msgRate_avg (--output=message_rate): there is no bandwidth figure'
          : 'results have neither BW_average nor bw_avg',
        at(lineOfKey('results')),
      );
    const full = f['BW_average'] !== null;
    if (full) {
      const missing = ['MsgSize', 'n_iterations', 'BW_peak', 'MsgRate'].filter((k) => f[k] === null);
      if (missing.length > 0)
        return parseError(
          'JSON_SHAPE',
          `results have BW_average but not ${missing.join(', ')}`,
          at(lineOfKey('results')),
        );
    }
    const bw = (v: number) => ({ ...toBandwidth(v, unit), printed: { value: v, unit, text: null } });
    const peak = f['BW_peak'] ?? null;
    const row: BandwidthRow = {
      lineNumber: null,
      messageSizeBytes: size,
      iterations: f['n_iterations'] ?? null,
      peak: peak === null || peak === 0 ? null : bw(peak),
      average: bw(avg),
      msgRateMpps: f['MsgRate'] ?? null,
      cpuUtilPercent: f['CPU_util'] ?? null,
      ports: [],
      serviceLevel: f['sl'] ?? null,
    };
    if (options.text?.kind === 'bandwidth') {
      const mismatch = crossCheck(
        options.text.rows.map((r) => ({
          size: r.messageSizeBytes,
          value: r.average.printed.value,
          text: r.average.printed.text,
          line: r.lineNumber,
        })),
        size,
        avg,
        'BW average',
      );
      if (mismatch !== undefined) return parseError('JSON_TEXT_MISMATCH', mismatch);
    }
    const result: BandwidthResult = {
      source: 'json',
      kind: 'bandwidth',
      unit,
      rows: [row],
      warnings,
      commandLine,
      settings: buildSettings({
        title,
        header,
        rawHeader,
        rows: [row],
        peakMeasured: full ? row.peak !== null : null,
        durationMode: false,
        addressLines: { local: 0, remote: 0 },
        unitLabel: null,
      }),
    };
    return { ok: true, value: result };
  }

  const avgUs = f['t_avg'] ?? f['avg_lat'] ?? null;
  if (avgUs === null)
    return parseError(
      'JSON_SHAPE',
      'latency results have neither t_avg nor avg_lat',
      at(lineOfKey('results')),
    );
  const durationMode = f['tps_average'] !== null;
  if (f['t_min'] !== null || f['t_typical'] !== null) {
    const missing = [
      'MsgSize',
      'n_iterations',
      't_min',
      't_max',
      't_typical',
      't_stdev',
      'percentile_99',
      'percentile_99.9',
    ].filter((k) => f[k] === null);
    if (missing.length > 0)
      return parseError('JSON_SHAPE', `latency results lack ${missing.join(', ')}`, at(lineOfKey('results')));
  }
  const row: LatencyRow = {
    lineNumber: null,
    messageSizeBytes: size,
    iterations: f['n_iterations'] ?? null,
    minUs: f['t_min'] ?? null,
    maxUs: f['t_max'] ?? null,
    typicalUs: f['t_typical'] ?? null,
    avgUs,
    stdevUs: f['t_stdev'] ?? null,
    p99Us: f['percentile_99'] ?? null,
    p999Us: f['percentile_99.9'] ?? null,
    tpsAverage: f['tps_average'] ?? null,
    cpuUtilPercent: f['CPU_util'] ?? null,
  };
  if (options.text?.kind === 'latency') {
    const mismatch = crossCheck(
      options.text.rows.map((r) => ({
        size: r.messageSizeBytes,
        value: r.avgUs,
        text: null,
        line: r.lineNumber,
      })),
      size,
      avgUs,
      't_avg',
    );
    if (mismatch !== undefined) return parseError('JSON_TEXT_MISMATCH', mismatch);
  }
  const result: LatencyResult = {
    source: 'json',
    kind: 'latency',
    rows: [row],
    warnings,
    commandLine,
    settings: buildSettings({
      title,
      header,
      rawHeader,
      rows: [row],
      peakMeasured: null,
      durationMode,
      addressLines: { local: 0, remote: 0 },
      unitLabel: null,
    }),
  };
  return { ok: true, value: result };
}

/**
 * The JSON holds the last row perftest printed (with `-a`, the last size). Its figure must equal the
 * text's printed figure for that size to the text's printed precision (2 decimals, 6 for small
 * --report_gbits values).
 */
function crossCheck(
  textRows: readonly { size: number | null; value: number; text: string | null; line: number | null }[],
  jsonSize: number | null,
  jsonValue: number,
  what: string,
): string | undefined {
  const candidates = textRows.filter((r) => jsonSize === null || r.size === jsonSize);
  const row = candidates[candidates.length - 1];
  if (row === undefined)
    return `the JSON is for ${jsonSize} B messages but the text output has rows for ${[...new Set(textRows.map((r) => r.size))].join(', ')} B only`;
  const decimals = row.text !== null ? (row.text.split('.')[1]?.length ?? 0) : 2;
  const tolerance = 0.5 * 10 ** -decimals + 1e-9;
  if (Math.abs(row.value - jsonValue) > tolerance)
    return `JSON ${what} ${jsonValue} does not match ${row.text ?? row.value} printed on text line ${row.line} for ${row.size} B`;
  return undefined;
}

/**
 * Parser for the text output of ib_{write,read,send}_{bw,lat} (reference: perftest.md §3–§5).
 *
 * It reads the whole output, in any mix of stdout and stderr: an optional shell prompt line, the
 * header block, address lines (one per QP; without RKey/VAddr/GID in rdma_cm mode), the result
 * column header and its rows. Known interleaved lines become warnings. Anything that would have
 * to be guessed is an error naming the line: a row that does not match its columns, a value that
 * is not a number, a bandwidth row with no column header above it to give its unit.
 */
import {
  COLUMN_LABEL,
  looksLikeColumnHeader,
  parseColumnHeader,
  sameLayout,
  type ColumnId,
  type ColumnLayout,
} from './columns.js';
import { parseError, type ParseOutcome, type PerftestParseError } from './errors.js';
import {
  isCommandLine,
  isGidLine,
  parseAddressLine,
  parseHeaderPairs,
  parseTitle,
  titleFromCommand,
  type TestTitle,
} from './header.js';
import { isToolError, matchNoise } from './noise.js';
import { applyTextHeader, buildSettings, emptyHeaderSettings } from './settings.js';
import type {
  Bandwidth,
  BandwidthResult,
  BandwidthRow,
  LatencyResult,
  LatencyRow,
  PerftestResult,
  PerftestWarning,
} from './types.js';
import { toBandwidth, type BandwidthUnit } from './units.js';

const SEPARATOR = /^\s*-{10,}\s*$/;
const STARTS_WITH_NUMBER = /^\s*[-+]?(\d|\.\d)/;
const HISTOGRAM_HEAD = /^\s*#,\s*(usec|cycles)\s*$/;
const HISTOGRAM_SAMPLE = /^\s*\d+,\s*\S+\s*$/;
const INTEGER_COLUMNS = new Set<ColumnId>(['bytes', 'iterations', 'sl']);
const UNSIGNED_INT = /^\d+$/;
const UNSIGNED_DECIMAL = /^\d+(\.\d+)?$/;

interface Located {
  readonly lineNumber: number;
  readonly line: string;
}

type RawRow = {
  readonly at: Located;
  readonly values: ReadonlyMap<ColumnId, { value: number; text: string }>;
};

/** Parses perftest text output. Never throws; see `PERFTEST_ERROR_CODES` for the failures. */
export function parsePerftestText(text: string): ParseOutcome<PerftestResult> {
  const lines = text.split(/\r?\n/);
  if (lines.every((l) => l.trim() === '')) return parseError('EMPTY_INPUT', 'the input is empty');

  const warnings: PerftestWarning[] = [];
  const header = emptyHeaderSettings();
  const rawHeader: Record<string, string> = {};
  const addressLines = { local: 0, remote: 0 };
  let commandLine: string | null = null;
  let title: { value: TestTitle; at: Located } | null = null;
  let layout: { value: ColumnLayout; at: Located } | null = null;
  let histogram = false;
  let peakDisabledWarning = false;
  const rows: RawRow[] = [];

  for (const [i, line] of lines.entries()) {
    const at: Located = { lineNumber: i + 1, line };
    if (line.trim() === '' || SEPARATOR.test(line)) continue;

    if (commandLine === null && title === null && layout === null && isCommandLine(line)) {
      commandLine = line.trim();
      continue;
    }
    const noise = matchNoise(line);
    if (noise !== undefined) {
      if (noise.code === 'peak-disabled') peakDisabledWarning = true;
      warnings.push({
        kind: 'noise',
        code: noise.code,
        lineNumber: at.lineNumber,
        line,
        message: noise.meaning,
      });
      continue;
    }
    const t = parseTitle(line);
    if (t !== undefined) {
      if (title !== null)
        return parseError(
          'MULTIPLE_TESTS',
          `a second test title (the first, ${JSON.stringify(title.value.testName)}, is on line ${title.at.lineNumber}); split the output into one file per test`,
          at,
        );
      title = { value: t, at };
      continue;
    }
    const address = parseAddressLine(line);
    if (address !== undefined) {
      addressLines[address.side]++;
      continue;
    }
    if (isGidLine(line)) continue;

    const hist = HISTOGRAM_HEAD.exec(line);
    if (hist !== null) {
      if (hist[1] === 'cycles')
        return parseError(
          'CYCLES_NOT_USEC',
          'latency samples are in CPU cycles (-C), but the result columns are labelled usec; run without -C',
          at,
        );
      histogram = true;
      continue;
    }
    if (histogram && HISTOGRAM_SAMPLE.test(line)) continue;

    if (looksLikeColumnHeader(line)) {
      const parsed = parseColumnHeader(line);
      if (!parsed.ok) {
        const code = parsed.why.includes('without') ? 'INCOMPLETE_COLUMNS' : 'UNKNOWN_COLUMNS';
        return parseError(code, `result column header not understood: ${parsed.why}`, at);
      }
      if (parsed.layout.cycles)
        return parseError(
          'CYCLES_NOT_USEC',
          'latency columns in CPU cycles; only microseconds are supported',
          at,
        );
      if (layout !== null && !sameLayout(layout.value, parsed.layout))
        return parseError(
          'MIXED_COLUMNS',
          `this column header differs from the one on line ${layout.at.lineNumber}; one input must hold one test`,
          at,
        );
      layout ??= { value: parsed.layout, at };
      continue;
    }
    if (isToolError(line)) {
      warnings.push({
        kind: 'tool-error',
        code: 'tool-error',
        lineNumber: at.lineNumber,
        line,
        message: 'perftest or the RDMA stack reported an error',
      });
      continue;
    }
    if (STARTS_WITH_NUMBER.test(line)) {
      if (layout === null)
        return parseError(
          'VALUE_BEFORE_COLUMNS',
          'a value with no result column header above it, so its unit and meaning are unknown' +
            ' (--output=bandwidth|message_rate|latency prints only a number: run without --output)',
          at,
        );
      const row = parseRow(layout.value, at);
      if (!row.ok) return row;
      rows.push(row.value);
      continue;
    }
    if (layout === null) {
      const pairs = parseHeaderPairs(line);
      if (pairs !== undefined) {
        for (const { key, value } of pairs) {
          const problem = applyTextHeader(header, key, value);
          if (problem !== undefined) return parseError('BAD_HEADER_VALUE', problem, at);
          rawHeader[key] = value;
        }
        continue;
      }
    }
    warnings.push({
      kind: 'unrecognised',
      code: 'unrecognised',
      lineNumber: at.lineNumber,
      line,
      message: 'line not recognised; it carried no figure the parser used',
    });
  }

  const testTitle = title?.value ?? (commandLine !== null ? titleFromCommand(commandLine) : undefined);
  if (testTitle === undefined)
    return parseError(
      'NO_TEST_TITLE',
      'no test title line (e.g. "RDMA_Write BW Test") and no ib_* command line: cannot tell which test this is',
    );

  if (rows.length === 0) return noRows(testTitle, layout?.value ?? null, rawHeader, warnings);
  // Rows exist only after a layout was found.
  const lay = layout as { value: ColumnLayout; at: Located };
  if (lay.value.kind !== testTitle.kind)
    return parseError(
      'KIND_MISMATCH',
      `${lay.value.kind} columns under a ${testTitle.kind} test (${JSON.stringify(testTitle.testName)})`,
      lay.at,
    );

  if (header.qps !== null && addressLines.local > 0 && addressLines.local !== header.qps)
    warnings.push({
      kind: 'inconsistent',
      code: 'qp-count',
      lineNumber: null,
      line: null,
      message: `header says ${header.qps} QPs but ${addressLines.local} local address lines were printed`,
    });

  const common = { source: 'text' as const, warnings, commandLine };
  if (lay.value.kind === 'bandwidth') {
    const unit = lay.value.unit as BandwidthUnit;
    const bwRows = rows.map((r) => toBandwidthRow(r, unit));
    const peakMeasured = bwRows.some((r) => r.peak !== null);
    const result: BandwidthResult = {
      ...common,
      kind: 'bandwidth',
      unit,
      rows: bwRows,
      settings: buildSettings({
        title: testTitle,
        header,
        rawHeader,
        rows: bwRows,
        peakMeasured: peakDisabledWarning ? false : peakMeasured,
        durationMode: false,
        addressLines,
        unitLabel: lay.value.unitLabel,
      }),
    };
    return { ok: true, value: result };
  }
  const latRows = rows.map(toLatencyRow);
  const result: LatencyResult = {
    ...common,
    kind: 'latency',
    rows: latRows,
    settings: buildSettings({
      title: testTitle,
      header,
      rawHeader,
      rows: latRows,
      peakMeasured: null,
      durationMode: lay.value.durationMode,
      addressLines,
      unitLabel: null,
    }),
  };
  return { ok: true, value: result };
}

function parseRow(layout: ColumnLayout, at: Located): ParseOutcome<RawRow> {
  const tokens = at.line.trim().split(/\s+/);
  const names = layout.columns.map((c) => COLUMN_LABEL[c]).join(', ');
  if (tokens.length !== layout.columns.length)
    return parseError(
      'BAD_ROW',
      `expected ${layout.columns.length} values (${names}) but found ${tokens.length}`,
      at,
    );
  const values = new Map<ColumnId, { value: number; text: string }>();
  for (const [i, column] of layout.columns.entries()) {
    const token = tokens[i] ?? '';
    const integer = INTEGER_COLUMNS.has(column);
    if (!(integer ? UNSIGNED_INT : UNSIGNED_DECIMAL).test(token))
      return parseError(
        'BAD_ROW',
        `${COLUMN_LABEL[column]} value ${JSON.stringify(token)} is not ${integer ? 'a whole number' : 'a number'}`,
        at,
      );
    const value = Number(token);
    if (integer && !Number.isSafeInteger(value))
      return parseError('BAD_ROW', `${COLUMN_LABEL[column]} value ${token} is too large`, at);
    values.set(column, { value, text: token });
  }
  if ((values.get('bytes')?.value ?? 0) <= 0)
    return parseError('BAD_ROW', 'message size #bytes must be at least 1', at);
  return { ok: true, value: { at, values } };
}

function bandwidth(v: { value: number; text: string }, unit: BandwidthUnit): Bandwidth {
  return { ...toBandwidth(v.value, unit), printed: { value: v.value, unit, text: v.text } };
}

function toBandwidthRow(r: RawRow, unit: BandwidthUnit): BandwidthRow {
  const get = (c: ColumnId) => r.values.get(c);
  const num = (c: ColumnId): number | null => get(c)?.value ?? null;
  const peak = get('bwPeak');
  const avg = get('bwAvg');
  const ports: BandwidthRow['ports'][number][] = [];
  for (const [bwCol, mrCol] of [
    ['bwPort1', 'msgRatePort1'],
    ['bwPort2', 'msgRatePort2'],
  ] as const) {
    const bw = get(bwCol);
    const mr = get(mrCol);
    if (bw !== undefined && mr !== undefined)
      ports.push({ bandwidth: bandwidth(bw, unit), msgRateMpps: mr.value });
  }
  return {
    lineNumber: r.at.lineNumber,
    messageSizeBytes: num('bytes'),
    iterations: num('iterations'),
    // perftest prints 0.00 when it did not measure the peak (-D, --run_infinitely, -N).
    peak: peak === undefined || peak.value === 0 ? null : bandwidth(peak, unit),
    average: bandwidth(avg ?? { value: 0, text: '' }, unit),
    msgRateMpps: num('msgRate'),
    cpuUtilPercent: num('cpuUtil'),
    ports,
    serviceLevel: num('sl'),
  };
}

function toLatencyRow(r: RawRow): LatencyRow {
  const num = (c: ColumnId): number | null => r.values.get(c)?.value ?? null;
  return {
    lineNumber: r.at.lineNumber,
    messageSizeBytes: num('bytes'),
    iterations: num('iterations'),
    minUs: num('tMin'),
    maxUs: num('tMax'),
    typicalUs: num('tTypical'),
    avgUs: num('tAvg') ?? 0,
    stdevUs: num('tStdev'),
    p99Us: num('p99'),
    p999Us: num('p999'),
    tpsAverage: num('tps'),
    cpuUtilPercent: num('cpuUtil'),
  };
}

function noRows(
  title: TestTitle,
  layout: ColumnLayout | null,
  rawHeader: Record<string, string>,
  warnings: readonly PerftestWarning[],
): { ok: false; error: PerftestParseError } {
  const hints: string[] = [];
  const toolError = warnings.find((w) => w.kind === 'tool-error');
  if (toolError !== undefined)
    hints.push(
      `perftest reported an error on line ${toolError.lineNumber}: ${JSON.stringify(toolError.line?.trim())}`,
    );
  if (layout === null) hints.push('there is no result column header either (the run may have stopped early)');
  if (
    title.kind === 'bandwidth' &&
    !title.bidirectional &&
    !Object.keys(rawHeader).some((k) => /^TX depth$/i.test(k))
  )
    hints.push(
      'the header has no "TX depth", as on the server side of a unidirectional test: the client prints the result',
    );
  return parseError(
    'NO_RESULT_ROWS',
    `no result rows for ${JSON.stringify(title.testName)}${hints.length > 0 ? `; ${hints.join('; ')}` : ''}`,
  );
}

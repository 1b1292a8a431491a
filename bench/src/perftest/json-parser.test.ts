/**
 * `--out_json` parsing (perftest.md §6). The JSON fixtures are synthesised from the format strings
 * (bench/test/fixtures/SOURCES.md); figures converted by hand as in the text tests.
 */
import { describe, expect, it } from 'vitest';
import { expectOk, readFixture } from '../../test/helpers.js';
import { parsePerftestJson, repairPerftestJson } from './json-parser.js';
import { parsePerftestOutput } from './parse.js';
import { parsePerftestText } from './text-parser.js';
import type { BandwidthResult, LatencyResult } from './types.js';

const mibToGbit = (mib: number) => (mib * 8 * 1.048576) / 1000;

describe('units are explicit', () => {
  it('a bandwidth file without a unit is refused, naming the two ways to give one', () => {
    const outcome = parsePerftestJson(readFixture('synth_ib_write_bw_mib.json'));
    expect(outcome.ok).toBe(false);
    if (outcome.ok) return;
    expect(outcome.error.code).toBe('JSON_UNIT_REQUIRED');
    expect(outcome.error.message).toMatch(/--report_gbits/);
  });

  it('bandwidthUnit MiB/s', () => {
    const r = expectOk(
      parsePerftestJson(readFixture('synth_ib_write_bw_mib.json'), { bandwidthUnit: 'MiB/s' }),
    ) as BandwidthResult;
    expect(r.source).toBe('json');
    expect(r.unit).toBe('MiB/s');
    const row = r.rows[0]!;
    expect(row).toMatchObject({
      lineNumber: null,
      messageSizeBytes: 65536,
      iterations: 5000,
      msgRateMpps: 0.184459,
    });
    expect(row.average.printed).toEqual({ value: 11528.689773, unit: 'MiB/s', text: null });
    expect(row.average.bytesPerSecond).toBeCloseTo(11528.689773 * 1048576, 2);
    expect(row.average.gbps).toBeCloseTo(mibToGbit(11528.689773), 9);
    expect(row.peak?.gbps).toBeCloseTo(mibToGbit(11543.23112), 9);
    expect(r.settings).toMatchObject({
      testName: 'RDMA_Write BW Test',
      verb: 'write',
      device: 'mlx5_0',
      qps: 1,
      mtuBytes: 4096,
      txDepth: 128,
      cqModeration: 100,
      linkType: 'IB',
      rdmaCmQps: false,
      dataExchange: 'Ethernet',
      maxInlineBytes: 0,
    });
    expect(r.warnings).toEqual([]);
  });

  it('the unit from the text output of the same run, cross-checked against its row', () => {
    const text = expectOk(parsePerftestText(readFixture('synth_ib_write_bw_mib.txt')));
    const r = expectOk(
      parsePerftestJson(readFixture('synth_ib_write_bw_mib.json'), { text }),
    ) as BandwidthResult;
    expect(r.unit).toBe('MiB/s');
  });

  it('a JSON that contradicts its text output is refused', () => {
    const text = expectOk(parsePerftestText(readFixture('synth_ib_write_bw_mib.txt')));
    const json = readFixture('synth_ib_write_bw_mib.json').replace('11528.689773', '11529.689773');
    const outcome = parsePerftestJson(json, { text });
    expect(!outcome.ok && outcome.error.code).toBe('JSON_TEXT_MISMATCH');
  });

  it('a unit that contradicts the text output is refused', () => {
    const text = expectOk(parsePerftestText(readFixture('synth_ib_write_bw_mib.txt')));
    const outcome = parsePerftestJson(readFixture('synth_ib_write_bw_mib.json'), {
      text,
      bandwidthUnit: 'Gb/s',
    });
    expect(!outcome.ok && outcome.error.code).toBe('JSON_TEXT_MISMATCH');
  });

  it('a text output of another test is refused', () => {
    const text = expectOk(parsePerftestText(readFixture('synth_ib_read_lat.txt')));
    const outcome = parsePerftestJson(readFixture('synth_ib_write_bw_mib.json'), { text });
    expect(!outcome.ok && outcome.error.code).toBe('JSON_TEXT_MISMATCH');
  });
});

describe('known defects are repaired and reported', () => {
  it('--output=bandwidth: trailing comma, only bw_avg', () => {
    const r = expectOk(
      parsePerftestJson(readFixture('synth_ib_write_bw_output_bandwidth.json'), { bandwidthUnit: 'MiB/s' }),
    ) as BandwidthResult;
    expect(r.rows[0]).toMatchObject({
      messageSizeBytes: null,
      iterations: null,
      peak: null,
      msgRateMpps: null,
    });
    expect(r.rows[0]!.average.gbps).toBeCloseTo(mibToGbit(11528.689773), 9);
    expect(r.warnings.map((w) => [w.kind, w.code, w.lineNumber])).toEqual([
      ['json-repair', 'trailing-comma', 22],
    ]);
  });

  it('QoS: unquoted sl key, --report_gbits', () => {
    const r = expectOk(
      parsePerftestJson(readFixture('synth_ib_write_bw_qos_gbits.json'), { bandwidthUnit: 'Gb/s' }),
    ) as BandwidthResult;
    expect(r.rows[0]).toMatchObject({ serviceLevel: 3, messageSizeBytes: 65536 });
    expect(r.rows[0]!.average.gbps).toBeCloseTo(92.7011, 10);
    expect(r.rows[0]!.average.bytesPerSecond).toBeCloseTo((92.7011 * 1e9) / 8, 1);
    expect(r.settings.gidIndex).toBe(3);
    expect(r.warnings.map((w) => w.code)).toEqual(['unquoted-key']);
  });

  it('repairs leave strings and line structure alone', () => {
    const input = '{\n"a": "x, }",\nb: 1,\n}\n';
    const { text, repairs } = repairPerftestJson(input);
    expect(text).toBe('{\n"a": "x, }",\n"b": 1\n}\n');
    expect(repairs.map((r) => [r.code, r.lineNumber])).toEqual([
      ['unquoted-key', 3],
      ['trailing-comma', 3],
    ]);
  });
});

describe('latency files', () => {
  it('full latency results in µs (no unit needed)', () => {
    const r = expectOk(parsePerftestJson(readFixture('synth_ib_write_lat.json'))) as LatencyResult;
    expect(r.rows[0]).toMatchObject({
      messageSizeBytes: 2,
      iterations: 1000,
      minUs: 0.981,
      maxUs: 2.113,
      typicalUs: 1.012,
      avgUs: 1.024512,
      stdevUs: 0.041,
      p99Us: 1.22,
      p999Us: 2.113,
    });
    expect(r.settings).toMatchObject({ kind: 'latency', verb: 'write', testName: 'RDMA_Write Latency Test' });
  });

  it('duration mode: t_avg and tps_average, cross-checked with the text', () => {
    const text = expectOk(parsePerftestText(readFixture('synth_ib_send_lat_duration.txt')));
    const r = expectOk(
      parsePerftestJson(readFixture('synth_ib_send_lat_duration.json'), { text }),
    ) as LatencyResult;
    expect(r.settings.durationMode).toBe(true);
    expect(r.rows[0]).toMatchObject({ avgUs: 1.0312, tpsAverage: 485146.6, minUs: null });
  });
});

describe('errors', () => {
  it.each([
    ['nan figure', readFixture('synth_error_nan.json'), 'BAD_JSON', 25],
    ['not JSON at all', '{ "test_info": ', 'BAD_JSON', 1],
    ['a second line is cut', '{\n"test_info": {"test": "RDMA_Write_BW_Test"', 'BAD_JSON', 2],
    ['no results', '{"test_info": {"test": "RDMA_Write_BW_Test"}}', 'JSON_SHAPE', null],
    ['unknown test', '{"test_info": {"test": "Foo_Test"}, "results": {}}', 'JSON_SHAPE', 1],
    [
      'string where a number belongs',
      '{"test_info": {"test": "RDMA_Write_BW_Test", "Number_of_qps": "4"}, "results": {"bw_avg": 1}}',
      'JSON_SHAPE',
      1,
    ],
    [
      'negative figure',
      '{"test_info": {"test": "RDMA_Write_BW_Test"}, "results": {"bw_avg": -1}}',
      'JSON_SHAPE',
      1,
    ],
    [
      'message rate only',
      '{\n"test_info": {"test": "RDMA_Write_BW_Test"},\n"results": {"msgRate_avg": 1.5,\n}\n}',
      'JSON_SHAPE',
      3,
    ],
    [
      'partial full results',
      '{"test_info": {"test": "RDMA_Write_BW_Test"}, "results": {"BW_average": 1}}',
      'JSON_SHAPE',
      1,
    ],
    [
      'latency without t_avg',
      '{"test_info": {"test": "RDMA_Write_Latency_Test"}, "results": {"MsgSize": 2}}',
      'JSON_SHAPE',
      1,
    ],
  ])('%s -> %s', (_name, input, code, lineNumber) => {
    const outcome = parsePerftestJson(input, { bandwidthUnit: 'MiB/s' });
    expect(outcome.ok).toBe(false);
    if (outcome.ok) return;
    expect(outcome.error.code).toBe(code);
    if (lineNumber !== null) expect(outcome.error.lineNumber).toBe(lineNumber);
  });

  it('a BAD_JSON error quotes the line', () => {
    const outcome = parsePerftestJson(readFixture('synth_error_nan.json'), { bandwidthUnit: 'MiB/s' });
    expect(!outcome.ok && outcome.error.line).toBe('"BW_average": nan,');
    expect(!outcome.ok && outcome.error.message).toMatch(/^line 25: /);
  });
});

it('parsePerftestOutput picks the parser from the content', () => {
  expect(expectOk(parsePerftestOutput(readFixture('synth_ib_write_lat.json'))).source).toBe('json');
  expect(expectOk(parsePerftestOutput(readFixture('synth_ib_read_lat.txt'))).source).toBe('text');
});

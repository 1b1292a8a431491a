/**
 * Text parser on the synthesised fixtures (bench/test/fixtures/synth_*, written from the format
 * strings in perftest.md) and on inline edge cases. Expected figures are the printed values,
 * converted by hand: MiB/s -> bytes/s × 2^20; Gb/s -> bytes/s × 10^9 / 8;
 * Gb/s = MiB/s × 8 × 1.048576 / 1000.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { expectOk, readFixture } from '../../test/helpers.js';
import { parsePerftestText } from './text-parser.js';
import type { BandwidthResult, LatencyResult, PerftestResult } from './types.js';

const mibToGbit = (mib: number) => (mib * 8 * 1.048576) / 1000;
const mibToBytes = (mib: number) => mib * 1048576;
const gbitToBytes = (g: number) => (g * 1e9) / 8;

function parseFixture(name: string): PerftestResult {
  return expectOk(parsePerftestText(readFixture(name)));
}
function bwFixture(name: string): BandwidthResult {
  const r = parseFixture(name);
  expect(r.kind).toBe('bandwidth');
  return r as BandwidthResult;
}
function latFixture(name: string): LatencyResult {
  const r = parseFixture(name);
  expect(r.kind).toBe('latency');
  return r as LatencyResult;
}

describe('bandwidth units', () => {
  it('MiB/sec label: values are MiB/s', () => {
    const r = bwFixture('synth_ib_write_bw_mib.txt');
    const row = r.rows[0]!;
    expect(r.unit).toBe('MiB/s');
    expect(r.settings.unitLabel).toBe('MiB/sec');
    expect(row.average.printed).toEqual({ value: 11528.69, unit: 'MiB/s', text: '11528.69' });
    expect(row.average.bytesPerSecond).toBeCloseTo(mibToBytes(11528.69), 3);
    expect(row.average.gbps).toBeCloseTo(mibToGbit(11528.69), 9);
    expect(row.average.gbps).toBeCloseTo(96.71, 2);
    expect(row.peak?.gbps).toBeCloseTo(mibToGbit(11543.23), 9);
    expect(row.msgRateMpps).toBe(0.184459);
    expect(r.warnings).toEqual([]);
    // The newest header prints two settings per line after tabs.
    expect(r.settings.header['Lock-free']).toBe('OFF');
    expect(r.settings.header['Using DDP']).toBe('OFF');
  });

  it('old MB/sec label: the value was always MiB/s', () => {
    const r = bwFixture('synth_ib_write_bw_mb_label_roce_duration_noise.txt');
    expect(r.unit).toBe('MiB/s');
    expect(r.settings.unitLabel).toBe('MB/sec');
    expect(r.rows[0]!.average.bytesPerSecond).toBeCloseTo(mibToBytes(11283.53), 3);
    expect(r.rows[0]!.average.gbps).toBeCloseTo(mibToGbit(11283.53), 9);
  });

  it('--report_gbits: values are 10^9 bit/s', () => {
    const r = bwFixture('synth_ib_write_bw_bidirectional_4qp_gbits.txt');
    expect(r.unit).toBe('Gb/s');
    expect(r.rows[0]!.average.gbps).toBeCloseTo(385.12, 10);
    expect(r.rows[0]!.average.bytesPerSecond).toBeCloseTo(gbitToBytes(385.12), 2);
  });

  it('6-decimal REPORT_FMT_EXT rows with CRLF line ends and two QPs', () => {
    const r = bwFixture('synth_ib_write_bw_ext_crlf.txt');
    expect(
      r.rows.map((x) => [x.messageSizeBytes, x.peak?.printed.text, x.average.printed.text, x.msgRateMpps]),
    ).toEqual([
      [2, '0.086501', '0.086213', 5.388313],
      [4, '0.093012', '0.092887', 2.902719],
    ]);
    expect(r.rows[1]!.average.bytesPerSecond).toBeCloseTo(gbitToBytes(0.092887), 3);
    expect(r.settings.qps).toBe(2);
    expect(r.settings.addressLines).toEqual({ local: 2, remote: 2 });
    expect(r.warnings).toEqual([]);
  });
});

describe('modes', () => {
  it('duration mode: peak 0.00 means not measured, noise lines become warnings', () => {
    const r = bwFixture('synth_ib_write_bw_mb_label_roce_duration_noise.txt');
    const row = r.rows[0]!;
    expect(row.peak).toBeNull();
    expect(row.iterations).toBe(1733902);
    expect(r.settings.peakMeasured).toBe(false);
    expect(r.settings).toMatchObject({ linkType: 'Ethernet', gidIndex: 3, device: 'mlx5_2' });
    expect(r.warnings.map((w) => [w.kind, w.code, w.lineNumber])).toEqual([
      ['noise', 'cpu-frequency', 1],
      ['noise', 'libibverbs', 2],
      ['noise', 'peak-disabled', 3],
      ['noise', 'cpu-frequency', 26],
    ]);
  });

  it('--run_infinitely: one row per interval, a time series of one size', () => {
    const r = bwFixture('synth_ib_write_bw_run_infinitely_gbits.txt');
    expect(r.rows.map((x) => x.average.printed.value)).toEqual([92.7, 92.68, 92.71]);
    expect(r.rows.map((x) => x.iterations)).toEqual([884072, 883881, 884167]);
    expect(r.rows.every((x) => x.peak === null)).toBe(true);
    expect(r.settings.timeSeries).toBe(true);
    expect(r.settings.messageSizesBytes).toEqual([65536]);
  });

  it('-a sweep: a row per size from 2 B to 8 MiB', () => {
    const r = bwFixture('synth_ib_write_bw_all_sizes_mib.txt');
    expect(r.settings.messageSizesBytes).toEqual(Array.from({ length: 23 }, (_, k) => 2 ** (k + 1)));
    const last = r.rows[22]!;
    expect(last.messageSizeBytes).toBe(8388608);
    expect(last.average.printed.text).toBe('23450.00');
    expect(last.average.gbps).toBeCloseTo(mibToGbit(23450), 9);
    expect(r.settings.timeSeries).toBe(false);
  });

  it('bidirectional header and several QPs', () => {
    const r = bwFixture('synth_ib_write_bw_bidirectional_4qp_gbits.txt');
    expect(r.settings).toMatchObject({
      testName: 'RDMA_Write Bidirectional BW Test',
      bidirectional: true,
      qps: 4,
      addressLines: { local: 4, remote: 4 },
    });
  });

  it('--cpu_util: the extra column is read, not mistaken for bandwidth', () => {
    const r = bwFixture('synth_ib_write_bw_cpu_util.txt');
    const row = r.rows[0]!;
    expect(row.cpuUtilPercent).toBe(12.37);
    expect(row.average.printed.value).toBe(11498.27);
    expect(row.msgRateMpps).toBe(0.183972);
  });

  it('rows and headers separated by tabs only (ib_read_bw)', () => {
    const r = bwFixture('synth_ib_read_bw_tabs.txt');
    expect(r.settings).toMatchObject({ verb: 'read', outstandingReads: 16, maxInlineBytes: null });
    expect(r.rows[0]).toMatchObject({ messageSizeBytes: 65536, iterations: 1000, msgRateMpps: 0.185599 });
    expect(r.rows[0]!.average.bytesPerSecond).toBeCloseTo(mibToBytes(11599.95), 3);
  });

  it('ib_send_bw from kubectl logs with CUDA lines around it', () => {
    const r = bwFixture('synth_ib_send_bw_cuda_kubectl_logs.txt');
    expect(r.settings).toMatchObject({ verb: 'send', testName: 'Send BW Test', device: 'mlx5_4' });
    expect(r.settings.header['RX depth']).toBe('512');
    expect(r.rows[0]!.average.gbps).toBeCloseTo(371.98, 10);
    expect(r.warnings.every((w) => w.kind === 'noise' && w.code === 'cuda')).toBe(true);
    expect(r.warnings).toHaveLength(12);
  });

  it('ib_read_lat: full columns', () => {
    const r = latFixture('synth_ib_read_lat.txt');
    expect(r.settings.verb).toBe('read');
    expect(r.rows[0]).toMatchObject({
      messageSizeBytes: 2,
      iterations: 1000,
      minUs: 1.83,
      maxUs: 4.02,
      typicalUs: 1.91,
      avgUs: 1.93,
      stdevUs: 0.08,
      p99Us: 2.21,
      p999Us: 4.02,
      tpsAverage: null,
    });
  });

  it('latency in duration mode: only t_avg and tps average', () => {
    const r = latFixture('synth_ib_send_lat_duration.txt');
    expect(r.settings.durationMode).toBe(true);
    expect(r.rows[0]).toMatchObject({
      messageSizeBytes: 2,
      iterations: 4851466,
      avgUs: 1.03,
      tpsAverage: 485146.6,
      minUs: null,
      typicalUs: null,
      p99Us: null,
    });
  });
});

describe('rarer column layouts', () => {
  it('--report-per-port: per-port bandwidth and message rate', () => {
    const r = expectOk(
      parsePerftestText(
        [
          '                    RDMA_Write BW Test',
          ' #bytes     #iterations    BW peak[MiB/sec]    BW average[MiB/sec]   MsgRate[Mpps]   BW Port1[MiB/sec]   MsgRate Port1[Mpps]   BW Port2[MiB/sec]   MsgRate Port2[Mpps]',
          ' 65536      5000           23000.11            22950.40\t\t   0.367206        11475.20            0.183603              11475.20            0.183603',
        ].join('\n'),
      ),
    ) as BandwidthResult;
    const row = r.rows[0]!;
    expect(row.average.printed.value).toBe(22950.4);
    expect(row.ports.map((p) => [p.bandwidth.printed.value, p.msgRateMpps])).toEqual([
      [11475.2, 0.183603],
      [11475.2, 0.183603],
    ]);
    expect(row.ports[0]!.bandwidth.gbps).toBeCloseTo(mibToGbit(11475.2), 9);
  });

  it('QoS (raw_qos): the #sl column', () => {
    const r = expectOk(
      parsePerftestText(
        [
          '                    RDMA_Write BW Test',
          ' #bytes    #sl      #iterations    BW peak[Gb/sec]    BW average[Gb/sec]   MsgRate[Mpps]',
          ' 65536    3           5000           92.81            92.70                  0.176811',
        ].join('\n'),
      ),
    ) as BandwidthResult;
    expect(r.rows[0]).toMatchObject({ serviceLevel: 3, iterations: 5000, messageSizeBytes: 65536 });
    expect(r.rows[0]!.average.gbps).toBeCloseTo(92.7, 10);
  });
});

describe('errors name the line and never give a number', () => {
  it.each([
    ['synth_error_nan_row.txt', 'BAD_ROW', 20, /BW peak value "-nan" is not a number/],
    ['synth_error_short_row.txt', 'BAD_ROW', 20, /expected 5 values .* but found 4/],
    ['synth_error_server_side_no_rows.txt', 'NO_RESULT_ROWS', null, /client prints the result/],
    ['synth_error_connect_failed.txt', 'NO_RESULT_ROWS', null, /Couldn't connect to 192\.168\.1\.12:18515/],
    ['synth_error_output_bandwidth_only.txt', 'VALUE_BEFORE_COLUMNS', 1, /--output/],
  ])('%s -> %s', (name, code, lineNumber, message) => {
    const outcome = parsePerftestText(readFixture(name));
    expect(outcome.ok).toBe(false);
    if (outcome.ok) return;
    expect(outcome.error.code).toBe(code);
    expect(outcome.error.lineNumber).toBe(lineNumber);
    expect(outcome.error.message).toMatch(message);
    if (lineNumber !== null) {
      expect(outcome.error.message).toContain(`line ${lineNumber}: `);
      expect(outcome.error.line).toBe(readFixture(name).split('\n')[lineNumber - 1]);
    }
  });

  const TITLE = '                    RDMA_Write BW Test';
  const COLS = ' #bytes     #iterations    BW peak[MiB/sec]    BW average[MiB/sec]   MsgRate[Mpps]';
  const ROW = ' 65536      5000             11543.23            11528.69\t\t   0.184459';

  it.each([
    ['empty input', 'EMPTY_INPUT', ''],
    ['blank lines only', 'EMPTY_INPUT', '\n \n\t\n'],
    ['no title', 'NO_TEST_TITLE', [COLS, ROW].join('\n')],
    ['two tests in one file', 'MULTIPLE_TESTS', [TITLE, COLS, ROW, TITLE, COLS, ROW].join('\n')],
    ['header only, no rows', 'NO_RESULT_ROWS', [TITLE, COLS].join('\n')],
    [
      'latency columns under a BW title',
      'KIND_MISMATCH',
      [TITLE, ' #bytes        #iterations       t_avg[usec]    tps average', ' 2 100 1.00 10.00'].join('\n'),
    ],
    ['unknown column', 'UNKNOWN_COLUMNS', [TITLE, COLS.replace('MsgRate[Mpps]', 'Foo[bar]'), ROW].join('\n')],
    [
      'unknown bandwidth unit',
      'UNKNOWN_COLUMNS',
      [TITLE, COLS.replaceAll('MiB/sec', 'KB/sec'), ROW].join('\n'),
    ],
    [
      'missing MsgRate column',
      'INCOMPLETE_COLUMNS',
      [TITLE, COLS.replace('   MsgRate[Mpps]', ''), ' 65536 5000 1.00 1.00'].join('\n'),
    ],
    [
      'a different second column header',
      'MIXED_COLUMNS',
      [TITLE, COLS, ROW, COLS.replaceAll('MiB/sec', 'Gb/sec'), ROW].join('\n'),
    ],
    ['a row with an extra value', 'BAD_ROW', [TITLE, COLS, `${ROW} 7`].join('\n')],
    ['a negative value', 'BAD_ROW', [TITLE, COLS, ROW.replace('11528.69', '-11528.69')].join('\n')],
    ['inf', 'BAD_ROW', [TITLE, COLS, ROW.replace('11528.69', 'inf')].join('\n')],
    ['a fractional size', 'BAD_ROW', [TITLE, COLS, ROW.replace('65536', '65536.5')].join('\n')],
    ['a zero size', 'BAD_ROW', [TITLE, COLS, ROW.replace('65536', '0')].join('\n')],
    ['exponent notation', 'BAD_ROW', [TITLE, COLS, ROW.replace('11528.69', '1.1e4')].join('\n')],
    ['a truncated last row', 'BAD_ROW', [TITLE, COLS, ROW, ' 65536      5000   '].join('\n')],
    [
      'a garbled setting',
      'BAD_HEADER_VALUE',
      [TITLE, ' Number of qps   : four\t\tTransport type : IB', COLS, ROW].join('\n'),
    ],
    ['MTU without a number', 'BAD_HEADER_VALUE', [TITLE, ' Mtu             : big[B]', COLS, ROW].join('\n')],
    ['rdma_cm QPs not ON/OFF', 'BAD_HEADER_VALUE', [TITLE, ' rdma_cm QPs\t : MAYBE', COLS, ROW].join('\n')],
    [
      'latency in cycles (-C -H)',
      'CYCLES_NOT_USEC',
      ['                    RDMA_Write Latency Test', '#, cycles', '1, 2345'].join('\n'),
    ],
  ])('%s -> %s', (_name, code, input) => {
    const outcome = parsePerftestText(input);
    expect(outcome.ok).toBe(false);
    if (!outcome.ok) expect(outcome.error.code).toBe(code);
  });
});

describe('tolerated lines', () => {
  const TITLE = '                    RDMA_Write Latency Test';
  const LAT_COLS =
    ' #bytes #iterations    t_min[usec]    t_max[usec]  t_typical[usec]    t_avg[usec]    t_stdev[usec]   99% percentile[usec]   99.9% percentile[usec] ';
  const LAT_ROW =
    ' 2       1000          0.93           1.93         0.97                0.98             0.02            1.10                    1.93';

  it('a -H histogram between two identical column headers', () => {
    const r = expectOk(
      parsePerftestText([TITLE, LAT_COLS, '#, usec', '1, 0.95', '2, 0.97', LAT_COLS, LAT_ROW].join('\n')),
    );
    expect(r.rows).toHaveLength(1);
    expect(r.warnings).toEqual([]);
  });

  it('old builds without # in the column header', () => {
    const r = expectOk(
      parsePerftestText(
        [
          '                    RDMA_Write BW Test',
          ' bytes     iterations    BW peak[MB/sec]    BW average[MB/sec]   MsgRate[Mpps]',
          ' 65536 5000 11000.00 10999.00 0.175984',
        ].join('\n'),
      ),
    );
    expect(r.rows).toHaveLength(1);
  });

  it('no title but a command line: the test comes from the tool name', () => {
    const r = expectOk(parsePerftestText(['$ ib_read_lat -d mlx5_0 10.0.0.2', LAT_COLS, LAT_ROW].join('\n')));
    expect(r.settings).toMatchObject({ verb: 'read', kind: 'latency', testName: 'RDMA_Read Latency Test' });
  });

  it('unknown lines are kept as warnings; error lines as tool errors', () => {
    const r = expectOk(
      parsePerftestText(
        [TITLE, 'something new in a future perftest', LAT_COLS, LAT_ROW, ' Failed to destroy QP'].join('\n'),
      ),
    );
    expect(r.warnings.map((w) => [w.kind, w.lineNumber])).toEqual([
      ['unrecognised', 2],
      ['tool-error', 5],
    ]);
  });

  it('a header QP count that disagrees with the address lines is flagged', () => {
    const r = expectOk(
      parsePerftestText(
        [
          '                    RDMA_Write BW Test',
          ' Number of qps   : 2\t\tTransport type : IB',
          ' local address: LID 0x02 QPN 0x0032 PSN 0x5f2841 RKey 0x002440 VAddr 0x007f2e5f64b000',
          ' #bytes     #iterations    BW peak[MiB/sec]    BW average[MiB/sec]   MsgRate[Mpps]',
          ' 65536 5000 11000.00 10999.00 0.175984',
        ].join('\n'),
      ),
    );
    expect(r.warnings.map((w) => w.code)).toEqual(['qp-count']);
  });
});

describe('properties', () => {
  const header = [
    '---------------------------------------------------------------------------------------',
    '                    RDMA_Write BW Test',
    ' Dual-port       : OFF\t\tDevice         : mlx5_0',
    ' #bytes     #iterations    BW peak[Gb/sec]    BW average[Gb/sec]   MsgRate[Mpps]',
  ];
  // REPORT_FMT: " %-7lu    %-10lu       %-7.2lf            %-7.2lf\t\t   %-7.6lf"
  const reportFmt = (size: number, iters: number, peak: number, avg: number, mpps: number) =>
    ` ${String(size).padEnd(7)}    ${String(iters).padEnd(10)}       ${peak.toFixed(2).padEnd(7)}            ${avg.toFixed(2).padEnd(7)}\t\t   ${mpps.toFixed(6).padEnd(7)}`;

  it('every row printed with REPORT_FMT parses back to the printed values', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 1, max: 2 ** 23 }),
        fc.integer({ min: 5, max: 100_000_000 }),
        fc.double({ min: 0.01, max: 3200, noNaN: true }),
        fc.double({ min: 0.01, max: 3200, noNaN: true }),
        fc.double({ min: 0, max: 500, noNaN: true }),
        (size, iters, peak, avg, mpps) => {
          const r = expectOk(
            parsePerftestText([...header, reportFmt(size, iters, peak, avg, mpps)].join('\n')),
          );
          const row = (r as BandwidthResult).rows[0]!;
          expect(row.messageSizeBytes).toBe(size);
          expect(row.iterations).toBe(iters);
          expect(row.average.printed.text).toBe(avg.toFixed(2));
          expect(row.average.gbps).toBe(Number(avg.toFixed(2)));
          expect(row.peak?.gbps ?? 0).toBe(Number(peak.toFixed(2)));
          expect(row.msgRateMpps).toBe(Number(mpps.toFixed(6)));
        },
      ),
    );
  });

  it('a row with any value replaced by a non-number is an error, never a result', () => {
    const bad = fc.constantFrom('nan', '-nan', 'inf', '-1.00', '1e3', '12.3.4', '0x10', '1,5', 'N/A', '--');
    fc.assert(
      fc.property(fc.integer({ min: 0, max: 4 }), bad, (column, token) => {
        const tokens = [' 65536', '5000', '111.72', '111.71', '0.213070'];
        tokens[column] = token;
        const outcome = parsePerftestText([...header, tokens.join('   ')].join('\n'));
        expect(outcome.ok).toBe(false);
      }),
    );
  });

  it('never throws, whatever the input', () => {
    fc.assert(
      fc.property(
        fc.array(
          fc.oneof(
            fc.string(),
            fc.constantFrom(...header, ' 65536 5000 1.00 1.00 0.1', 'local address: LID 1'),
          ),
          { maxLength: 12 },
        ),
        (lines) => {
          const outcome = parsePerftestText(lines.join('\n'));
          expect(typeof outcome.ok).toBe('boolean');
        },
      ),
    );
  });
});

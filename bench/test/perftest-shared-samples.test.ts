/**
 * The parser on the verbatim samples (fixtures/SOURCES.md): every number it returns is checked
 * against the value printed in the sample, converted by hand with perftest.md §4:
 *   Gb/s (10^9 bit/s) -> bytes/s: × 10^9 / 8;   Gb/s = MiB/s × 8 × 1.048576 / 1000.
 */
import { describe, expect, it } from 'vitest';
import { parsePerftestText, type BandwidthResult, type LatencyResult } from '../src/perftest/index.js';
import { expectOk, readFixture } from './helpers.js';

const SPARK_BW = 'ib_write_bw_cx7_dgx_spark_rdmacm_4qp_report_gbits_spark-vllm-docker.txt';
const SPARK_LAT = 'ib_write_lat_cx7_dgx_spark_rdmacm_spark-vllm-docker.txt';
const ISSUE_132 = 'PARTIAL_ib_write_bw_ib_all_sizes_report_gbits_small_values_perftest_issue132.txt';

/** Gb/s printed by --report_gbits to bytes/s, by hand: 1 Gb = 10^9 bit = 1.25e8 bytes. */
const gbitToBytes = (gbps: number) => (gbps * 1e9) / 8;
/** Gb/s to MiB/s with the perftest.md §4 factor. */
const gbitToMib = (gbps: number) => (gbps * 1000) / (8 * 1.048576);

function bw(name: string): BandwidthResult {
  const r = expectOk(parsePerftestText(readFixture(name)));
  if (r.kind !== 'bandwidth') throw new Error(`${name} parsed as ${r.kind}`);
  return r;
}

describe('DGX Spark ib_write_bw sample (rdma_cm, 4 QPs, --report_gbits)', () => {
  const r = bw(SPARK_BW);

  it('reads the one result row as printed: 65536 B, 20000 iterations, 111.72 / 111.71 Gb/s, 0.213070 Mpps', () => {
    expect(r.unit).toBe('Gb/s');
    expect(r.rows).toHaveLength(1);
    const row = r.rows[0]!;
    expect(row.lineNumber).toBe(26);
    expect(row.messageSizeBytes).toBe(65536);
    expect(row.iterations).toBe(20000);
    expect(row.peak?.printed).toEqual({ value: 111.72, unit: 'Gb/s', text: '111.72' });
    expect(row.peak?.gbps).toBeCloseTo(111.72, 10);
    expect(row.peak?.bytesPerSecond).toBeCloseTo(gbitToBytes(111.72), 0);
    expect(row.average.printed).toEqual({ value: 111.71, unit: 'Gb/s', text: '111.71' });
    expect(row.average.gbps).toBeCloseTo(111.71, 10);
    expect(row.average.bytesPerSecond).toBeCloseTo(13_963_750_000, 0);
    expect(row.average.bytesPerSecond / 2 ** 20).toBeCloseTo(gbitToMib(111.71), 6);
    expect(row.msgRateMpps).toBe(0.21307);
    expect(row.cpuUtilPercent).toBeNull();
    expect(row.ports).toEqual([]);
    expect(row.serviceLevel).toBeNull();
  });

  it('reads the header settings', () => {
    expect(r.settings).toMatchObject({
      testName: 'RDMA_Write BW Test',
      verb: 'write',
      kind: 'bandwidth',
      bidirectional: false,
      device: 'rocep1s0f1',
      qps: 4,
      transportType: 'IB',
      connectionType: 'RC',
      txDepth: 128,
      cqModeration: 1,
      mtuBytes: 1024,
      linkType: 'IB',
      gidIndex: null,
      maxInlineBytes: 0,
      outstandingReads: null,
      rdmaCmQps: true,
      dataExchange: 'rdma_cm',
      tos: null,
      messageSizesBytes: [65536],
      iterations: 20000,
      peakMeasured: true,
      durationMode: false,
      timeSeries: false,
      addressLines: { local: 4, remote: 4 },
      unitLabel: 'Gb/sec',
    });
    expect(r.settings.header['PCIe relax order']).toBe('ON');
    expect(r.settings.header['Using SRQ']).toBe('OFF');
  });

  it('leaves no line unexplained', () => {
    expect(r.warnings).toEqual([]);
    expect(r.commandLine).toBeNull();
  });
});

describe('DGX Spark ib_write_lat sample (rdma_cm)', () => {
  const r = expectOk(parsePerftestText(readFixture(SPARK_LAT))) as LatencyResult;

  it('reads every latency column as printed, in µs', () => {
    expect(r.kind).toBe('latency');
    expect(r.rows).toEqual([
      {
        lineNumber: 19,
        messageSizeBytes: 2,
        iterations: 1000,
        minUs: 1.42,
        maxUs: 1.93,
        typicalUs: 1.47,
        avgUs: 1.47,
        stdevUs: 0,
        p99Us: 1.57,
        p999Us: 1.93,
        tpsAverage: null,
        cpuUtilPercent: null,
      },
    ]);
  });

  it('reads the header settings', () => {
    expect(r.settings).toMatchObject({
      testName: 'RDMA_Write Latency Test',
      verb: 'write',
      kind: 'latency',
      device: 'rocep1s0f1',
      qps: 1,
      txDepth: 1,
      cqModeration: null,
      mtuBytes: 1024,
      linkType: 'IB',
      maxInlineBytes: 220,
      rdmaCmQps: true,
      dataExchange: 'rdma_cm',
      durationMode: false,
      peakMeasured: null,
      addressLines: { local: 1, remote: 1 },
    });
    expect(r.warnings).toEqual([]);
  });
});

describe('perftest issue 132 sample (-a --report_gbits, 6-decimal rows, shell prompt, tabs)', () => {
  const r = bw(ISSUE_132);

  it('keeps the shell prompt line as the command line', () => {
    expect(r.commandLine).toBe('[root@node3 bin]# ib_write_bw -a -d mlx5_0 --report_gbits  node1');
  });

  it.each([
    // line, bytes, peak Gb/s, average Gb/s, Mpps: as printed
    { line: 21, bytes: 2, peak: '0.042350', avg: '0.042185', mpps: 2.636533 },
    { line: 22, bytes: 4, peak: '0.084507', avg: '0.084457', mpps: 2.639276 },
    { line: 23, bytes: 8, peak: '0.17', avg: '0.17', mpps: 2.641399 },
  ])('row for $bytes B (line $line) matches the sample', ({ line, bytes, peak, avg, mpps }) => {
    const row = r.rows.find((x) => x.messageSizeBytes === bytes)!;
    expect(row.lineNumber).toBe(line);
    expect(row.iterations).toBe(5000);
    expect(row.peak?.printed.text).toBe(peak);
    expect(row.peak?.gbps).toBeCloseTo(Number(peak), 12);
    expect(row.peak?.bytesPerSecond).toBeCloseTo(gbitToBytes(Number(peak)), 3);
    expect(row.average.printed.text).toBe(avg);
    expect(row.average.gbps).toBeCloseTo(Number(avg), 12);
    expect(row.average.bytesPerSecond).toBeCloseTo(gbitToBytes(Number(avg)), 3);
    expect(row.msgRateMpps).toBe(mpps);
  });

  it('reads the header, including lines with tabs', () => {
    expect(r.rows).toHaveLength(3);
    expect(r.settings).toMatchObject({
      device: 'mlx5_0',
      qps: 1,
      transportType: 'IB',
      connectionType: 'RC',
      txDepth: 128,
      cqModeration: 100,
      mtuBytes: 4096,
      linkType: 'IB',
      maxInlineBytes: 0,
      rdmaCmQps: false,
      dataExchange: 'Ethernet',
      messageSizesBytes: [2, 4, 8],
      addressLines: { local: 1, remote: 1 },
    });
    expect(r.warnings).toEqual([]);
  });
});

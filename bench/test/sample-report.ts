/**
 * The sample report committed under bench/docs/, built from the verbatim shared samples only
 * (fixtures/SOURCES.md). What the samples do not say is stated, not invented:
 * - the DGX Spark port is a 200 Gb/s port (anchors.md §4.10: one PCIe Gen5 x4 function caps at
 *   ~112 Gb/s on a 200G port), given by hand; host names are not in the sample;
 * - the perftest issue 132 run names node3 (client, from its prompt) and node1 (server, from its
 *   command line) but not the port rate, so it gets no verdict; it is truncated after 8 B.
 */
import { parsePerftestText } from '../src/perftest/text-parser.js';
import { buildReport, type BenchReport } from '../src/report/report.js';
import { pairTestOf, unknownEndpoint, type PairResult } from '../src/verdict/pair.js';
import { DEFAULT_THRESHOLDS } from '../src/verdict/thresholds.js';
import { expectOk, readFixture } from './helpers.js';

export const SAMPLE_DATE = new Date('2026-11-26T12:00:00Z');

export function sampleReport(): BenchReport {
  const sparkBw = expectOk(
    parsePerftestText(readFixture('ib_write_bw_cx7_dgx_spark_rdmacm_4qp_report_gbits_spark-vllm-docker.txt')),
  );
  const sparkLat = expectOk(
    parsePerftestText(readFixture('ib_write_lat_cx7_dgx_spark_rdmacm_spark-vllm-docker.txt')),
  );
  const issue132 = expectOk(
    parsePerftestText(
      readFixture('PARTIAL_ib_write_bw_ib_all_sizes_report_gbits_small_values_perftest_issue132.txt'),
    ),
  );
  const sparkPort = {
    gbps: 200,
    source: 'given' as const,
    detail: '200 Gb/s port of the DGX Spark CX-7 (anchors.md §4.10), typed by hand',
  };
  const spark = (node: string) => unknownEndpoint(node, { rdmaDevice: 'rocep1s0f1', portRate: sparkPort });
  const pairs: PairResult[] = [
    {
      id: 'spark-1 -> spark-2 write bw (4 QPs)',
      test: pairTestOf(sparkBw),
      server: spark('spark-1'),
      client: spark('spark-2'),
      outcome: { status: 'measured', result: sparkBw },
    },
    {
      id: 'node1 -> node3 write bw sweep',
      test: pairTestOf(issue132),
      server: unknownEndpoint('node1', { rdmaDevice: 'mlx5_0' }),
      client: unknownEndpoint('node3', { rdmaDevice: 'mlx5_0' }),
      outcome: { status: 'measured', result: issue132 },
    },
    {
      id: 'spark-1 -> spark-2 write lat',
      test: pairTestOf(sparkLat),
      server: spark('spark-1'),
      client: spark('spark-2'),
      outcome: { status: 'measured', result: sparkLat },
    },
  ];
  return buildReport(pairs, {
    title: 'Sample report from the shared perftest samples',
    thresholds: DEFAULT_THRESHOLDS,
    now: SAMPLE_DATE,
  });
}

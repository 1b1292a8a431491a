/**
 * Builders for verdict and report tests. Results are made by printing perftest output in its own
 * format and parsing it, so tests go through the real parser.
 */
import type { NodeReport, PfReport } from '@rdmasched/contracts';
import { parsePerftestText } from '../src/perftest/text-parser.js';
import type { BandwidthResult, LatencyResult, PerftestVerb } from '../src/perftest/types.js';
import type { Endpoint, PairResult, PortRateSource } from '../src/verdict/pair.js';
import { pairTestOf, unknownEndpoint } from '../src/verdict/pair.js';
import { expectOk } from './helpers.js';

const VERB_TITLE: Record<PerftestVerb, string> = {
  write: 'RDMA_Write',
  write_imm: 'RDMA_Write_imm',
  read: 'RDMA_Read',
  send: 'Send',
  send_imm: 'Send_imm',
  atomic: 'Atomic',
};

/** A bandwidth result printed with --report_gbits: one row per value (several = --run_infinitely). */
export function bwResult(
  gbps: number | number[],
  opts: {
    verb?: PerftestVerb;
    bidirectional?: boolean;
    size?: number;
    device?: string;
    extraLines?: string[];
  } = {},
): BandwidthResult {
  const values = Array.isArray(gbps) ? gbps : [gbps];
  const size = opts.size ?? 65536;
  const title = `${VERB_TITLE[opts.verb ?? 'write']} ${opts.bidirectional === true ? 'Bidirectional ' : ''}BW Test`;
  const text = [
    `                    ${title}`,
    ` Dual-port       : OFF\t\tDevice         : ${opts.device ?? 'mlx5_0'}`,
    ' #bytes     #iterations    BW peak[Gb/sec]    BW average[Gb/sec]   MsgRate[Mpps]',
    ...values.map(
      (v) =>
        ` ${size}      5000             0.00               ${v.toFixed(2)}\t\t   ${((v * 1e9) / 8 / size / 1e6).toFixed(6)}`,
    ),
    ...(opts.extraLines ?? []),
  ].join('\n');
  return expectOk(parsePerftestText(text)) as BandwidthResult;
}

/** A latency result with full columns; `avgUs` is t_avg. */
export function latResult(
  avgUs: number | number[],
  opts: { verb?: PerftestVerb; size?: number } = {},
): LatencyResult {
  const values = Array.isArray(avgUs) ? avgUs : [avgUs];
  const text = [
    `                    ${VERB_TITLE[opts.verb ?? 'write']} Latency Test`,
    ' #bytes #iterations    t_min[usec]    t_max[usec]  t_typical[usec]    t_avg[usec]    t_stdev[usec]   99% percentile[usec]   99.9% percentile[usec] ',
    ...values.map((v) => {
      const f = (x: number) => x.toFixed(2);
      return ` ${opts.size ?? 2}       1000          ${f(v * 0.9)}           ${f(v * 1.5)}         ${f(v)}                ${f(v)}             0.05            ${f(v * 1.2)}                    ${f(v * 1.5)}`;
    }),
  ].join('\n');
  return expectOk(parsePerftestText(text)) as LatencyResult;
}

export function rate(gbps: number, detail = `test rate ${gbps}`): PortRateSource {
  return { gbps, source: 'given', detail };
}

export function endpoint(node: string, overrides: Partial<Endpoint> = {}): Endpoint {
  return unknownEndpoint(node, {
    rdmaDevice: 'mlx5_0',
    pfPciAddress: '0000:1a:00.0',
    nicNumaNode: 0,
    ...overrides,
  });
}

/** A measured pair between node-a and node-b, both sides at `portGbps` unless overridden. */
export function measuredPair(
  id: string,
  result: BandwidthResult | LatencyResult,
  opts: { portGbps?: number | null; server?: Partial<Endpoint>; client?: Partial<Endpoint> } = {},
): PairResult {
  const portRate = opts.portGbps === null ? null : rate(opts.portGbps ?? 200);
  return {
    id,
    test: pairTestOf(result),
    server: endpoint('node-a', { portRate, ...opts.server }),
    client: endpoint('node-b', { portRate, ...opts.client }),
    outcome: { status: 'measured', result },
  };
}

export function failedPair(id: string, reason: string): PairResult {
  return {
    id,
    test: {
      verb: 'write',
      kind: 'bandwidth',
      bidirectional: false,
      messageSizeBytes: 65536,
      qps: 1,
      useCuda: false,
    },
    server: endpoint('node-a'),
    client: endpoint('node-b'),
    outcome: { status: 'failed', reason, logTail: 'last lines' },
  };
}

/** A minimal valid v1 node report with one PF (two VFs) and one GPU under the same switch. */
export function nodeReport(
  overrides: { rateGbps?: number; pfNuma?: number; gpuPath?: string[] } = {},
): NodeReport {
  const pf: PfReport = {
    pciAddress: '0000:1a:00.0',
    vendorId: '0x15b3',
    deviceId: '0x1021',
    model: 'ConnectX-7',
    netdev: 'ibp26s0',
    rdmaDevice: 'mlx5_0',
    linkType: 'ib',
    linkLayer: 'InfiniBand',
    portState: 'ACTIVE',
    rateGbps: overrides.rateGbps ?? 400,
    mtu: 4096,
    numaNode: overrides.pfNuma ?? 0,
    pciePath: ['pci0000:15', '0000:15:01.0', '0000:16:00.0', '0000:17:02.0', '0000:1a:00.0'],
    firmwareVersion: '28.39.1002',
    sriov: { totalVfs: 16, numVfs: 2, maxVfs: 8, resizing: false },
    vfs: [0, 1].map((i) => ({
      index: i,
      pciAddress: `0000:1a:00.${i + 1}`,
      netdev: null,
      rdmaDevice: `mlx5_${i + 2}`,
      driver: 'mlx5_core',
      configured: true,
      guid: `02:00:00:00:00:00:00:0${i + 1}`,
      mac: null,
      state: 'free' as const,
    })),
  };
  return {
    apiVersion: 'rdmasched.io/v1',
    kind: 'NodeReport',
    nodeName: 'node-a',
    agentVersion: 'test',
    generation: 1,
    reportedAt: '2026-11-26T10:00:00Z',
    heartbeatIntervalMs: 5000,
    numaNodes: [
      { id: 0, cpuList: '0-31' },
      { id: 1, cpuList: '32-63' },
    ],
    gpus: [
      {
        pciAddress: '0000:1b:00.0',
        vendorId: '0x10de',
        deviceId: '0x2330',
        model: 'H100',
        numaNode: 0,
        pciePath: overrides.gpuPath ?? [
          'pci0000:15',
          '0000:15:01.0',
          '0000:16:00.0',
          '0000:17:03.0',
          '0000:1b:00.0',
        ],
        allocated: false,
      },
      {
        pciAddress: '0000:9b:00.0',
        vendorId: '0x10de',
        deviceId: '0x2330',
        model: 'H100',
        numaNode: 1,
        pciePath: ['pci0000:97', '0000:97:01.0', '0000:9b:00.0'],
        allocated: false,
      },
    ],
    pfs: [pf],
  };
}

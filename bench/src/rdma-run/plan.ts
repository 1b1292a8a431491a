/**
 * The perftest runs of one pod pair, in order. Server and client get the same options ("The SAME
 * OPTIONS must be passed to both server and client", perftest README); the client adds the server
 * pod's IP. Each test has its own TCP port (base + index), so a server still waiting for one test
 * can never answer the client of the next. Pure.
 */
import type { PerftestKind } from '../perftest/types.js';
import type { PairTest } from '../verdict/pair.js';
import { testParts, type RunVerb, type TestMatrix } from './matrix.js';

/** perftest's largest `-a` size (2^23 B). */
export const SWEEP_MAX_BYTES = 8_388_608;

export interface PlannedRun {
  /** 1-based, in run order; the log markers carry it. */
  readonly index: number;
  readonly verb: RunVerb;
  readonly kind: PerftestKind;
  /** `ib_write_bw`, ... */
  readonly tool: string;
  readonly tcpPort: number;
  /** Options shared by both sides (no `-d`, no server address). */
  readonly args: readonly string[];
  /** What the verdict and report say was asked. */
  readonly test: PairTest;
  /** `write bw 64 KiB`, `write bw 64 KiB 4 QPs`, `write lat 2 B`, `write bw -a`. */
  readonly label: string;
}

function sizeLabel(bytes: number): string {
  if (bytes >= 1048576 && bytes % 1048576 === 0) return `${bytes / 1048576} MiB`;
  if (bytes >= 1024 && bytes % 1024 === 0) return `${bytes / 1024} KiB`;
  return `${bytes} B`;
}

export function planRuns(m: Omit<TestMatrix, 'pairs'>): PlannedRun[] {
  const runs: PlannedRun[] = [];
  const add = (verb: RunVerb, kind: PerftestKind, size: number | 'all', qps: number | null) => {
    const index = runs.length + 1;
    const tcpPort = m.tcpPort + runs.length;
    const bw = kind === 'bandwidth';
    const cuda = bw && m.useCuda;
    // -F: no CPU-frequency warning on stderr (it interleaves with the rows in the pod log).
    const args = ['-F', '-p', String(tcpPort)];
    if (size === 'all') args.push('-a');
    else args.push('-s', String(size));
    if (m.durationS !== null) args.push('-D', String(m.durationS));
    if (m.iterations !== null) args.push('-n', String(m.iterations));
    if (m.gidIndex !== null) args.push('-x', String(m.gidIndex));
    if (m.rdmaCm) args.push('-R');
    if (bw) {
      args.push('--report_gbits');
      if (qps !== null && qps !== 1) args.push('-q', String(qps));
      if (m.bidirectional) args.push('-b');
      // CUDA device 0 of the container: with CUDA_DEVICE_ORDER=PCI_BUS_ID (set in the pod) it is
      // the allocated GPU with the lowest PCI address, the one the script reports.
      if (cuda) args.push('--use_cuda=0');
    }
    const name = `${verb} ${bw ? 'bw' : 'lat'}`;
    const label = [
      name,
      size === 'all' ? '-a' : sizeLabel(size),
      ...(bw && qps !== null && qps !== 1 ? [`${qps} QPs`] : []),
      ...(bw && m.bidirectional ? ['bidir'] : []),
      ...(cuda ? ['CUDA'] : []),
    ].join(' ');
    runs.push({
      index,
      verb,
      kind,
      tool: `ib_${verb}_${bw ? 'bw' : 'lat'}`,
      tcpPort,
      args,
      label,
      test: {
        verb,
        kind,
        bidirectional: bw && m.bidirectional,
        messageSizeBytes: size === 'all' ? (bw ? SWEEP_MAX_BYTES : 2) : size,
        qps: bw ? (qps ?? 1) : 1,
        useCuda: cuda,
      },
    });
  };
  for (const t of m.tests) {
    const { verb, kind } = testParts(t);
    if (kind === 'bandwidth') {
      const sizes = m.sizes === 'all' ? (['all'] as const) : m.sizes;
      for (const s of sizes) for (const q of m.qps) add(verb, kind, s, q);
    } else {
      for (const s of m.latSizes) add(verb, kind, s, null);
    }
  }
  return runs;
}

/** Budget for one perftest run inside the pod (the script's `timeout`), in seconds. */
export function perRunTimeoutS(m: Pick<TestMatrix, 'durationS' | 'sizes'>, override?: number): number {
  if (override !== undefined) return override;
  if (m.durationS !== null) return m.durationS * (m.sizes === 'all' ? 24 : 1) + 60;
  return m.sizes === 'all' ? 300 : 120;
}

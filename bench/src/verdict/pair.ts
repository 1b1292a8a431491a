/**
 * One measured pair: what ran where, and what came out. The pod-pair runner (`rdma run`) and
 * `rdma local` both produce these; verdicts and reports consume them. Each side says which node,
 * NIC (PF and, for a pod, its VF), NUMA node and GPU it had, so a misplacement shows up next to
 * the bandwidth it cost.
 */
import type { DistanceClass } from '@rdmasched/contracts';
import type { PerftestKind, PerftestResult, PerftestVerb } from '../perftest/types.js';

/** Where a port rate came from, so a report can say what the line rate is based on. */
export interface PortRateSource {
  /** Gb/s (10^9 bit/s), one direction. */
  readonly gbps: number;
  /** `node-report`: the PF's `rateGbps`; `sysfs`: `ports/<n>/rate`; `given`: typed by a person. */
  readonly source: 'node-report' | 'sysfs' | 'given';
  /** E.g. `node-a PF 0000:1a:00.0`, `/sys/class/infiniband/mlx5_0/ports/1/rate = 400 Gb/sec (4X NDR)`. */
  readonly detail: string;
}

export interface GpuPlacement {
  readonly pciAddress: string;
  readonly numaNode: number | null;
  /** GPU–NIC distance (`nvidia-smi topo -m` classes: PIX best … SYS worst); null when unknown. */
  readonly distanceClass: DistanceClass | null;
}

export interface Endpoint {
  /** Kubernetes node name, or the host name for `rdma local`. */
  readonly node: string;
  /** The RDMA device perftest ran on (`-d`): a VF's device inside a pod. */
  readonly rdmaDevice: string | null;
  /** PCI address of the PF (the NIC port) that carries the traffic. */
  readonly pfPciAddress: string | null;
  /** PCI address of the VF when the test ran on one; null on a PF. */
  readonly vfPciAddress: string | null;
  /** NUMA node of the NIC; null when unknown. */
  readonly nicNumaNode: number | null;
  /** NUMA node the benchmark's CPUs and memory were bound to, when known. */
  readonly cpuNumaNode: number | null;
  /** The GPU whose memory was used (`--use_cuda`); null for host memory. */
  readonly gpu: GpuPlacement | null;
  /** Port rate of the PF; null when unknown. */
  readonly portRate: PortRateSource | null;
}

/** What was asked of perftest (known even when the run failed). */
export interface PairTest {
  readonly verb: PerftestVerb;
  readonly kind: PerftestKind;
  readonly bidirectional: boolean;
  readonly messageSizeBytes: number | null;
  readonly qps: number | null;
  readonly useCuda: boolean;
}

export type PairOutcome =
  /** perftest ran and its output parsed. `result` is the side that measures (the client). */
  | { readonly status: 'measured'; readonly result: PerftestResult }
  /** No figure: a pod failed, a timeout, a parse error. `logTail` holds the last output lines. */
  | { readonly status: 'failed'; readonly reason: string; readonly logTail: string | null };

export interface PairResult {
  /** Stable and unique within a report, e.g. `node-a/mlx5_2 -> node-b/mlx5_3 write bw`. */
  readonly id: string;
  readonly test: PairTest;
  readonly server: Endpoint;
  readonly client: Endpoint;
  readonly outcome: PairOutcome;
}

/** The test a parsed result describes, for callers that have only the output. */
export function pairTestOf(result: PerftestResult, opts: { useCuda?: boolean } = {}): PairTest {
  const s = result.settings;
  const sizes = s.messageSizesBytes;
  return {
    verb: s.verb,
    kind: s.kind,
    bidirectional: s.bidirectional,
    messageSizeBytes:
      sizes.length === 0 ? null : s.kind === 'bandwidth' ? Math.max(...sizes) : Math.min(...sizes),
    qps: s.qps,
    useCuda: opts.useCuda ?? false,
  };
}

/** An endpoint about which nothing but the node is known. */
export function unknownEndpoint(node: string, overrides: Partial<Endpoint> = {}): Endpoint {
  return {
    node,
    rdmaDevice: null,
    pfPciAddress: null,
    vfPciAddress: null,
    nicNumaNode: null,
    cpuNumaNode: null,
    gpu: null,
    portRate: null,
    ...overrides,
  };
}

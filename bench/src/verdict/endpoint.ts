/**
 * Describes one side of a pair from the node agent's report (contracts NodeReport v1): the PF
 * behind the device, its port rate, its NUMA node, and the GPU–NIC distance class.
 */
import { classifyDistance, type NodeReport, type PfReport } from '@rdmasched/contracts';
import type { Endpoint } from './pair.js';

export interface EndpointQuery {
  /** The device the test used: an RDMA device name (`mlx5_7`) or a PF or VF PCI address. */
  readonly device: string;
  /** PCI address of the GPU used with `--use_cuda`, if any. */
  readonly gpuPciAddress?: string;
  /** NUMA node the benchmark was bound to, when the runner knows it. */
  readonly cpuNumaNode?: number;
}

/** Never throws; an unknown device or GPU is an error naming what the report does have. */
export function endpointFromNodeReport(
  report: NodeReport,
  query: EndpointQuery,
): { ok: true; value: Endpoint } | { ok: false; error: string } {
  let pf: PfReport | undefined;
  let vfPciAddress: string | null = null;
  let rdmaDevice: string | null = null;
  for (const p of report.pfs) {
    if (p.pciAddress === query.device || p.rdmaDevice === query.device) {
      pf = p;
      rdmaDevice = p.rdmaDevice;
      break;
    }
    const vf = p.vfs.find((v) => v.pciAddress === query.device || v.rdmaDevice === query.device);
    if (vf !== undefined) {
      pf = p;
      vfPciAddress = vf.pciAddress;
      rdmaDevice = vf.rdmaDevice;
      break;
    }
  }
  if (pf === undefined) {
    const known = report.pfs.flatMap((p) => [p.rdmaDevice ?? p.pciAddress]).join(', ');
    return {
      ok: false,
      error: `node ${report.nodeName} reports no PF or VF ${JSON.stringify(query.device)} (its PFs: ${known || 'none'})`,
    };
  }
  let gpu: Endpoint['gpu'] = null;
  if (query.gpuPciAddress !== undefined) {
    const g = report.gpus.find((x) => x.pciAddress === query.gpuPciAddress);
    if (g === undefined)
      return {
        ok: false,
        error: `node ${report.nodeName} reports no GPU ${JSON.stringify(query.gpuPciAddress)}`,
      };
    gpu = {
      pciAddress: g.pciAddress,
      numaNode: g.numaNode >= 0 ? g.numaNode : null,
      distanceClass: classifyDistance(
        { pciePath: g.pciePath, numaNode: g.numaNode },
        { pciePath: pf.pciePath, numaNode: pf.numaNode },
      ),
    };
  }
  return {
    ok: true,
    value: {
      node: report.nodeName,
      rdmaDevice,
      pfPciAddress: pf.pciAddress,
      vfPciAddress,
      nicNumaNode: pf.numaNode >= 0 ? pf.numaNode : null,
      cpuNumaNode: query.cpuNumaNode ?? null,
      gpu,
      // rateGbps 0 means the agent could not read the rate.
      portRate:
        pf.rateGbps > 0
          ? {
              gbps: pf.rateGbps,
              source: 'node-report',
              detail: `node report of ${report.nodeName}, PF ${pf.pciAddress}${pf.rdmaDevice !== null ? ` (${pf.rdmaDevice})` : ''} port 1`,
            }
          : null,
    },
  };
}

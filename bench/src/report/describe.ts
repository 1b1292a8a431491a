/** How reports name the two sides of a pair, and what in a placement costs bandwidth. */
import { distanceRank } from '@rdmasched/contracts';
import type { Endpoint } from '../verdict/pair.js';

/** `node-a/mlx5_2`: node and the device perftest ran on. */
export function endpointName(e: Endpoint): string {
  return `${e.node}/${e.rdmaDevice ?? e.vfPciAddress ?? e.pfPciAddress ?? '?'}`;
}

/** One line: node, NIC (VF of PF), NUMA nodes, GPU and its distance class. */
export function describeEndpoint(e: Endpoint): string {
  const parts = [e.node];
  const nic =
    e.vfPciAddress !== null
      ? `${e.rdmaDevice ?? '?'} (VF ${e.vfPciAddress} of PF ${e.pfPciAddress ?? '?'})`
      : `${e.rdmaDevice ?? '?'}${e.pfPciAddress !== null ? ` (PF ${e.pfPciAddress})` : ''}`;
  parts.push(nic);
  parts.push(`NIC NUMA ${e.nicNumaNode ?? '?'}`);
  if (e.cpuNumaNode !== null) parts.push(`CPU NUMA ${e.cpuNumaNode}`);
  parts.push(e.gpu === null ? 'host memory' : `GPU ${e.gpu.pciAddress} ${e.gpu.distanceClass ?? '?'}`);
  return parts.join(' · ');
}

/** Short form for charts: `node-a/mlx5_2 · NUMA 0 · GPU PIX`. */
export function shortEndpoint(e: Endpoint): string {
  const gpu = e.gpu === null ? 'host mem' : `GPU ${e.gpu.distanceClass ?? '?'}`;
  return `${endpointName(e)} · NUMA ${e.nicNumaNode ?? '?'} · ${gpu}`;
}

/**
 * Placement facts known to cost bandwidth (anchors.md §4.10): a GPU far from the NIC (NODE: other
 * host bridge; SYS: across the inter-socket link) and a benchmark bound to another NUMA node than
 * its NIC.
 */
export function placementWarnings(e: Endpoint): string[] {
  const out: string[] = [];
  const distance = e.gpu?.distanceClass ?? null;
  if (distance !== null && distanceRank(distance) >= distanceRank('NODE'))
    out.push(
      `GPU–NIC distance ${distance} on ${e.node}: ${distance === 'SYS' ? 'traffic crosses the inter-socket link' : 'GPU and NIC under different host bridges'}`,
    );
  if (e.cpuNumaNode !== null && e.nicNumaNode !== null && e.cpuNumaNode !== e.nicNumaNode)
    out.push(
      `on ${e.node} the benchmark ran on NUMA node ${e.cpuNumaNode} but the NIC is on NUMA node ${e.nicNumaNode}`,
    );
  return out;
}

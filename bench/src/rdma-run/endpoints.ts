/**
 * One side of a pair as the report shows it: the node the pod ran on, the VF and RDMA device the
 * script found in the container, the PF behind it with its port rate and NUMA node (from the node
 * agent's report), the CPU NUMA node the container was confined to, and the GPU with its distance
 * class. Facts only: what no source says stays null, and a contradiction is noted, not resolved
 * by a guess.
 */
import type { V1Pod } from '@kubernetes/client-node';
import { ANNOTATIONS, parseReservation, type LinkType, type Reservation } from '@rdmasched/contracts';
import { endpointFromNodeReport } from '../verdict/endpoint.js';
import { unknownEndpoint, type Endpoint, type PortRateSource } from '../verdict/pair.js';
import type { NodeReportSource } from './node-reports.js';
import { numaNodeOfCpus, type PodEnvironment } from './pod-log.js';

export interface SideFacts {
  /** The pod as last read; null when it was never created. */
  readonly pod: V1Pod | null;
  /** The node the matrix asked for (null = any). */
  readonly requestedNode: string | null;
  /** The script's `env` line; null when the container never got that far. */
  readonly env: PodEnvironment | null;
}

export interface EndpointOptions {
  readonly linkType: LinkType;
  readonly useCuda: boolean;
  /** `--port-rate-gbps`: judge against this rate instead of the node report's. */
  readonly portRateGbps?: number;
}

/** The extender's reservation annotation, when it is valid and about this pod on this node. */
export function reservationOf(pod: V1Pod | null, notes: string[]): Reservation | null {
  const text = pod?.metadata?.annotations?.[ANNOTATIONS.reservation];
  if (pod === null || text === undefined) return null;
  const r = parseReservation(text);
  const name = pod.metadata?.name ?? '?';
  if (r === undefined) {
    notes.push(`pod ${name}: the ${ANNOTATIONS.reservation} annotation is not a valid reservation; ignored`);
    return null;
  }
  if (r.node !== pod.spec?.nodeName || (pod.metadata?.uid !== undefined && r.podUid !== pod.metadata.uid)) {
    notes.push(
      `pod ${name}: the reservation names pod ${r.podUid} on node ${r.node}, not this pod on ${pod.spec?.nodeName ?? '?'}; ignored`,
    );
    return null;
  }
  return r;
}

export async function sideEndpoint(
  facts: SideFacts,
  reports: NodeReportSource,
  o: EndpointOptions,
): Promise<{ endpoint: Endpoint; notes: string[] }> {
  const notes: string[] = [];
  const given: PortRateSource | null =
    o.portRateGbps !== undefined
      ? { gbps: o.portRateGbps, source: 'given', detail: `--port-rate-gbps ${o.portRateGbps}` }
      : null;
  const withGiven = (e: Endpoint): Endpoint => (given !== null ? { ...e, portRate: given } : e);
  const nodeName = facts.pod?.spec?.nodeName;
  if (nodeName === undefined || nodeName === '')
    return { endpoint: withGiven(unknownEndpoint(facts.requestedNode ?? 'unscheduled')), notes };

  const env = facts.env;
  const reservation = reservationOf(facts.pod, notes);
  const reservedPfs = (reservation?.pfs ?? [])
    .filter((p) => p.linkType === o.linkType)
    .map((p) => p.pfPciAddress);
  // One reserved PF of the link type: the pod's VF is one of its VFs (reservations count VFs per PF).
  const reservedPf = reservedPfs.length === 1 ? (reservedPfs[0] ?? null) : null;
  const base = unknownEndpoint(nodeName, {
    rdmaDevice: env?.rdmaDevice ?? null,
    vfPciAddress: env?.pciAddress ?? null,
    pfPciAddress: reservedPf,
  });
  const gpuAddress = o.useCuda ? (env?.gpuPciAddress ?? null) : null;
  if (o.useCuda && gpuAddress === null)
    notes.push(
      `${nodeName}: the GPU perftest used is unknown (no nvidia-smi in the image); its distance class is not shown`,
    );

  const lookup = await reports.get(nodeName);
  if (!lookup.ok) {
    notes.push(`${nodeName}: ${lookup.error}`);
    return { endpoint: withGiven(base), notes };
  }
  const report = lookup.report;
  const cpuNumaNode = env?.cpuList != null ? numaNodeOfCpus(env.cpuList, report.numaNodes) : null;
  const query = (device: string) => ({
    device,
    ...(cpuNumaNode !== null ? { cpuNumaNode } : {}),
  });
  const device = env?.pciAddress ?? env?.rdmaDevice ?? reservedPf;
  let endpoint: Endpoint | null = null;
  if (device !== null) {
    const found = endpointFromNodeReport(report, query(device));
    if (found.ok)
      endpoint = {
        ...found.value,
        // Names as the container saw them win over the host's (the same device, maybe renamed).
        rdmaDevice: env?.rdmaDevice ?? found.value.rdmaDevice,
        vfPciAddress: env?.pciAddress ?? found.value.vfPciAddress,
      };
    else notes.push(`${nodeName}: ${found.error}`);
  }
  if (endpoint === null && reservedPf !== null && device !== reservedPf) {
    const found = endpointFromNodeReport(report, query(reservedPf));
    if (found.ok) endpoint = { ...found.value, rdmaDevice: base.rdmaDevice, vfPciAddress: base.vfPciAddress };
  }
  if (endpoint === null) return { endpoint: withGiven({ ...base, cpuNumaNode }), notes };

  if (
    reservedPfs.length > 0 &&
    endpoint.pfPciAddress !== null &&
    !reservedPfs.includes(endpoint.pfPciAddress)
  )
    notes.push(
      `${nodeName}: the pod's VF belongs to PF ${endpoint.pfPciAddress}, but the reservation is on ${reservedPfs.join(', ')}`,
    );
  if (gpuAddress !== null) {
    const g = report.gpus.find((x) => x.pciAddress === gpuAddress);
    if (g === undefined) {
      notes.push(`${nodeName}: the node report has no GPU ${gpuAddress}; its distance class is unknown`);
      endpoint = { ...endpoint, gpu: { pciAddress: gpuAddress, numaNode: null, distanceClass: null } };
    } else {
      const withGpu = endpointFromNodeReport(report, {
        ...query(endpoint.pfPciAddress ?? ''),
        gpuPciAddress: gpuAddress,
      });
      endpoint = { ...endpoint, gpu: withGpu.ok ? withGpu.value.gpu : null };
    }
  }
  return { endpoint: withGiven(endpoint), notes };
}

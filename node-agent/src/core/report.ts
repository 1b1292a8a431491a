/**
 * Builds the v1 node report and the per-PF capacity summaries from a discovery pass. Pure: the
 * caller passes the clock reading, generation and ledger view.
 */
import {
  NODE_REPORT_API_VERSION,
  NODE_REPORT_KIND,
  validateNodeReport,
  type NodeReport,
  type PfCapacity,
  type PfReport,
  type Reservation,
  type ValidationResult,
} from '@rdmasched/contracts';
import type { Discovery } from '../discovery/types.js';
import type { VfAllocation } from '../ports/vf-usage.js';
import { assignVfStates } from './vf-states.js';

export interface ReportContext {
  readonly nodeName: string;
  readonly agentVersion: string;
  readonly heartbeatIntervalMs: number;
  /**
   * The most VFs the agent will enable on a PF (configuration or its RdmaNodePolicy; 0 for a PF
   * it does not manage). Never above totalVfs (capped here again).
   */
  readonly maxVfs: (pf: string, totalVfs: number) => number;
  /** PFs the agent is resizing now. */
  readonly resizing: ReadonlySet<string>;
  readonly reserved: ReadonlyMap<string, number>;
  readonly inUse: ReadonlyMap<string, VfAllocation>;
  readonly reservations: ReadonlyMap<string, Reservation>;
  /** PCI addresses of the GPUs allocated to containers (kubelet or simulation); none when absent. */
  readonly allocatedGpus?: ReadonlySet<string>;
}

/** min(totalVfs, policy max); the most VFs the agent will ever enable on the PF. */
export function maxVfsOf(totalVfs: number, maxVfsPerPf: number): number {
  return maxVfsPerPf > 0 ? Math.min(totalVfs, maxVfsPerPf) : totalVfs;
}

/** The report without generation/reportedAt, and the capacity summaries without generation. */
export interface ReportBody {
  readonly body: Omit<NodeReport, 'generation' | 'reportedAt'>;
  readonly capacity: ReadonlyMap<string, Omit<PfCapacity, 'generation'>>;
}

export function buildReportBody(d: Discovery, ctx: ReportContext): ReportBody {
  const capacity = new Map<string, Omit<PfCapacity, 'generation'>>();
  const pfs: PfReport[] = d.pfs.map((pf) => {
    const { states, foreignInUse } = assignVfStates({
      pf: pf.pciAddress,
      vfs: pf.vfs,
      reservedCount: ctx.reserved.get(pf.pciAddress) ?? 0,
      inUse: ctx.inUse,
      reservations: ctx.reservations,
    });
    const maxVfs =
      pf.sriov === null
        ? 0
        : Math.max(0, Math.min(pf.sriov.totalVfs, ctx.maxVfs(pf.pciAddress, pf.sriov.totalVfs)));
    const resizing = ctx.resizing.has(pf.pciAddress);
    capacity.set(pf.pciAddress, {
      linkType: pf.linkType,
      numVfs: pf.sriov?.numVfs ?? 0,
      maxVfs,
      configured: pf.vfs.filter((v) => v.configured).length,
      foreignInUse,
      resizing,
      portActive: pf.portState === 'ACTIVE',
    });
    return {
      pciAddress: pf.pciAddress,
      vendorId: pf.vendorId,
      deviceId: pf.deviceId,
      model: pf.model,
      netdev: pf.netdev,
      rdmaDevice: pf.rdmaDevice,
      linkType: pf.linkType,
      linkLayer: pf.linkLayer,
      portState: pf.portState,
      rateGbps: pf.rateGbps,
      mtu: pf.mtu,
      numaNode: pf.numaNode,
      pciePath: [...pf.pciePath],
      firmwareVersion: pf.firmwareVersion,
      sriov:
        pf.sriov === null ? null : { totalVfs: pf.sriov.totalVfs, numVfs: pf.sriov.numVfs, maxVfs, resizing },
      vfs: pf.vfs.map((vf) => {
        const s = states.get(vf.pciAddress) ?? { state: 'free' as const, podUid: null };
        return {
          index: vf.index,
          pciAddress: vf.pciAddress,
          netdev: vf.netdev,
          rdmaDevice: vf.rdmaDevice,
          driver: vf.driver,
          configured: vf.configured,
          guid: vf.guid,
          mac: vf.mac,
          state: s.state,
          ...(s.podUid === null ? {} : { podUid: s.podUid }),
        };
      }),
    };
  });
  return {
    body: {
      apiVersion: NODE_REPORT_API_VERSION,
      kind: NODE_REPORT_KIND,
      nodeName: ctx.nodeName,
      agentVersion: ctx.agentVersion,
      heartbeatIntervalMs: ctx.heartbeatIntervalMs,
      numaNodes: d.numaNodes.map((n) => ({ id: n.id, cpuList: n.cpuList })),
      gpus: d.gpus.map((g) => ({
        pciAddress: g.pciAddress,
        vendorId: g.vendorId,
        deviceId: g.deviceId,
        model: g.model,
        numaNode: g.numaNode,
        pciePath: [...g.pciePath],
        allocated: ctx.allocatedGpus?.has(g.pciAddress) ?? false,
      })),
      pfs,
    },
    capacity,
  };
}

/** A stable fingerprint of a body, to publish only on change. */
export function fingerprint(b: ReportBody): string {
  return JSON.stringify([b.body, [...b.capacity.entries()].sort(([x], [y]) => x.localeCompare(y))]);
}

/** Generations strictly increase, also across restarts and clock steps: max(previous + 1, now). */
export function nextGeneration(previous: number, nowMs: number): number {
  return Math.max(previous + 1, Math.floor(nowMs));
}

/** Stamps a body into a full report and validates it with the contract's validator. */
export function stampReport(
  b: ReportBody,
  generation: number,
  nowMs: number,
): { report: ValidationResult<NodeReport>; capacity: Map<string, PfCapacity> } {
  const report = validateNodeReport({ ...b.body, generation, reportedAt: new Date(nowMs).toISOString() });
  const capacity = new Map<string, PfCapacity>();
  for (const [pf, c] of b.capacity) capacity.set(pf, { ...c, generation });
  return { report, capacity };
}

/**
 * What `GET /v1/nodes` and `GET /v1/nodes/NAME` show an operator who must explain a decision:
 * staleness and, per link type, the VFs free now, ready (configured), and creatable (could be
 * provisioned now); per PF, the capacity model's numbers and why a PF takes nothing.
 */
import { DISTANCE_CLASSES, LINK_TYPES, type LinkType } from '@rdmasched/contracts';
import type { NodeView } from '../core/node-view.js';
import type { Snapshot } from '../core/snapshot.js';

export interface LinkTypeSummary {
  readonly pfs: number;
  /** Ready and unheld VFs on PFs that can take VFs now. */
  readonly freeVfs: number;
  /** Configured VFs, held or not. */
  readonly readyVfs: number;
  /** VFs that provisioning could add now (idle PFs up to maxVfs, unconfigured VFs of held PFs). */
  readonly creatableVfs: number;
  readonly maxRateGbps: number;
}

export interface NodeSummary {
  readonly name: string;
  readonly generation: number;
  readonly agentVersion: string;
  readonly reportedAt: string;
  readonly lastHeartbeatAt: string;
  readonly heartbeatAgeMs: number;
  readonly staleAfterMs: number;
  readonly stale: boolean;
  readonly pfCount: number;
  readonly gpus: { readonly total: number; readonly free: number };
  readonly linkTypes: Partial<Record<LinkType, LinkTypeSummary>>;
}

export function nodeSummary(snapshot: Snapshot, view: NodeView, nowMs: number): NodeSummary {
  const cap = snapshot.capacityOf(view);
  const linkTypes: Partial<Record<LinkType, LinkTypeSummary>> = {};
  for (const t of LINK_TYPES) {
    const pfs = view.pfsByLinkType[t];
    if (pfs.length === 0) continue;
    let freeVfs = 0;
    let readyVfs = 0;
    let creatableVfs = 0;
    let maxRateGbps = 0;
    for (const p of pfs) {
      const pf = view.pfs[p];
      if (pf === undefined) continue;
      freeVfs += cap.readyFree[p] ?? 0;
      readyVfs += pf.configuredVfs;
      creatableVfs += (cap.avail[p] ?? 0) - (cap.readyFree[p] ?? 0);
      maxRateGbps = Math.max(maxRateGbps, pf.rateGbps);
    }
    linkTypes[t] = { pfs: pfs.length, freeVfs, readyVfs, creatableVfs, maxRateGbps };
  }
  return {
    name: view.name,
    generation: view.generation,
    agentVersion: view.report.agentVersion,
    reportedAt: view.report.reportedAt,
    lastHeartbeatAt: new Date(view.lastHeartbeatMs).toISOString(),
    heartbeatAgeMs: Math.max(0, nowMs - view.lastHeartbeatMs),
    staleAfterMs: view.staleAfterMs,
    stale: view.isStale(nowMs),
    pfCount: view.pfs.length,
    gpus: { total: view.gpus.length, free: cap.freeGpus.length },
    linkTypes,
  };
}

export function nodeDetail(snapshot: Snapshot, view: NodeView, nowMs: number) {
  const cap = snapshot.capacityOf(view);
  const nPf = view.pfs.length;
  return {
    summary: nodeSummary(snapshot, view, nowMs),
    pfs: view.pfs.map((pf) => ({
      pciAddress: pf.pciAddress,
      linkType: pf.linkType,
      rateGbps: pf.rateGbps,
      portActive: pf.portActive,
      sriovEnabled: pf.sriovEnabled,
      numVfs: pf.numVfs,
      maxVfs: pf.maxVfs,
      readyVfs: pf.configuredVfs,
      heldVfs: cap.held[pf.index] ?? 0,
      freeVfs: cap.readyFree[pf.index] ?? 0,
      creatableVfs: (cap.avail[pf.index] ?? 0) - (cap.readyFree[pf.index] ?? 0),
      blocked: cap.blocked[pf.index] ?? null,
    })),
    gpus: view.gpus.map((g) => ({
      pciAddress: g.pciAddress,
      allocated: g.allocated,
      distanceToPfs: Object.fromEntries(
        view.pfs.map((pf) => [pf.pciAddress, DISTANCE_CLASSES[view.distance[g.index * nPf + pf.index] ?? 4]]),
      ),
    })),
    report: view.report,
  };
}

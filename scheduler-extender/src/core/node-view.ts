/**
 * One node as the extender sees it: its validated report plus everything the filter path would
 * otherwise recompute per request (PFs per link type, VF counts, the GPU x PF distance matrix),
 * computed once when the report arrives. Immutable except for the heartbeat time and the
 * per-request memo, which the snapshot owns.
 */
import {
  classifyDistance,
  distanceRank,
  LINK_TYPES,
  type LinkType,
  type NodeReport,
} from '@rdmasched/contracts';
import type { NodeDecision } from './decision.js';
import type { RequestShape } from './shape.js';
import type { NodeCapacity } from './capacity.js';

export interface PfInfo {
  /** Position in `report.pfs`. */
  readonly index: number;
  readonly pciAddress: string;
  readonly linkType: LinkType;
  readonly rateGbps: number;
  /** Port 1 is ACTIVE. */
  readonly portActive: boolean;
  /** SR-IOV is enabled in firmware (`sriov` is not null). */
  readonly sriovEnabled: boolean;
  readonly numVfs: number;
  readonly maxVfs: number;
  /** The agent is changing `sriov_numvfs` right now. */
  readonly resizing: boolean;
  /** VFs that exist and are configured (driver bound, GUID/MAC set): the "ready" VFs. */
  readonly configuredVfs: number;
  /**
   * What the PF can hold when nobody holds it: max(maxVfs, configured). Provisioning an idle PF
   * enables it to maxVfs (the agent refuses more than maxVfs); VFs already configured beyond that
   * are usable without provisioning. 0 without SR-IOV.
   */
  readonly idleCapacity: number;
  /**
   * What the PF can hold while somebody holds it: max(configured, min(numVfs, maxVfs)). A held PF
   * is never resized; provisioning may only configure VFs that exist (docs/adr/0003, amendment).
   */
  readonly heldCapacity: number;
  /** VFs the report marks `reserved` (informational: the ledger is authoritative). */
  readonly reservedVfs: number;
  /** Pod UID (null when the agent could not name it) of every VF the report marks `in-use`. */
  readonly inUseVfPods: readonly (string | null)[];
}

export interface GpuInfo {
  readonly index: number;
  readonly pciAddress: string;
  readonly allocated: boolean;
}

/** How many decisions each node remembers (distinct request shapes in flight at once). */
export const MEMO_SLOTS = 4;

export class NodeView {
  readonly name: string;
  readonly report: NodeReport;
  readonly generation: number;
  readonly heartbeatIntervalMs: number;
  /** Stale when the last heartbeat is older than this. */
  readonly staleAfterMs: number;
  readonly pfs: readonly PfInfo[];
  readonly pfsByLinkType: Readonly<Record<LinkType, readonly number[]>>;
  readonly gpus: readonly GpuInfo[];
  readonly freeGpuCount: number;
  /** UIDs of the pods the report shows holding a VF: admitted by the kubelet. */
  readonly admittedPods: ReadonlySet<string>;
  /** `distance[gpu * pfs.length + pf]` = distanceRank (0 PIX .. 4 SYS). */
  readonly distance: Uint8Array;
  /** Snapshot-wide sequence number of this view (a new report makes a new view). */
  readonly version: number;

  /** Unix ms of the agent's last sign of life (heartbeat or report). Written by the snapshot only. */
  lastHeartbeatMs: number;
  /** Position in the snapshot's hot table; -1 while not installed. Written by the snapshot only. */
  slot = -1;

  // Memo owned by the decider: the last MEMO_SLOTS decisions, by request shape.
  readonly memoShapes: (RequestShape | undefined)[] = new Array<RequestShape | undefined>(MEMO_SLOTS);
  readonly memoDecisions: (NodeDecision | undefined)[] = new Array<NodeDecision | undefined>(MEMO_SLOTS);
  memoNext = 0;
  /** Capacity under the current reservations; dropped when the node's reservations change. */
  capacity: NodeCapacity | undefined;

  constructor(
    report: NodeReport,
    opts: { version: number; lastHeartbeatMs: number; staleAfterHeartbeats: number },
  ) {
    this.name = report.nodeName;
    this.report = report;
    this.generation = report.generation;
    this.heartbeatIntervalMs = report.heartbeatIntervalMs;
    this.staleAfterMs = report.heartbeatIntervalMs * opts.staleAfterHeartbeats;
    this.version = opts.version;
    this.lastHeartbeatMs = opts.lastHeartbeatMs;
    this.pfs = report.pfs.map((pf, index) => {
      const sriov = pf.sriov;
      const inUseVfPods: (string | null)[] = [];
      let reservedVfs = 0;
      let configuredVfs = 0;
      for (const vf of pf.vfs) {
        if (vf.configured) configuredVfs++;
        if (vf.state === 'in-use') inUseVfPods.push(vf.podUid ?? null);
        else if (vf.state === 'reserved') reservedVfs++;
      }
      return Object.freeze({
        index,
        pciAddress: pf.pciAddress,
        linkType: pf.linkType,
        rateGbps: pf.rateGbps,
        portActive: pf.portState === 'ACTIVE',
        sriovEnabled: sriov !== null,
        numVfs: sriov?.numVfs ?? 0,
        maxVfs: sriov?.maxVfs ?? 0,
        resizing: sriov?.resizing ?? false,
        configuredVfs,
        idleCapacity: sriov === null ? 0 : Math.max(sriov.maxVfs, configuredVfs),
        heldCapacity: sriov === null ? 0 : Math.max(configuredVfs, Math.min(sriov.numVfs, sriov.maxVfs)),
        reservedVfs,
        inUseVfPods: Object.freeze(inUseVfPods),
      });
    });
    const byType = { ib: [] as number[], roce: [] as number[] };
    for (const pf of this.pfs) byType[pf.linkType].push(pf.index);
    this.pfsByLinkType = Object.freeze({ ib: Object.freeze(byType.ib), roce: Object.freeze(byType.roce) });
    this.gpus = report.gpus.map((g, index) =>
      Object.freeze({ index, pciAddress: g.pciAddress, allocated: g.allocated }),
    );
    this.freeGpuCount = this.gpus.filter((g) => !g.allocated).length;
    this.admittedPods = new Set(
      this.pfs.flatMap((pf) => pf.inUseVfPods.filter((u): u is string => u !== null)),
    );
    const nPf = report.pfs.length;
    this.distance = new Uint8Array(report.gpus.length * nPf);
    report.gpus.forEach((gpu, g) => {
      report.pfs.forEach((pf, p) => {
        this.distance[g * nPf + p] = distanceRank(classifyDistance(gpu, pf));
      });
    });
  }

  /** Forgets every memoised decision and the capacity (the node's reservations changed). */
  invalidate(): void {
    this.memoShapes.fill(undefined);
    this.memoDecisions.fill(undefined);
    this.capacity = undefined;
  }

  isStale(nowMs: number): boolean {
    return nowMs - this.lastHeartbeatMs > this.staleAfterMs;
  }

  linkTypes(): LinkType[] {
    return LINK_TYPES.filter((t) => this.pfsByLinkType[t].length > 0);
  }
}

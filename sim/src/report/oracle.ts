/**
 * The alignment oracle: did an aligned placement (every VF within PXB of one of the pod's GPUs,
 * i.e. GPUDirect RDMA works) exist anywhere in the cluster when the pod was placed?
 *
 * It asks the extender core's exact placement search (`decideNode` with `gpu-locality: required`,
 * which accepts PIX and PXB only) on every node, over the cluster as the kubelets know it at that
 * moment: the GPUs and VFs allocated to running pods (exact, from the kubelet stand-in, not the
 * agents' reports, which lag), the reservations of other pods, and, for a cluster without
 * on-demand provisioning, only the VFs that exist. The pod's own reservation is left out, so its
 * node is judged as it was before the pod took it.
 *
 * Nodes are searched starting from the pod's own node and stop at the first aligned one, so the
 * common case costs one decision. Per-node views are rebuilt only when that node changed.
 */
import {
  GDR_MAX_CLASS,
  classifyDistance,
  distanceRank,
  type DistanceClass,
  type NodeReport,
} from '@rdmasched/contracts';
import {
  NodeView,
  computeCapacity,
  decideNode,
  type NodeReservations,
  type PackingPolicy,
  type PodRequest,
} from '@rdmasched/scheduler-extender';

/** What the oracle needs to know about one node right now. */
export interface OracleNodeState {
  readonly report: NodeReport;
  /** VF PCI address -> pod UID, for every VF allocated to a container (the kubelet's truth). */
  readonly vfsInUse: ReadonlyMap<string, string>;
  /** GPU PCI addresses allocated to containers, plus those promised to pods being admitted. */
  readonly gpusInUse: ReadonlySet<string>;
  /** The ledger's reservations on the node (extender mode); undefined when none or no ledger. */
  readonly reservations: NodeReservations | undefined;
  /** Bumped by the caller whenever anything above changes. */
  readonly version: number;
}

export interface OracleOptions {
  readonly policy: PackingPolicy;
  /** False for a cluster without on-demand provisioning: only existing, configured VFs count. */
  readonly onDemandProvisioning: boolean;
  /** A pod's own reserved VFs per PF (its ledger record), to judge its node without them. */
  readonly ownReservation?: (podUid: string) => ReadonlyMap<string, number> | undefined;
}

interface CachedView {
  readonly version: number;
  readonly generation: number;
  readonly view: NodeView;
  /** Request shape key -> aligned placement possible (pod-independent part only). */
  readonly answers: Map<string, boolean>;
}

function shapeKey(r: PodRequest): string {
  return `${r.vfs.ib}/${r.vfs.roce}/${r.gpus}/${r.minRateGbps}`;
}

/** True when `distance` allows GPUDirect RDMA (PIX or PXB). */
export function isAligned(distance: DistanceClass): boolean {
  return distanceRank(distance) <= distanceRank(GDR_MAX_CLASS);
}

/**
 * The class a pod actually got: for each of its VFs, the distance from the VF's PF to the nearest
 * of its GPUs; the worst of those. Undefined when the pod has no GPU or no VF.
 */
export function achievedClass(
  report: NodeReport,
  vfPfs: readonly string[],
  gpus: readonly string[],
): DistanceClass | undefined {
  if (vfPfs.length === 0 || gpus.length === 0) return undefined;
  const gpuInfo = report.gpus.filter((g) => gpus.includes(g.pciAddress));
  if (gpuInfo.length === 0) return undefined;
  let worst = 0;
  for (const pfAddress of vfPfs) {
    const pf = report.pfs.find((p) => p.pciAddress === pfAddress);
    if (pf === undefined) return 'SYS';
    let best = distanceRank('SYS');
    for (const g of gpuInfo) best = Math.min(best, distanceRank(classifyDistance(g, pf)));
    worst = Math.max(worst, best);
  }
  return (['PIX', 'PXB', 'PHB', 'NODE', 'SYS'] as const)[worst] ?? 'SYS';
}

export class AlignmentOracle {
  private readonly cache = new Map<string, CachedView>();
  private sequence = 0;

  constructor(private readonly opts: OracleOptions) {}

  /** The report the oracle judges with: VF states and GPU flags from the kubelet's truth. */
  private synthesize(state: OracleNodeState): NodeReport {
    const r = state.report;
    return {
      ...r,
      gpus: r.gpus.map((g) => ({ ...g, allocated: state.gpusInUse.has(g.pciAddress) })),
      pfs: r.pfs.map((pf) => {
        const vfs = pf.vfs.map((vf) => {
          const pod = state.vfsInUse.get(vf.pciAddress);
          return pod === undefined
            ? { ...vf, state: 'free' as const, podUid: null }
            : { ...vf, state: 'in-use' as const, podUid: pod };
        });
        if (pf.sriov === null || this.opts.onDemandProvisioning) return { ...pf, vfs };
        // Without on-demand provisioning a PF offers exactly the configured VFs it has.
        const configured = pf.vfs.filter((v) => v.configured).length;
        return { ...pf, vfs, sriov: { ...pf.sriov, maxVfs: configured, numVfs: pf.sriov.numVfs } };
      }),
    };
  }

  private viewOf(node: string, state: OracleNodeState): CachedView {
    const c = this.cache.get(node);
    if (c !== undefined && c.version === state.version && c.generation === state.report.generation) return c;
    const view = new NodeView(this.synthesize(state), {
      version: ++this.sequence,
      lastHeartbeatMs: 0,
      staleAfterHeartbeats: 1,
    });
    const fresh = { version: state.version, generation: state.report.generation, view, answers: new Map() };
    this.cache.set(node, fresh);
    return fresh;
  }

  /** Could the node host the request with every VF within PXB of a chosen GPU, right now? */
  private alignedOn(node: string, state: OracleNodeState, request: PodRequest, excludePod: string): boolean {
    const c = this.viewOf(node, state);
    const own = state.reservations?.podUids.has(excludePod) === true;
    const key = shapeKey(request);
    if (!own) {
      const hit = c.answers.get(key);
      if (hit !== undefined) return hit;
    }
    const reservations = own
      ? without(state.reservations, excludePod, this.opts.ownReservation?.(excludePod))
      : state.reservations;
    const strict: PodRequest = { ...request, gpuLocality: 'required' };
    const d = decideNode(c.view, computeCapacity(c.view, reservations), strict, this.opts.policy);
    const aligned = d.feasible && d.placement.plan.distance !== null && isAligned(d.placement.plan.distance);
    if (!own) c.answers.set(key, aligned);
    return aligned;
  }

  /**
   * Whether an aligned placement existed for the pod: searched from `firstNode` (the pod's own
   * node), then every other node in order, stopping at the first. Only GPU pods that care about
   * locality are judged; others return undefined.
   */
  alignedPlacementExisted(
    request: PodRequest,
    podUid: string,
    firstNode: string,
    nodes: readonly string[],
    stateOf: (node: string) => OracleNodeState | undefined,
  ): boolean | undefined {
    if (request.gpus === 0 || request.totalVfs === 0 || request.gpuLocality === 'none') return undefined;
    const first = stateOf(firstNode);
    if (first !== undefined && this.alignedOn(firstNode, first, request, podUid)) return true;
    for (const node of nodes) {
      if (node === firstNode) continue;
      const s = stateOf(node);
      if (s !== undefined && this.alignedOn(node, s, request, podUid)) return true;
    }
    return false;
  }
}

/** The node's reservations without one pod's (its node judged as it was before the pod took it). */
function without(
  r: NodeReservations | undefined,
  podUid: string,
  mine: ReadonlyMap<string, number> | undefined,
): NodeReservations | undefined {
  if (r === undefined) return undefined;
  const podUids = new Set(r.podUids);
  podUids.delete(podUid);
  const reservedByPf = new Map(r.reservedByPf);
  for (const [pf, n] of mine ?? []) {
    const left = (reservedByPf.get(pf) ?? 0) - n;
    if (left > 0) reservedByPf.set(pf, left);
    else reservedByPf.delete(pf);
  }
  const resizeClaims = new Map([...r.resizeClaims].filter(([, owner]) => owner !== podUid));
  // Other pods' GPUs stay promised (or freed) as the extender counts them; only the pod's own go.
  const reservedGpus = new Map(r.reservedGpus ?? []);
  reservedGpus.delete(podUid);
  const releasedGpus = new Map(r.releasedGpus ?? []);
  releasedGpus.delete(podUid);
  return { reservedByPf, resizeClaims, podUids, reservedGpus, releasedGpus };
}

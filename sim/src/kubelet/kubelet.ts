/**
 * The kubelets of the simulated nodes. When a pod is bound to a node the kubelet admits it: its
 * device managers allocate the pod's VFs on the node's agent (the device plugin's side of
 * `Allocate`) and its GPUs, then the pod becomes Running. When the pod is deleted its devices are
 * released. With a reservation (extender mode) the VFs come from the reserved PFs and the GPUs are
 * the ones the extender aligned them with, as the device plugin's preferred allocation steers the
 * kubelet; without one (the count-only baseline) each device manager takes the first free devices
 * on its own, as device plugins without topology hints do.
 *
 * Every allocation is checked: a VF or GPU already held by another pod is counted (must stay 0).
 */
import type { Logger } from 'pino';
import {
  ANNOTATIONS,
  GPU_RESOURCE,
  classifyDistance,
  distanceRank,
  LINK_TYPES,
  VF_RESOURCE,
  parseReservation,
  type LinkType,
  type NodeReport,
  type Reservation,
} from '@rdmasched/contracts';
import { POD_RESOURCE, type FakeKubeApiServer, type KubeObject } from '@rdmasched/testkit';
import type { Fleet } from '../cluster/fleet.js';

export interface PodAllocation {
  readonly podUid: string;
  readonly namespace: string;
  readonly name: string;
  readonly node: string;
  /** Allocated VFs with their PF. */
  readonly vfs: readonly { readonly vf: string; readonly pf: string; readonly linkType: LinkType }[];
  readonly gpus: readonly string[];
  readonly reservation: Reservation | undefined;
}

export interface KubeletHooks {
  /** Right before the pod's devices are allocated (the oracle judges the cluster here). */
  onAdmitting?(pod: KubeObject, node: string): void;
  onAdmitted?(allocation: PodAllocation): void;
  onAdmissionFailed?(pod: KubeObject, node: string, reason: string): void;
  onReleased?(allocation: PodAllocation): void;
  /** A GPU the pod's reservation named was held by another pod already (the extender's plan was stale). */
  onReservedGpuTaken?(pod: KubeObject, node: string): void;
  /** A device was found held by two pods at allocation time. */
  onDoubleAllocation?(kind: 'vf' | 'gpu', node: string, device: string, pods: readonly string[]): void;
}

export interface KubeletOptions {
  readonly api: FakeKubeApiServer;
  readonly fleet: Fleet;
  readonly reportOf: (node: string) => NodeReport | undefined;
  readonly hooks: KubeletHooks;
  readonly logger: Logger;
}

function resourcesOf(pod: KubeObject): { vfs: Record<LinkType, number>; gpus: number } {
  const containers =
    (pod['spec'] as { containers?: { resources?: { limits?: Record<string, string> } }[] } | undefined)
      ?.containers ?? [];
  const vfs: Record<LinkType, number> = { ib: 0, roce: 0 };
  let gpus = 0;
  for (const c of containers) {
    const l = c.resources?.limits ?? {};
    for (const t of LINK_TYPES) vfs[t] += Number(l[VF_RESOURCE[t]] ?? 0);
    gpus += Number(l[GPU_RESOURCE] ?? 0);
  }
  return { vfs, gpus };
}

export class KubeletStandIn {
  /** Pod UID -> what it holds. */
  readonly allocations = new Map<string, PodAllocation>();
  /** node -> VF -> pod UID. */
  private readonly vfHolder = new Map<string, Map<string, string>>();
  /** node -> GPU -> pod UID. */
  private readonly gpuHolder = new Map<string, Map<string, string>>();
  /** Per node: bumped on every allocation or release (the oracle's cache key). */
  private readonly versions = new Map<string, number>();
  /** Per node: admissions run one at a time, as one kubelet admits one pod at a time. */
  private readonly chains = new Map<string, Promise<void>>();
  private readonly admitted = new Set<string>();
  private stopWatch: (() => void) | undefined;
  private paused = false;
  private readonly held: KubeObject[] = [];
  private inFlight = 0;

  constructor(private readonly opts: KubeletOptions) {}

  start(): void {
    this.stopWatch = this.opts.api.store.watch(
      POD_RESOURCE,
      { filter: { labels: undefined, fields: [] }, resourceVersion: undefined },
      (type, pod) => this.onPod(type, pod),
    );
  }

  stop(): void {
    this.stopWatch?.();
    this.stopWatch = undefined;
  }

  /** While paused, bound pods wait (not admitted): a cluster without kubelets, as in scheduler_perf. */
  pause(): void {
    this.paused = true;
  }

  resume(): void {
    this.paused = false;
    for (const pod of this.held.splice(0)) {
      const fresh = this.opts.api.store.tryGet(POD_RESOURCE, pod.metadata.namespace, pod.metadata.name ?? '');
      if (fresh !== undefined && fresh.metadata.uid === pod.metadata.uid) this.onPod('MODIFIED', fresh);
    }
  }

  /** Admissions in progress. */
  get busy(): number {
    return this.inFlight;
  }

  versionOf(node: string): number {
    return this.versions.get(node) ?? 0;
  }

  /** VF PCI address -> pod UID on the node. */
  vfsInUse(node: string): ReadonlyMap<string, string> {
    return this.vfHolder.get(node) ?? new Map<string, string>();
  }

  gpusInUse(node: string): ReadonlySet<string> {
    return new Set(this.gpuHolder.get(node)?.keys() ?? []);
  }

  private bump(node: string): void {
    this.versions.set(node, (this.versions.get(node) ?? 0) + 1);
  }

  private onPod(type: string, pod: KubeObject): void {
    const uid = pod.metadata.uid ?? '';
    if (type === 'DELETED') {
      this.release(uid);
      return;
    }
    const node = (pod['spec'] as { nodeName?: string } | undefined)?.nodeName ?? '';
    const phase = (pod['status'] as { phase?: string } | undefined)?.phase;
    if (node === '' || phase !== 'Pending' || pod.metadata.deletionTimestamp !== undefined) return;
    if (this.admitted.has(uid)) return;
    if (this.paused) {
      this.held.push(pod);
      return;
    }
    this.admitted.add(uid);
    this.inFlight++;
    const prev = this.chains.get(node) ?? Promise.resolve();
    const next = prev
      .then(() => this.admit(pod, node))
      .catch((err: unknown) =>
        this.opts.logger.error({ err: (err as Error).message, pod: pod.metadata.name }, 'admission crashed'),
      )
      .finally(() => this.inFlight--);
    this.chains.set(node, next);
  }

  private async admit(pod: KubeObject, node: string): Promise<void> {
    const { api, fleet } = this.opts;
    const ns = pod.metadata.namespace ?? '';
    const name = pod.metadata.name ?? '';
    const uid = pod.metadata.uid ?? '';
    const current = api.store.tryGet(POD_RESOURCE, ns, name);
    if (current?.metadata.uid !== uid || current.metadata.deletionTimestamp !== undefined) return;
    const sim = fleet.get(node);
    const report = this.opts.reportOf(node);
    if (sim === undefined || report === undefined) {
      this.fail(pod, node, `node ${node} has no agent`);
      return;
    }
    const reservation = parseReservation(pod.metadata.annotations?.[ANNOTATIONS.reservation] ?? '');
    const want = resourcesOf(pod);
    this.opts.hooks.onAdmitting?.(pod, node);

    // GPUs: the reserved (aligned) ones when free; when one is taken already, the free GPUs
    // closest to the reserved PFs (topology-aware, as the kubelet's Topology Manager would align
    // them); without a reservation, the first free ones (device plugins without topology hints).
    const gpuHolders = this.gpuHolder.get(node) ?? new Map<string, string>();
    this.gpuHolder.set(node, gpuHolders);
    const gpus: string[] = [];
    const mine = reservation?.podUid === uid ? reservation : undefined;
    for (const g of mine?.gpus ?? []) if (gpus.length < want.gpus && !gpuHolders.has(g)) gpus.push(g);
    if (mine !== undefined && gpus.length < mine.gpus.length) this.opts.hooks.onReservedGpuTaken?.(pod, node);
    const free = report.gpus.filter((g) => !gpuHolders.has(g.pciAddress) && !gpus.includes(g.pciAddress));
    if (mine !== undefined) {
      const pfs = report.pfs.filter((p) => mine.pfs.some((r) => r.pfPciAddress === p.pciAddress));
      const nearest = (g: (typeof free)[number]) =>
        Math.min(...pfs.map((p) => distanceRank(classifyDistance(g, p))), distanceRank('SYS'));
      free.sort((a, b) => nearest(a) - nearest(b));
    }
    for (const g of free) if (gpus.length < want.gpus) gpus.push(g.pciAddress);
    if (gpus.length < want.gpus) {
      this.fail(pod, node, `UnexpectedAdmissionError: ${want.gpus} GPUs asked, ${gpus.length} free`);
      return;
    }

    // VFs: per reserved PF, or the first free ones of each link type.
    const got: { vf: string; pf: string; linkType: LinkType }[] = [];
    const pfOf = new Map<string, string>();
    for (const pf of report.pfs) for (const vf of pf.vfs) pfOf.set(vf.pciAddress, pf.pciAddress);
    const linkOf = new Map(report.pfs.map((p) => [p.pciAddress, p.linkType] as const));
    const asks: { linkType: LinkType; count: number; pf?: string }[] =
      reservation !== undefined && reservation.node === node && reservation.podUid === uid
        ? reservation.pfs.map((p) => ({ linkType: p.linkType, count: p.count, pf: p.pfPciAddress }))
        : LINK_TYPES.filter((t) => want.vfs[t] > 0).map((t) => ({ linkType: t, count: want.vfs[t] }));
    for (const ask of asks) {
      const r = await sim.agent.allocateVfs({ ...ask, podUid: uid });
      if (!r.ok) {
        sim.agent.releaseVfs({ vfs: got.map((g) => g.vf) });
        this.fail(pod, node, `UnexpectedAdmissionError: ${r.reason}`);
        return;
      }
      for (const vf of r.vfs) {
        const pf = pfOf.get(vf) ?? ask.pf ?? '';
        got.push({ vf, pf, linkType: linkOf.get(pf) ?? ask.linkType });
      }
    }
    // The pod may have been deleted while its VFs were being allocated.
    const still = api.store.tryGet(POD_RESOURCE, ns, name);
    if (still?.metadata.uid !== uid || still.metadata.deletionTimestamp !== undefined) {
      sim.agent.releaseVfs({ vfs: got.map((g) => g.vf) });
      return;
    }
    const vfHolders = this.vfHolder.get(node) ?? new Map<string, string>();
    this.vfHolder.set(node, vfHolders);
    for (const g of got) {
      const holder = vfHolders.get(g.vf);
      if (holder !== undefined && holder !== uid)
        this.opts.hooks.onDoubleAllocation?.('vf', node, g.vf, [holder, uid]);
      vfHolders.set(g.vf, uid);
    }
    for (const g of gpus) {
      const holder = gpuHolders.get(g);
      if (holder !== undefined && holder !== uid)
        this.opts.hooks.onDoubleAllocation?.('gpu', node, g, [holder, uid]);
      gpuHolders.set(g, uid);
    }
    if (gpus.length > 0) sim.agent.allocateGpus(gpus);
    const allocation: PodAllocation = { podUid: uid, namespace: ns, name, node, vfs: got, gpus, reservation };
    this.allocations.set(uid, allocation);
    this.bump(node);
    api.kubelet.setPodPhase(ns, name, 'Running', { podIP: `10.${(got.length % 200) + 1}.0.1` });
    this.opts.hooks.onAdmitted?.(allocation);
  }

  private fail(pod: KubeObject, node: string, reason: string): void {
    this.opts.hooks.onAdmissionFailed?.(pod, node, reason);
    try {
      this.opts.api.kubelet.setPodPhase(pod.metadata.namespace ?? '', pod.metadata.name ?? '', 'Failed', {
        reason: 'UnexpectedAdmissionError',
        message: reason,
      });
    } catch {
      // the pod is gone already
    }
  }

  private release(uid: string): void {
    this.admitted.delete(uid);
    const a = this.allocations.get(uid);
    if (a === undefined) return;
    this.allocations.delete(uid);
    const sim = this.opts.fleet.get(a.node);
    sim?.agent.releaseVfs({ vfs: a.vfs.map((v) => v.vf) });
    if (a.gpus.length > 0) sim?.agent.releaseGpus(a.gpus);
    const vh = this.vfHolder.get(a.node);
    for (const v of a.vfs) if (vh?.get(v.vf) === uid) vh.delete(v.vf);
    const gh = this.gpuHolder.get(a.node);
    for (const g of a.gpus) if (gh?.get(g) === uid) gh.delete(g);
    this.bump(a.node);
    this.opts.hooks.onReleased?.(a);
  }
}

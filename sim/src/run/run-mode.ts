/**
 * Runs the workload, then the throughput burst, on one SimCluster, and measures it.
 *
 * Workload phase: the job controller submits the jobs on the simulated clock; the scheduler places
 * their pods; the kubelet starts them; jobs end and their pods go. Every admission is judged by
 * the alignment oracle and checked for double allocation; every ledger change and allocation is
 * checked against the tenants' quotas.
 *
 * Burst phase (scheduler_perf's method): with the kubelets stopped (scheduler_perf has none), a
 * burst of pods is created at once and the SchedulingThroughput is measured over them: pods bound
 * per second from the first creation to the last binding, set-up excluded. The pods are then
 * deleted and the kubelets resumed.
 */
import { LINK_TYPES, SCHEDULER_NAME, VF_RESOURCE, type LinkType } from '@rdmasched/contracts';
import { podRequestFrom } from '@rdmasched/scheduler-extender';
import { POD_RESOURCE, type KubeObject } from '@rdmasched/testkit';
import type { SimConfig } from '../config.js';
import type { NodePlan } from '../cluster/node-mix.js';
import { PERF_TENANT, type TenantPlan } from '../cluster/tenants.js';
import type { PodAllocation } from '../kubelet/kubelet.js';
import type { Progress } from '../progress.js';
import { Collector } from '../report/collector.js';
import { AlignmentOracle, achievedClass } from '../report/oracle.js';
import type { ModeReport } from '../report/report.js';
import { JobController, SimClock, TENANT_LABEL } from '../workload/job-controller.js';
import type { Job } from '../workload/model.js';
import { createRng } from '../workload/random.js';
import { inBatches } from '../cluster/fleet.js';
import { SimCluster, type Mode } from './cluster.js';
import type { Logger } from 'pino';

export interface ModeRunInput {
  readonly mode: Mode;
  readonly config: SimConfig;
  readonly plans: readonly NodePlan[];
  readonly tenants: readonly TenantPlan[];
  readonly jobs: readonly Job[];
  /** The cluster's VFs per link type (at `vfsPerPf` per PF). */
  readonly capacity: Readonly<Record<LinkType, number>>;
  readonly logger: Logger;
  readonly progress: Progress;
}

export interface ModeRunOutput {
  readonly report: ModeReport;
  readonly cluster: SimCluster;
  readonly collector: Collector;
  readonly heapPerNodeKiB: number | null;
}

function vfsOf(a: PodAllocation): Record<LinkType, number> {
  const v: Record<LinkType, number> = { ib: 0, roce: 0 };
  for (const x of a.vfs) v[x.linkType]++;
  return v;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/**
 * How long the extender's bind waits for on-demand provisioning. Longer than a real cluster
 * needs: here thousands of agents share two cores with everything else.
 */
export const PROVISION_TIMEOUT_MS = 20_000;

export async function runMode(input: ModeRunInput): Promise<ModeRunOutput> {
  const { mode, config, plans, tenants, jobs, progress, logger } = input;
  const tSetup = performance.now();
  const heapBefore = process.memoryUsage().heapUsed;
  const quotas = new Map(tenants.map((t) => [t.name, t.quota] as const));
  const tenantOfNs = new Map(tenants.map((t) => [t.namespace, t.name] as const));
  const collector = new Collector({ quotas });
  const nodeNames = plans.map((p) => p.name);
  // The hooks below run only once the cluster exists; they reach it through this holder.
  const ref: { cluster?: SimCluster } = {};
  const oracle = new AlignmentOracle({
    policy: 'pack',
    onDemandProvisioning: mode === 'extender',
    ownReservation: (uid) => {
      const r = ref.cluster?.store.observer.reservation(uid);
      if (r === undefined) return undefined;
      const m = new Map<string, number>();
      for (const p of r.pfs) m.set(p.pfPciAddress, (m.get(p.pfPciAddress) ?? 0) + p.count);
      return m;
    },
  });
  const tenantOf = (pod: KubeObject) =>
    pod.metadata.labels?.[TENANT_LABEL] ?? tenantOfNs.get(pod.metadata.namespace ?? '') ?? '';

  const cluster = await SimCluster.start({
    mode,
    plans,
    tenants,
    vfsPerPf: config.vfsPerPf,
    seed: config.seed,
    percentageOfNodesToScore: config.percentageOfNodesToScore,
    schedulerThread: config.schedulerThread,
    logger,
    progress,
    onSchedulerEvents: (events) => {
      for (const e of events) collector.scheduler(e);
    },
    onVfsCreated: (_node, count) => collector.vfsCreated(count),
    onProvisionAnswer: () => collector.provisionRequested(),
    provisionTimeoutMs: PROVISION_TIMEOUT_MS,
    redisUrl: config.redisUrl,
    extenderThread: config.extenderThread,
    kubeletHooks: {
      onAdmitting: (pod, node) => {
        const rec = collector.pods.get(pod.metadata.uid ?? '');
        if (rec === undefined || !rec.gpuPod || ref.cluster === undefined) return;
        const parsed = podRequestFrom(pod);
        if (parsed.kind !== 'ok') return;
        const c = ref.cluster;
        rec.eligible = oracle.alignedPlacementExisted(parsed.request, rec.uid, node, nodeNames, (n) => {
          const report = c.reportOf(n);
          if (report === undefined) return undefined;
          return {
            report,
            vfsInUse: c.kubelet.vfsInUse(n),
            gpusInUse: c.kubelet.gpusInUse(n),
            reservations: c.store.observer.forNode(n),
            version: c.kubelet.versionOf(n) + (c.ledgerVersions.get(n) ?? 0),
          };
        });
      },
      onAdmitted: (a) => {
        const rec = collector.pods.get(a.podUid);
        if (rec !== undefined) {
          rec.admitted = true;
          rec.devices = {
            pfs: a.vfs.map((v) => v.pf),
            gpus: a.gpus,
            reservedGpus: a.reservation?.gpus ?? [],
          };
          const report = ref.cluster?.reportOf(a.node);
          if (rec.gpuPod && report !== undefined)
            rec.achieved = achievedClass(
              report,
              a.vfs.map((v) => v.pf),
              a.gpus,
            );
        }
        const pod = ref.cluster?.api.store.tryGet(POD_RESOURCE, a.namespace, a.name);
        collector.allocated(pod === undefined ? '' : tenantOf(pod), vfsOf(a), 1);
      },
      onReleased: (a) => {
        const tenant = tenantOfNs.get(a.namespace) ?? '';
        collector.allocated(tenant, vfsOf(a), -1);
      },
      onAdmissionFailed: (pod, node, reason) => {
        collector.admissionFailures++;
        logger.warn({ pod: pod.metadata.name, node, reason }, 'admission failed');
      },
      onDoubleAllocation: (kind, node, device, pods) => collector.doubleAllocation(kind, node, device, pods),
      onReservedGpuTaken: () => collector.reservedGpusTaken++,
    },
  });
  ref.cluster = cluster;
  // Quota, as the ledger counts it: checked after every change of a tenant's usage.
  const observer = cluster.store.observer;
  observer.addListener({
    onTenant: (t) => {
      if (t !== '') collector.checkUsage('ledger', t, observer.tenantUsage(t));
    },
  });
  // Bindings, as the API sees them.
  cluster.api.store.watch(
    POD_RESOURCE,
    { filter: { labels: undefined, fields: [] }, resourceVersion: undefined },
    (type, pod) => {
      if (type === 'DELETED') return;
      const node = (pod['spec'] as { nodeName?: string } | undefined)?.nodeName;
      if (node !== undefined && node !== '')
        collector.podBound(pod.metadata.uid ?? '', node, performance.now());
    },
  );
  collector.countingProvisioning = true;
  const setupSeconds = (performance.now() - tSetup) / 1000;
  global.gc?.();
  const heapPerNodeKiB = (process.memoryUsage().heapUsed - heapBefore) / 1024 / Math.max(1, plans.length);
  progress.note(
    `${mode}: extender ${cluster.extender?.url ?? '(none: count-only baseline)'}, agent metrics ${cluster.metrics.url}/metrics, API ${cluster.api.url}`,
  );

  // ---- workload phase ----
  const tWork = performance.now();
  const clock = new SimClock(config.timeScale);
  const controller = new JobController({
    store: cluster.api.store,
    jobs,
    tenants,
    clock,
    pendingTimeoutSeconds: config.pendingTimeoutSeconds,
    quotaAdmission: mode === 'baseline',
    hooks: {
      onPodCreated: (pod, job) =>
        collector.podCreated(pod.metadata.uid ?? '', job.tenant, {
          burst: false,
          gpuPod:
            job.perPod.gpus > 0 &&
            job.perPod.gpuLocality !== 'none' &&
            ((job.perPod.vfs.ib ?? 0) > 0 || (job.perPod.vfs.roce ?? 0) > 0),
        }),
      onQuotaWait: (r) => collector.quotaRejected(r.job.tenant),
    },
  });
  progress.phase(`${mode}: workload`, jobs.length);
  controller.start();
  const wallLimitMs = config.maxWallSeconds > 0 ? config.maxWallSeconds * 1000 : Infinity;
  while (!controller.finished) {
    await sleep(100);
    const c = controller.counts();
    progress.update(
      c.done + c.cancelled + c.failed,
      `running ${c.running}, pending ${c.pending + c['quota-wait']}, sim ${clock.now().toFixed(0)} s`,
    );
    if (performance.now() - tWork > wallLimitMs) {
      progress.note(`${mode}: wall-clock limit reached; cancelling what is left`);
      controller.cancelAll('end of run (wall-clock limit)');
      const until = performance.now() + 10_000;
      while (!controller.finished && performance.now() < until) await sleep(50);
      break;
    }
  }
  controller.stop();
  const counts = controller.counts();
  progress.end(`${counts.done} done, ${counts.cancelled} cancelled, ${counts.failed} failed`);
  const workloadSeconds = (performance.now() - tWork) / 1000;

  // ---- burst phase ----
  const tBurst = performance.now();
  const burst = await runBurst(cluster, collector, config, mode, input.capacity, progress);
  const burstSeconds = (performance.now() - tBurst) / 1000;

  const s = collector.sections();
  const report: ModeReport = {
    mode,
    scheduler: {
      description:
        mode === 'extender'
          ? 'kube-scheduler stand-in + rdmasched extender (filter, prioritize, bind)'
          : 'kube-scheduler stand-in, no extender: VFs as static device-plugin resources, in-tree fit and scores',
      thread: cluster.schedulerThread,
      percentageOfNodesToScore: config.percentageOfNodesToScore,
      cycleMs: s.cycleMs,
    },
    jobs: { total: jobs.length, done: counts.done, cancelled: counts.cancelled, failed: counts.failed },
    pods: s.pods,
    alignment: s.alignment,
    vfs: {
      provisionedOnDemand: collector.vfsCreatedOnDemand,
      provisioningRequests: collector.provisioningRequests,
      provisionedStatically: [...cluster.staticVfs.values()].reduce((a, v) => a + v.ib + v.roce, 0),
      doubleAllocated: s.vfs.doubleAllocated,
      gpusDoubleAllocated: s.vfs.gpusDoubleAllocated,
    },
    quota: s.quota,
    throughput: burst,
    extender: mode === 'extender' ? s.extender : null,
    timing: { setupSeconds, workloadSeconds, burstSeconds },
  };
  return { report, cluster, collector, heapPerNodeKiB };
}

/**
 * The burst's pods: scheduler_perf's basic pods, each with one VF (its link type drawn with the
 * seed in proportion to the cluster's VFs of each type), in the `perf` tenant (no quota).
 */
function burstManifests(count: number, seed: number, capacity: Readonly<Record<LinkType, number>>) {
  const rng = createRng(seed).fork('burst');
  const types = LINK_TYPES.filter((t) => capacity[t] > 0).map((t) => ({ item: t, weight: capacity[t] }));
  return Array.from({ length: count }, (_, i) => {
    const linkType: LinkType = types.length > 0 ? rng.weighted(types) : 'ib';
    const resources = { cpu: '100m', memory: '128Mi', [VF_RESOURCE[linkType]]: '1' };
    return {
      linkType,
      manifest: {
        apiVersion: 'v1',
        kind: 'Pod',
        metadata: {
          name: `burst-${i}`,
          namespace: PERF_TENANT,
          labels: { [TENANT_LABEL]: PERF_TENANT, 'sim.rdmasched.io/burst': 'true' },
        },
        spec: {
          schedulerName: SCHEDULER_NAME,
          terminationGracePeriodSeconds: 0,
          containers: [{ name: 'c', image: 'pause', resources: { requests: resources, limits: resources } }],
        },
      },
    };
  });
}

/**
 * Set-up of the burst (not measured, as scheduler_perf's init phase): idle PFs spread over the
 * nodes get a warm pool of ready VFs, enough for the burst's pods plus a quarter, through the
 * agents' own provisioning. The burst then measures the scheduling path (filter, prioritize, bind
 * with its reservation), not the simulated kernels creating VFs, which on a real cluster happens
 * on each node's own CPU.
 */
async function warmForBurst(
  cluster: SimCluster,
  demand: Readonly<Record<LinkType, number>>,
  vfsPerPf: number,
  progress: Progress,
): Promise<number> {
  const picks: { node: string; pf: string; vfs: number }[] = [];
  for (const t of LINK_TYPES) {
    let need = Math.ceil(demand[t] * 1.25);
    if (need === 0) continue;
    const candidates: { node: string; pf: string; vfs: number }[] = [];
    for (const n of cluster.fleet.nodes.values()) {
      const pf = cluster
        .reportOf(n.plan.name)
        ?.pfs.find(
          (p) =>
            p.linkType === t &&
            p.sriov !== null &&
            p.sriov.maxVfs > 0 &&
            p.vfs.every((v) => v.state === 'free'),
        );
      if (pf?.sriov != null)
        candidates.push({ node: n.plan.name, pf: pf.pciAddress, vfs: Math.min(vfsPerPf, pf.sriov.maxVfs) });
    }
    // Spread over the cluster, so that every scheduling sample sees some of them.
    const count = Math.min(candidates.length, Math.ceil(need / Math.max(1, vfsPerPf)));
    const stride = candidates.length / Math.max(1, count);
    for (let i = 0; i < count && need > 0; i++) {
      const c = candidates[Math.floor(i * stride)];
      if (c === undefined) continue;
      picks.push(c);
      need -= c.vfs;
    }
  }
  progress.phase('burst: warm-up', picks.length);
  let done = 0;
  let ready = 0;
  await inBatches(picks, 64, async (p) => {
    const got = await cluster.fleet.warm(p.node, p.pf, p.vfs);
    ready += got;
    progress.update(++done, 'PFs warmed');
  });
  progress.end(`${ready} ready VFs on ${picks.length} PFs`);
  return ready;
}

async function runBurst(
  cluster: SimCluster,
  collector: Collector,
  config: SimConfig,
  mode: Mode,
  capacity: Readonly<Record<LinkType, number>>,
  progress: Progress,
): Promise<ModeReport['throughput']> {
  const method =
    'scheduler_perf SchedulingThroughput: a burst of one-VF pods created at once, no kubelet running them, after a warm-up that readies VFs (not measured); pods bound / seconds from the first creation to the last binding';
  const n = config.burstPods;
  if (n === 0)
    return {
      podsPerSecond: null,
      burstPods: 0,
      bound: 0,
      seconds: null,
      perSecond: [],
      provisioningRequests: 0,
      warmedVfs: 0,
      method,
    };
  const pods = burstManifests(n, config.seed, capacity);
  const demand: Record<LinkType, number> = { ib: 0, roce: 0 };
  for (const p of pods) demand[p.linkType]++;
  // The warm-up is set-up: its VFs are not "on demand".
  collector.countingProvisioning = false;
  const warmed = mode === 'extender' ? await warmForBurst(cluster, demand, config.vfsPerPf, progress) : 0;
  collector.countingProvisioning = true;
  cluster.kubelet.pause();
  collector.inBurst = true;
  progress.phase(`${mode}: burst`, n);
  const manifests = pods.map((p) => p.manifest);
  const names: string[] = [];
  const uids: string[] = [];
  const t0 = performance.now();
  for (let i = 0; i < manifests.length; i += 500) {
    for (const m of manifests.slice(i, i + 500)) {
      const pod = cluster.api.store.create(POD_RESOURCE, PERF_TENANT, m).object;
      names.push(pod.metadata.name ?? '');
      uids.push(pod.metadata.uid ?? '');
      collector.podCreated(pod.metadata.uid ?? '', PERF_TENANT, { burst: true, gpuPod: false });
    }
    await new Promise((r) => setImmediate(r));
  }
  // Until every pod is bound or was found unschedulable, or nothing moved for a while.
  const records = uids.map((u) => collector.pods.get(u));
  const settled = () =>
    records.every((p) => p === undefined || p.boundAtMs !== undefined || p.lastOutcome === 'unschedulable');
  let lastCount = -1;
  let lastProgressAt = performance.now();
  const quietMs = 10_000;
  for (;;) {
    const bound = collector.burstBoundAt.length;
    progress.update(bound, 'pods bound');
    if (bound >= n || settled()) break;
    if (bound !== lastCount) {
      lastCount = bound;
      lastProgressAt = performance.now();
    } else if (performance.now() - lastProgressAt > quietMs) break;
    await sleep(50);
  }
  const times = collector.burstBoundAt;
  const last = times.length > 0 ? Math.max(...times) : t0;
  const seconds = (last - t0) / 1000;
  const perSecond: number[] = [];
  for (const t of times) {
    const k = Math.floor((t - t0) / 1000);
    while (perSecond.length <= k) perSecond.push(0);
    perSecond[k] = (perSecond[k] ?? 0) + 1;
  }
  const whole = perSecond.length > 1 ? perSecond.slice(0, -1) : perSecond;
  progress.end(`${times.length} bound in ${seconds.toFixed(2)} s`);
  collector.inBurst = false;
  // Clean up (not measured): delete the burst pods, wait for them to go, resume the kubelets.
  for (const name of names) {
    try {
      cluster.api.store.delete(POD_RESOURCE, PERF_TENANT, name, { gracePeriodSeconds: 0 });
    } catch {
      // gone
    }
  }
  const until = performance.now() + 10_000;
  while (cluster.api.store.list(POD_RESOURCE, PERF_TENANT).length > 0 && performance.now() < until)
    await sleep(20);
  cluster.kubelet.resume();
  return {
    podsPerSecond: times.length === 0 || seconds <= 0 ? null : Number((times.length / seconds).toFixed(1)),
    burstPods: n,
    bound: times.length,
    seconds: Number(seconds.toFixed(3)),
    perSecond: whole,
    provisioningRequests: collector.burstProvisioningRequests,
    warmedVfs: warmed,
    method,
  };
}

/**
 * One simulated cluster, brought up for one scheduler (the rdmasched extender, or the count-only
 * baseline): fake API server with namespaces, tenants and nodes; the agents on their simulated
 * hosts; the embedded store; the extender on loopback HTTP (extender mode); the kube-scheduler
 * stand-in; the kubelet stand-in; the release of reservations when pods go.
 */
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { Worker } from 'node:worker_threads';
import type { Logger } from 'pino';
import { Registry } from 'prom-client';
import {
  LINK_TYPES,
  SCHEDULER_NAME,
  VF_RESOURCE,
  type LinkType,
  type NodeReport,
} from '@rdmasched/contracts';
import {
  InMemoryLeaderLock,
  InMemorySubnetManager,
  KubePodApi,
  KubePodInformer,
  KubeTenantSource,
  KubeTenantStatusWriter,
  LeaderBoard,
  LedgerMirror,
  TenantCatalog,
  composeExtender,
  type ComposedExtender,
} from '@rdmasched/scheduler-extender';
import {
  FakeKubeApiServer,
  NAMESPACE_RESOURCE,
  NODE_RESOURCE,
  RDMA_TENANT_RESOURCE,
  type ExtenderConfig,
} from '@rdmasched/testkit';
import { Fleet } from '../cluster/fleet.js';
import { createMemoryStore, createRedisStore, type SimStore } from '../cluster/store.js';
import { AgentMetricsServer } from '../cluster/metrics-server.js';
import { nodeObject, type NodePlan } from '../cluster/node-mix.js';
import { namespaceObject, tenantObject, type TenantPlan } from '../cluster/tenants.js';
import { KubeletStandIn, type KubeletHooks } from '../kubelet/kubelet.js';
import type { Progress } from '../progress.js';
import { startScheduler, type SchedulerHandle } from '../scheduler/handle.js';
import type { SchedulerEvent } from '../scheduler/protocol.js';
import type { ExtenderThreadMessage, ExtenderThreadSetup } from '../extender/protocol.js';

export type Mode = 'extender' | 'baseline';

export interface ClusterOptions {
  readonly mode: Mode;
  readonly plans: readonly NodePlan[];
  readonly tenants: readonly TenantPlan[];
  readonly vfsPerPf: number;
  readonly seed: number;
  readonly percentageOfNodesToScore: number;
  readonly schedulerThread: 'worker' | 'inline';
  readonly logger: Logger;
  readonly progress: Progress;
  readonly kubeletHooks: KubeletHooks;
  readonly onSchedulerEvents: (events: readonly SchedulerEvent[]) => void;
  readonly onVfsCreated: (node: string, count: number) => void;
  /** An agent answered a provisioning request. */
  readonly onProvisionAnswer: () => void;
  /** How long the extender's bind waits for on-demand provisioning. */
  readonly provisionTimeoutMs: number;
  /** Redis for the agents and the extender; the embedded in-memory store when undefined. */
  readonly redisUrl: string | undefined;
  /** Where the extender runs: this thread, or its own worker thread (Redis mode only). */
  readonly extenderThread: 'worker' | 'inline';
}

/** The extender as the simulation runs it. */
export interface SimExtender {
  readonly url: string;
  /** Where it runs. */
  readonly thread: 'worker' | 'inline';
  stop(): Promise<void>;
}

/** Extended resources of VFs: the extender's, skipped by the in-tree fit check. */
const VF_MANAGED = LINK_TYPES.map((t) => ({ name: VF_RESOURCE[t], ignoredByScheduler: true }));

export class SimCluster {
  readonly api: FakeKubeApiServer;
  readonly store: SimStore;
  readonly fleet: Fleet;
  readonly kubelet: KubeletStandIn;
  readonly extender: SimExtender | undefined;
  readonly metrics: AgentMetricsServer;
  readonly staticVfs: ReadonlyMap<string, Record<LinkType, number>>;
  private readonly stops: (() => void | Promise<void>)[] = [];
  private scheduler: SchedulerHandle | undefined;
  /** Per node: bumped on every ledger change of the node (the oracle's cache key). */
  readonly ledgerVersions = new Map<string, number>();

  private constructor(init: {
    api: FakeKubeApiServer;
    store: SimStore;
    fleet: Fleet;
    kubelet: KubeletStandIn;
    extender: SimExtender | undefined;
    metrics: AgentMetricsServer;
    staticVfs: ReadonlyMap<string, Record<LinkType, number>>;
  }) {
    this.api = init.api;
    this.store = init.store;
    this.fleet = init.fleet;
    this.kubelet = init.kubelet;
    this.extender = init.extender;
    this.metrics = init.metrics;
    this.staticVfs = init.staticVfs;
  }

  reportOf(node: string): NodeReport | undefined {
    return this.store.reports.latest.get(node)?.report;
  }

  get schedulerThread(): 'worker' | 'inline' {
    return this.scheduler?.thread ?? 'inline';
  }

  static async start(o: ClusterOptions): Promise<SimCluster> {
    const { progress, logger } = o;
    const store = o.redisUrl === undefined ? createMemoryStore() : createRedisStore(o.redisUrl, logger);
    await store.ready();
    progress.phase(`${o.mode}: nodes`, o.plans.length);
    const fleet = await Fleet.start(
      {
        plans: o.plans,
        vfsPerPf: o.vfsPerPf,
        logger: logger.child({ component: 'agent' }),
        onProgress: (n) => progress.update(n, 'agents started'),
        onVfsCreated: o.onVfsCreated,
        onProvisionAnswer: () => o.onProvisionAnswer(),
      },
      store,
    );
    progress.end();

    let staticVfs = new Map<string, Record<LinkType, number>>();
    if (o.mode === 'baseline') {
      progress.phase('baseline: static VFs', o.plans.length);
      staticVfs = await fleet.provisionStatically(
        o.vfsPerPf,
        (n) => store.reports.latest.get(n)?.report,
        (d) => progress.update(d, 'nodes provisioned'),
      );
      progress.end();
    }

    const api = await FakeKubeApiServer.start({ historySize: 20_000 });
    for (const t of o.tenants) {
      api.store.create(NAMESPACE_RESOURCE, undefined, namespaceObject(t));
      api.store.create(RDMA_TENANT_RESOURCE, undefined, tenantObject(t));
    }
    for (const plan of o.plans) {
      const report = store.reports.latest.get(plan.name)?.report;
      if (report === undefined) throw new Error(`node ${plan.name}: its agent published no report`);
      api.store.create(NODE_RESOURCE, undefined, nodeObject(plan, report, staticVfs.get(plan.name)));
    }
    await store.start(logger);
    const extender =
      o.mode !== 'extender'
        ? undefined
        : o.extenderThread === 'worker' && store.redis !== undefined && extenderWorkerFile() !== undefined
          ? await startExtenderThread(api, store.redis, o.provisionTimeoutMs, logger)
          : await startExtender(api, store, o.provisionTimeoutMs, logger);

    const kubelet = new KubeletStandIn({
      api,
      fleet,
      reportOf: (n) => store.reports.latest.get(n)?.report,
      hooks: o.kubeletHooks,
      logger: logger.child({ component: 'kubelet' }),
    });
    const registries = new Map(
      [...fleet.nodes.values()].map((n) => [n.plan.name, n.agent.registry] as const),
    );
    const metrics = new AgentMetricsServer(registries);
    await metrics.listen();

    const cluster = new SimCluster({ api, store, fleet, kubelet, extender, metrics, staticVfs });
    cluster.stops.push(
      store.observer.addListener({
        onNode: (n) => cluster.ledgerVersions.set(n, (cluster.ledgerVersions.get(n) ?? 0) + 1),
      }),
    );
    kubelet.start();

    const extenders: ExtenderConfig[] = [];
    if (extender !== undefined) {
      extenders.push({
        urlPrefix: extender.url,
        filterVerb: 'filter',
        prioritizeVerb: 'prioritize',
        bindVerb: 'bind',
        preemptVerb: 'preempt',
        weight: 5,
        nodeCacheCapable: true,
        // Bind waits for on-demand provisioning (bounded by provisionTimeoutMs).
        httpTimeoutMs: o.provisionTimeoutMs + 10_000,
        managedResources: VF_MANAGED,
      });
    }
    cluster.scheduler = await startScheduler(
      {
        apiUrl: api.url,
        schedulerName: SCHEDULER_NAME,
        extenders,
        percentageOfNodesToScore: o.percentageOfNodesToScore,
        seed: o.seed,
        initialBackoffMs: 200,
        maxBackoffMs: 2000,
        unschedulableFlushMs: 5000,
      },
      o.schedulerThread,
      o.onSchedulerEvents,
    );
    return cluster;
  }

  /** Stops everything, in the reverse order of start. Idempotent. */
  async stop(): Promise<void> {
    const scheduler = this.scheduler;
    this.scheduler = undefined;
    await scheduler?.stop();
    this.kubelet.stop();
    for (const s of this.stops.splice(0)) await s();
    await this.extender?.stop();
    await this.metrics.close();
    await this.fleet.stop();
    await this.store.close();
    await this.api.stop();
  }
}

/**
 * The real extender, composed as its daemon composes it (compose.ts): reports, ledger and
 * provisioning through the simulation's store (in memory or Redis, cluster/store.ts), and the
 * Kubernetes side (pods, tenants, namespaces, tenant status) through client-node against the fake
 * API server.
 */
async function startExtender(
  api: FakeKubeApiServer,
  store: SimStore,
  provisionTimeoutMs: number,
  logger: Logger,
): Promise<SimExtender> {
  const log = logger.child({ component: 'extender' });
  const kc = api.kubeConfig();
  const registry = new Registry();
  const mirror = new LedgerMirror();
  const catalog = new TenantCatalog();
  const tenantSource = new KubeTenantSource({ kubeConfig: kc, catalog, logger: log });
  let release: ComposedExtender['releasePod'] = () => Promise.resolve();
  const podInformer = new KubePodInformer({
    kubeConfig: kc,
    schedulerName: SCHEDULER_NAME,
    logger: log,
    onPodGone: (pod, why) => void release(pod, why),
  });
  const subnetManager = new InMemorySubnetManager();
  const parts = composeExtender({
    logger: log,
    registry,
    policy: 'pack',
    mirror,
    ledger: store.ledger,
    provisioning: store.provisioning,
    kube: {
      pods: new KubePodApi(kc, SCHEDULER_NAME),
      podCache: podInformer,
      tenants: catalog,
      statusWriter: new KubeTenantStatusWriter(kc),
    },
    untenanted: 'reject',
    subnetManager,
    leaderLock: new InMemoryLeaderLock(new LeaderBoard(), 'sim-extender-0'),
    timings: { provisionTimeoutMs },
  });
  release = parts.releasePod;
  const disconnect = await store.connectExtender(parts.snapshot, mirror, log);
  await Promise.all([tenantSource.start(), podInformer.start()]);
  parts.duties?.start();
  const url = await parts.app.listen({ host: '127.0.0.1', port: 0 });
  return {
    url,
    thread: 'inline',
    stop: async () => {
      await parts.app.close();
      await parts.duties?.stop();
      await podInformer.stop();
      await tenantSource.stop();
      await disconnect();
    },
  };
}

/** The compiled extender worker, when this module runs from `dist/` (undefined from sources). */
function extenderWorkerFile(): string | undefined {
  const path = fileURLToPath(new URL('../extender/worker.js', import.meta.url));
  return import.meta.url.endsWith('.js') && existsSync(path) ? path : undefined;
}

/** The extender in a worker thread of its own, on the run's Redis keys (extender/worker.ts). */
async function startExtenderThread(
  api: FakeKubeApiServer,
  redis: { readonly url: string; readonly keyPrefix: string },
  provisionTimeoutMs: number,
  logger: Logger,
): Promise<SimExtender> {
  const file = extenderWorkerFile();
  if (file === undefined) throw new Error('the extender worker is not built (run tsc -b)');
  const setup: ExtenderThreadSetup = {
    redisUrl: redis.url,
    keyPrefix: redis.keyPrefix,
    apiUrl: api.url,
    provisionTimeoutMs,
    logLevel: logger.level,
  };
  const worker = new Worker(file, { workerData: setup });
  let stopped: (() => void) | undefined;
  const url = await new Promise<string>((resolve, reject) => {
    worker.on('message', (m: ExtenderThreadMessage) => {
      if (m.kind === 'listening') resolve(m.url);
      else if (m.kind === 'failed') reject(new Error(`the extender thread failed to start: ${m.message}`));
      else stopped?.();
    });
    worker.once('error', reject);
  });
  return {
    url,
    thread: 'worker',
    stop: async () => {
      const done = new Promise<void>((r) => (stopped = r));
      worker.postMessage({ kind: 'stop' });
      await Promise.race([done, new Promise((r) => setTimeout(r, 10_000))]);
      await worker.terminate();
    },
  };
}

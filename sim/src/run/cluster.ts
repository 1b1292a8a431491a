/**
 * One simulated cluster, brought up for one scheduler (the rdmasched extender, or the count-only
 * baseline): fake API server with namespaces, tenants and nodes; the agents on their simulated
 * hosts; the embedded store; the extender on loopback HTTP (extender mode); the kube-scheduler
 * stand-in; the kubelet stand-in; the release of reservations when pods go.
 */
import type { Logger } from 'pino';
import { LINK_TYPES, VF_RESOURCE, type LinkType, type NodeReport } from '@rdmasched/contracts';
import { createEmbeddedExtender, type EmbeddedExtender } from '@rdmasched/scheduler-extender';
import {
  FakeKubeApiServer,
  NAMESPACE_RESOURCE,
  NODE_RESOURCE,
  POD_RESOURCE,
  RDMA_TENANT_RESOURCE,
  type ExtenderConfig,
} from '@rdmasched/testkit';
import { InterimBinder } from '../binder/interim-binder.js';
import { mirrorLedger } from '../cluster/bridge.js';
import { Fleet, createEmbeddedStore, type EmbeddedStore } from '../cluster/fleet.js';
import { AgentMetricsServer } from '../cluster/metrics-server.js';
import { nodeObject, type NodePlan } from '../cluster/node-mix.js';
import { namespaceObject, tenantObject, type TenantPlan } from '../cluster/tenants.js';
import { KubeletStandIn, type KubeletHooks } from '../kubelet/kubelet.js';
import type { Progress } from '../progress.js';
import { startScheduler, type SchedulerHandle } from '../scheduler/handle.js';
import type { SchedulerEvent } from '../scheduler/protocol.js';

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
  readonly onProvisionRequested: () => void;
  readonly onQuotaRejected?: (tenant: string, linkType: LinkType) => void;
}

/** Extended resources of VFs: the extender's, skipped by the in-tree fit check. */
const VF_MANAGED = LINK_TYPES.map((t) => ({ name: VF_RESOURCE[t], ignoredByScheduler: true }));

export class SimCluster {
  readonly api: FakeKubeApiServer;
  readonly store: EmbeddedStore;
  readonly fleet: Fleet;
  readonly kubelet: KubeletStandIn;
  readonly extender: (EmbeddedExtender & { url: string }) | undefined;
  readonly binder: InterimBinder | undefined;
  readonly metrics: AgentMetricsServer;
  readonly staticVfs: ReadonlyMap<string, Record<LinkType, number>>;
  private readonly stops: (() => void | Promise<void>)[] = [];
  private scheduler: SchedulerHandle | undefined;
  /** Per node: bumped on every ledger change of the node (the oracle's cache key). */
  readonly ledgerVersions = new Map<string, number>();

  private constructor(init: {
    api: FakeKubeApiServer;
    store: EmbeddedStore;
    fleet: Fleet;
    kubelet: KubeletStandIn;
    extender: (EmbeddedExtender & { url: string }) | undefined;
    binder: InterimBinder | undefined;
    metrics: AgentMetricsServer;
    staticVfs: ReadonlyMap<string, Record<LinkType, number>>;
  }) {
    this.api = init.api;
    this.store = init.store;
    this.fleet = init.fleet;
    this.kubelet = init.kubelet;
    this.extender = init.extender;
    this.binder = init.binder;
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
    const store = createEmbeddedStore();
    progress.phase(`${o.mode}: nodes`, o.plans.length);
    const fleet = await Fleet.start(
      {
        plans: o.plans,
        vfsPerPf: o.vfsPerPf,
        logger: logger.child({ component: 'agent' }),
        onProgress: (n) => progress.update(n, 'agents started'),
        onVfsCreated: o.onVfsCreated,
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

    let extender: (EmbeddedExtender & { url: string }) | undefined;
    if (o.mode === 'extender') {
      const ext = createEmbeddedExtender({ logger: logger.child({ component: 'extender' }) });
      store.reports.connect(ext.store);
      await ext.store.start();
      mirrorLedger(store.ledger, ext.reservations);
      const url = await ext.app.listen({ host: '127.0.0.1', port: 0 });
      extender = { ...ext, url };
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

    const kubelet = new KubeletStandIn({
      api,
      fleet,
      reportOf: (n) => store.reports.latest.get(n)?.report,
      hooks: o.kubeletHooks,
      logger: logger.child({ component: 'kubelet' }),
    });
    let binder: InterimBinder | undefined;
    if (extender !== undefined) {
      binder = new InterimBinder({
        store: api.store,
        snapshot: extender.snapshot,
        reservations: extender.reservations,
        ledger: store.ledger,
        fleet,
        tenants: o.tenants,
        onProvisionRequested: o.onProvisionRequested,
        ...(o.onQuotaRejected === undefined ? {} : { onQuotaRejected: o.onQuotaRejected }),
      });
    }
    const registries = new Map(
      [...fleet.nodes.values()].map((n) => [n.plan.name, n.agent.registry] as const),
    );
    const metrics = new AgentMetricsServer(registries);
    await metrics.listen();

    const cluster = new SimCluster({ api, store, fleet, kubelet, extender, binder, metrics, staticVfs });
    cluster.stops.push(
      store.ledger.onEvent((e) =>
        cluster.ledgerVersions.set(e.node, (cluster.ledgerVersions.get(e.node) ?? 0) + 1),
      ),
    );
    // Reservations end with their pods (the extender's release path, issue 4; here until it lands).
    if (extender !== undefined) {
      cluster.stops.push(
        api.store.watch(
          POD_RESOURCE,
          { filter: { labels: undefined, fields: [] }, resourceVersion: undefined },
          (type, pod) => {
            if (type === 'DELETED') store.ledger.unreserve(pod.metadata.uid ?? '');
          },
        ),
      );
    }
    kubelet.start();

    const extenders: ExtenderConfig[] = [];
    if (extender !== undefined && binder !== undefined) {
      extenders.push({
        urlPrefix: extender.url,
        filterVerb: 'filter',
        prioritizeVerb: 'prioritize',
        weight: 5,
        nodeCacheCapable: true,
        httpTimeoutMs: 5000,
        managedResources: VF_MANAGED,
      });
      extenders.push({
        urlPrefix: await binder.listen(),
        bindVerb: 'bind',
        weight: 1,
        nodeCacheCapable: true,
        // Binding waits for on-demand provisioning (bounded by the binder at 20 s).
        httpTimeoutMs: 30_000,
        managedResources: [],
      });
    }
    cluster.scheduler = await startScheduler(
      {
        apiUrl: api.url,
        schedulerName: 'rdma-scheduler',
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
    await this.binder?.close();
    if (this.extender !== undefined) await this.extender.app.close();
    await this.metrics.close();
    await this.fleet.stop();
    await this.api.stop();
  }
}

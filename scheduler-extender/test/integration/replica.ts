/**
 * Test wiring for the ledger integration tests: extender replicas as production composes them
 * (composeExtender), each with its own Redis connections, ledger mirror and informers, against a
 * real Redis (or Redis Cluster) and the fake kube-apiserver (testkit, driven through client-node).
 * Node agents are stood in for by `AgentWriter` plus the capacity summaries they write to the
 * ledger (`publishNode`).
 */
import { randomUUID } from 'node:crypto';
import { RedisKeys, type NodeReport, type PfCapacity } from '@rdmasched/contracts';
import type { RdmaTenant } from '@rdmasched/crds';
import {
  NAMESPACE_RESOURCE,
  POD_RESOURCE,
  RDMA_TENANT_RESOURCE,
  type FakeKubeApiServer,
} from '@rdmasched/testkit';
import { Cluster, Redis } from 'ioredis';
import pino from 'pino';
import { Registry } from 'prom-client';
import { KubePodApi } from '../../src/adapters/kube/kube-pod-api.js';
import { KubePodInformer } from '../../src/adapters/kube/kube-pod-informer.js';
import { KubeTenantSource } from '../../src/adapters/kube/kube-tenant-source.js';
import { KubeTenantStatusWriter } from '../../src/adapters/kube/kube-tenant-status-writer.js';
import { RedisLedger } from '../../src/adapters/redis/redis-ledger.js';
import { RedisLedgerMirror } from '../../src/adapters/redis/redis-ledger-mirror.js';
import { RedisProvisioningChannel } from '../../src/adapters/redis/redis-provisioning.js';
import { RedisTopologyStore } from '../../src/adapters/redis/redis-topology-store.js';
import { composeExtender, type ComposedExtender, type ExtenderTimings } from '../../src/compose.js';
import type { UntenantedRule } from '../../src/core/tenancy.js';
import { TenantCatalog } from '../../src/core/tenant-catalog.js';
import type { Clock } from '../../src/ports/clock.js';
import type { LeaderLock } from '../../src/ports/leader-lock.js';
import type { ProvisioningChannel } from '../../src/ports/provisioning.js';
import type { SubnetManager } from '../../src/ports/subnet-manager.js';
import { makePod } from '../../src/testing/builders.js';
import { AgentWriter, waitFor } from './agent-writer.js';

export const silent = pino({ level: 'silent' });

export type RedisLike = Redis | Cluster;

export function redisUrl(): string {
  const url = process.env['REDIS_URL'];
  if (url === undefined || url === '')
    throw new Error('REDIS_URL is not set (the vitest global setup starts a Redis)');
  return url;
}

/** A Redis connection factory that remembers what it opened, to close it all after a test. */
export class Connections {
  private readonly open: RedisLike[] = [];
  constructor(private readonly make: () => RedisLike) {}
  client(): RedisLike {
    const c = this.make();
    this.open.push(c);
    return c;
  }
  closeAll(): void {
    for (const c of this.open.splice(0)) c.disconnect();
  }
}

export function singleRedis(): Connections {
  const url = redisUrl();
  return new Connections(() => new Redis(url, { maxRetriesPerRequest: null }));
}

export function clusterRedis(nodes: readonly { host: string; port: number }[]): Connections {
  return new Connections(
    () =>
      new Cluster(
        nodes.map((n) => ({ host: n.host, port: n.port })),
        { enableAutoPipelining: true },
      ),
  );
}

export function newKeys(): RedisKeys {
  return new RedisKeys({ prefix: `it-${randomUUID().slice(0, 8)}` });
}

/** The capacity summaries an agent writes with its report: in-use VFs without a pod are foreign. */
export function capacityOf(report: NodeReport): Map<string, PfCapacity> {
  const out = new Map<string, PfCapacity>();
  for (const pf of report.pfs) {
    out.set(pf.pciAddress, {
      linkType: pf.linkType,
      numVfs: pf.sriov?.numVfs ?? 0,
      maxVfs: pf.sriov?.maxVfs ?? 0,
      configured: pf.vfs.filter((v) => v.configured).length,
      foreignInUse: pf.vfs.filter((v) => v.state === 'in-use' && (v.podUid ?? null) === null).length,
      resizing: pf.sriov?.resizing ?? false,
      portActive: pf.portState === 'ACTIVE',
      generation: report.generation,
    });
  }
  return out;
}

/** Publishes a node as its agent would: report, heartbeat, index, event, and the capacity summaries. */
export async function publishNode(redis: RedisLike, keys: RedisKeys, report: NodeReport): Promise<void> {
  const caps = capacityOf(report);
  if (caps.size > 0)
    await redis.hset(
      keys.nodeCapacity(report.nodeName),
      ...[...caps].flatMap(([pf, c]) => [pf, JSON.stringify(c)]),
    );
  await new AgentWriter(redis, keys).publish(report);
}

export interface ReplicaOptions {
  readonly connections: Connections;
  readonly keys: RedisKeys;
  readonly fake: FakeKubeApiServer;
  readonly untenanted?: UntenantedRule;
  readonly provisioning?: ProvisioningChannel;
  readonly subnetManager?: SubnetManager;
  readonly leaderLock?: LeaderLock;
  readonly timings?: Partial<ExtenderTimings>;
  readonly clock?: Clock;
  readonly name?: string;
}

export interface Replica {
  readonly x: ComposedExtender;
  readonly keys: RedisKeys;
  readonly registry: Registry;
  readonly redis: RedisLike;
  readonly ledger: RedisLedger;
  /** Everything loaded and listed (what /readyz waits for). */
  ready(): Promise<void>;
  /** Stops reading the ledger's event stream: the mirror then holds only what this replica applies itself. */
  stopFollowingLedger(): Promise<void>;
  close(): Promise<void>;
}

export async function startReplica(o: ReplicaOptions): Promise<Replica> {
  const redis = o.connections.client();
  const registry = new Registry();
  const logger = silent.child({ replica: o.name ?? 'r' });
  const kc = o.fake.kubeConfig();
  const catalog = new TenantCatalog();
  const tenantSource = new KubeTenantSource({ kubeConfig: kc, catalog, logger, restartDelayMs: 100 });
  let release: ComposedExtender['releasePod'] = () => Promise.resolve();
  const podInformer = new KubePodInformer({
    kubeConfig: kc,
    schedulerName: 'rdma-scheduler',
    logger,
    onPodGone: (p, why) => void release(p, why),
    restartDelayMs: 100,
  });
  const ledger = new RedisLedger({
    client: redis,
    keys: o.keys,
    ...(o.clock === undefined ? {} : { nowMs: () => o.clock?.nowMs() ?? 0 }),
  });
  const x = composeExtender({
    logger,
    registry,
    ...(o.clock === undefined ? {} : { clock: o.clock }),
    policy: 'pack',
    ledger,
    provisioning:
      o.provisioning ??
      new RedisProvisioningChannel({ client: redis, keys: o.keys, logger, pollMinMs: 5, pollMaxMs: 20 }),
    kube: {
      pods: new KubePodApi(kc, 'rdma-scheduler'),
      podCache: podInformer,
      tenants: catalog,
      statusWriter: new KubeTenantStatusWriter(kc),
    },
    untenanted: o.untenanted ?? 'reject',
    ...(o.subnetManager === undefined ? {} : { subnetManager: o.subnetManager }),
    ...(o.leaderLock === undefined ? {} : { leaderLock: o.leaderLock }),
    timings: { tenantStatusMinIntervalMs: 0, ...o.timings },
  });
  release = x.releasePod;
  const store = new RedisTopologyStore({
    client: redis,
    keys: o.keys,
    snapshot: x.snapshot,
    logger,
    blockMs: 200,
    retryDelayMs: 50,
  });
  const follower = new RedisLedgerMirror({
    client: redis,
    keys: o.keys,
    mirror: x.mirror,
    logger,
    blockMs: 200,
    retryDelayMs: 50,
  });
  await Promise.all([store.start(), follower.start(), tenantSource.start(), podInformer.start()]);
  let closed = false;
  return {
    x,
    keys: o.keys,
    registry,
    redis,
    ledger,
    async ready() {
      await waitFor(
        () => x.snapshot.loaded && x.mirror.loaded && catalog.synced && podInformer.synced,
        'replica ready',
      );
    },
    stopFollowingLedger: () => follower.close(),
    async close() {
      if (closed) return;
      closed = true;
      await x.duties?.stop();
      await x.app.close();
      await podInformer.stop();
      await tenantSource.stop();
      await follower.close();
      await store.close();
    },
  };
}

export function tenantObject(name: string, spec: RdmaTenant['spec']): RdmaTenant {
  return { apiVersion: 'rdmasched.io/v1alpha1', kind: 'RdmaTenant', metadata: { name }, spec };
}

/** Creates namespaces and tenants in the fake API. */
export function seedTenants(
  fake: FakeKubeApiServer,
  namespaces: readonly { name: string; labels?: Record<string, string> }[],
  tenants: readonly RdmaTenant[],
): void {
  for (const ns of namespaces)
    fake.store.create(NAMESPACE_RESOURCE, undefined, {
      metadata: { name: ns.name, labels: ns.labels ?? {} },
    });
  for (const t of tenants) fake.store.create(RDMA_TENANT_RESOURCE, undefined, t);
}

/** Creates a pod asking for VFs in the fake API; returns its identity (UID from the server). */
export function createPod(
  fake: FakeKubeApiServer,
  spec: {
    namespace: string;
    name: string;
    ib?: number;
    roce?: number;
    gpus?: number;
    annotations?: Record<string, string>;
  },
): { namespace: string; name: string; uid: string } {
  let b = makePod().name(spec.name).namespace(spec.namespace);
  if ((spec.ib ?? 0) > 0) b = b.vfs('ib', spec.ib ?? 0);
  if ((spec.roce ?? 0) > 0) b = b.vfs('roce', spec.roce ?? 0);
  if ((spec.gpus ?? 0) > 0) b = b.gpus(spec.gpus ?? 0);
  for (const [k, v] of Object.entries(spec.annotations ?? {})) b = b.annotation(k, v);
  const body = b.build() as { metadata: Record<string, unknown>; status?: unknown };
  delete body.metadata['uid'];
  delete body.status;
  const created = fake.store.create(POD_RESOURCE, spec.namespace, body).object;
  return { namespace: spec.namespace, name: spec.name, uid: created.metadata.uid ?? '' };
}

/** POST {prefix}/bind through the app, as kube-scheduler does; returns the Error string. */
export async function bindOver(
  r: Replica,
  pod: { namespace: string; name: string; uid: string },
  node: string,
): Promise<string> {
  const res = await r.x.app.inject({
    method: 'POST',
    url: '/bind',
    headers: { 'content-type': 'application/json' },
    payload: JSON.stringify({ PodName: pod.name, PodNamespace: pod.namespace, PodUID: pod.uid, Node: node }),
  });
  if (res.statusCode !== 200) throw new Error(`bind answered HTTP ${res.statusCode}: ${res.body}`);
  const body = JSON.parse(res.body) as { Error: string };
  return body.Error;
}

/** spec.nodeName of a pod in the fake API (undefined while unbound). */
export function podNode(fake: FakeKubeApiServer, namespace: string, name: string): string | undefined {
  const pod = fake.store.get(POD_RESOURCE, namespace, name) as unknown as { spec?: { nodeName?: string } };
  return pod.spec?.nodeName;
}

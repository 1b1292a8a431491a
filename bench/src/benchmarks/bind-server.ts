/**
 * Child processes of the bind benchmark, one per role:
 *   api      the fake kube-apiserver, seeded with a tenant and the pods the parent binds;
 *   nodes    writes synthetic nodes' reports and ledger capacity summaries, as agents would;
 *   replica  one extender replica built as in production (createRedisReplica: the Redis ledger,
 *            mirror, topology store and provisioning channel; client-node informers and Binding),
 *            listening on loopback. The benchmark runs three.
 * Each sends what the parent needs over IPC. The API server, every replica and kube-scheduler's
 * binder (the parent) are separate processes, as in a cluster: none's work sits in another's
 * event loop.
 */
import { KubeConfig } from '@kubernetes/client-node';
import { EVENTS_MAXLEN, RedisKeys, type NodeReport, type PfCapacity } from '@rdmasched/contracts';
import { createRedisClient, createRedisReplica, makePod, makeReport } from '@rdmasched/scheduler-extender';
import {
  FakeKubeApiServer,
  NAMESPACE_RESOURCE,
  POD_RESOURCE,
  RDMA_TENANT_RESOURCE,
} from '@rdmasched/testkit';

export interface PodRef {
  readonly namespace: string;
  readonly name: string;
  readonly uid: string;
}

export interface ApiReady {
  readonly apiUrl: string;
  /** Pods the replicas bind, and pods the floor binds with a bare Binding POST. */
  readonly pods: readonly PodRef[];
  readonly floorPods: readonly PodRef[];
}

export interface NodesReady {
  readonly nodes: readonly string[];
}

export interface ReplicaReady {
  readonly url: string;
}

const NAMESPACE = 'bench';
const VFS_PER_PF = 64;

function capacities(report: NodeReport): [string, string][] {
  return report.pfs.map((pf) => {
    const c: PfCapacity = {
      linkType: pf.linkType,
      numVfs: pf.sriov?.numVfs ?? 0,
      maxVfs: pf.sriov?.maxVfs ?? 0,
      configured: pf.vfs.filter((v) => v.configured).length,
      foreignInUse: 0,
      resizing: false,
      portActive: pf.portState === 'ACTIVE',
      generation: report.generation,
    };
    return [pf.pciAddress, JSON.stringify(c)];
  });
}

async function serveApi(podCount: number, floorCount: number): Promise<void> {
  const fake = await FakeKubeApiServer.start();
  fake.store.create(NAMESPACE_RESOURCE, undefined, { metadata: { name: NAMESPACE } });
  fake.store.create(RDMA_TENANT_RESOURCE, undefined, {
    apiVersion: 'rdmasched.io/v1alpha1',
    kind: 'RdmaTenant',
    metadata: { name: 'bench' },
    spec: { namespaces: [NAMESPACE], allowedLinkTypes: ['ib'], infiniband: { pkey: '0x0b01' } },
  });
  const createPods = (prefix: string, n: number): PodRef[] =>
    Array.from({ length: n }, (_, i) => {
      const body = makePod().name(`${prefix}-${i}`).namespace(NAMESPACE).vfs('ib', 1).build() as {
        metadata: Record<string, unknown>;
        status?: unknown;
      };
      delete body.metadata['uid'];
      delete body.status;
      const created = fake.store.create(POD_RESOURCE, NAMESPACE, body).object;
      return { namespace: NAMESPACE, name: `${prefix}-${i}`, uid: created.metadata.uid ?? '' };
    });
  const ready: ApiReady = {
    apiUrl: fake.url,
    pods: createPods('pod', podCount),
    floorPods: createPods('floor', floorCount),
  };
  process.send?.(ready);
  process.on('disconnect', () => void fake.stop().then(() => process.exit(0)));
}

/** The nodes role: writes the nodes' reports and capacity summaries, as their agents would; sends their names. */
async function seedNodes(redisUrl: string, prefix: string, nodeCount: number): Promise<void> {
  const keys = new RedisKeys({ prefix });
  const admin = createRedisClient({ url: redisUrl, clusterNodes: [] });
  const nodes = Array.from({ length: nodeCount }, (_, i) => `bind-node-${String(i).padStart(3, '0')}`);
  const now = Date.now();
  for (const n of nodes) {
    const report = makeReport(n)
      .reportedAtMs(now)
      .heartbeatIntervalMs(600_000)
      .pf({ numVfs: VFS_PER_PF, configured: VFS_PER_PF, maxVfs: VFS_PER_PF, totalVfs: VFS_PER_PF })
      .build();
    await admin.hset(keys.nodeCapacity(n), ...capacities(report).flat());
    await admin.set(keys.report(n), JSON.stringify(report));
    await admin.set(keys.heartbeat(n), String(now), 'PX', 3_600_000);
    await admin.zadd(keys.nodeIndex(), report.generation, n);
    const event = { type: 'report', node: n, generation: report.generation, atMs: now };
    await admin.xadd(keys.events(), 'MAXLEN', '~', EVENTS_MAXLEN, '*', 'event', JSON.stringify(event));
  }
  admin.disconnect();
  process.send?.({ nodes });
  process.on('disconnect', () => process.exit(0));
}

/** The replica role: one extender replica against the API at `apiUrl`; sends its URL. */
async function serveReplica(redisUrl: string, prefix: string, apiUrl: string): Promise<void> {
  const kc = new KubeConfig();
  kc.loadFromOptions({
    clusters: [{ name: 'fake', server: apiUrl, skipTLSVerify: true }],
    users: [{ name: 'fake' }],
    contexts: [{ name: 'fake', cluster: 'fake', user: 'fake' }],
    currentContext: 'fake',
  });
  const redis = createRedisClient({ url: redisUrl, clusterNodes: [] });
  const replica = createRedisReplica({
    client: redis,
    keys: new RedisKeys({ prefix }),
    kubeConfig: kc,
    untenanted: 'reject',
  });
  await replica.start();
  const ready: ReplicaReady = { url: await replica.x.app.listen({ host: '127.0.0.1', port: 0 }) };
  process.send?.(ready);
  process.on('disconnect', () => {
    void replica
      .close()
      .catch(() => undefined)
      .then(() => {
        redis.disconnect();
        process.exit(0);
      });
  });
}

const [role = '', a = '', b = '', c = ''] = process.argv.slice(2);
const roles: Record<string, () => Promise<void>> = {
  api: () => serveApi(Number(a), Number(b)),
  nodes: () => seedNodes(a, b, Number(c)),
  replica: () => serveReplica(a, b, c),
};
(roles[role] ?? (() => Promise.reject(new Error(`unknown role ${role}`))))().catch((err: unknown) => {
  console.error(err);
  process.exit(1);
});

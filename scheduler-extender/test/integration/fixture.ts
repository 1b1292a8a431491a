/**
 * The set-ups the ledger integration tests share, on top of `replica.ts`: a fresh fake
 * kube-apiserver per test with its namespaces and tenants (`useFakeApi`), a 3-master Redis Cluster
 * per file (`useRedisCluster`), and a few replicas on one ledger that race for a node's devices
 * (`withReplicas`).
 */
import type { NodeReport, RedisKeys } from '@rdmasched/contracts';
import type { RdmaTenant } from '@rdmasched/crds';
import {
  FakeKubeApiServer,
  startRedisCluster,
  type FakeKubeApiServerOptions,
  type RedisClusterHandle,
} from '@rdmasched/testkit';
import { afterAll, afterEach, beforeAll, beforeEach } from 'vitest';
import { waitFor } from './agent-writer.js';
import {
  newKeys,
  publishNode,
  seedTenants,
  singleRedis,
  startReplica,
  type Connections,
  type RedisLike,
  type Replica,
  type ReplicaOptions,
} from './replica.js';

export type Namespaces = Parameters<typeof seedTenants>[1];

export interface FakeApi {
  /** Connections to the single Redis, closed after the last test of the file (or describe block). */
  readonly conns: Connections;
  /** The running test's fake API server. */
  readonly fake: FakeKubeApiServer;
  /** Starts a replica on these connections and this fake API; it is closed after the test. */
  replica(o: Omit<ReplicaOptions, 'connections' | 'fake'>): Promise<Replica>;
}

/**
 * Registers the hooks of the current file (or describe block): before each test a fresh fake API
 * server holding these namespaces and tenants; after it, the replicas it started are closed and the
 * server stopped; after the last, the Redis connections are closed.
 */
export function useFakeApi(
  namespaces: Namespaces,
  tenants: readonly RdmaTenant[],
  options: FakeKubeApiServerOptions = {},
): FakeApi {
  const conns = singleRedis();
  const replicas: Replica[] = [];
  let fake: FakeKubeApiServer | undefined;
  beforeEach(async () => {
    fake = await FakeKubeApiServer.start(options);
    seedTenants(fake, namespaces, tenants);
  });
  afterEach(async () => {
    for (const r of replicas.splice(0)) await r.close();
    await fake?.stop();
  });
  afterAll(() => conns.closeAll());
  const current = (): FakeKubeApiServer => {
    if (fake === undefined) throw new Error('the fake API server starts before each test');
    return fake;
  };
  return {
    conns,
    get fake() {
      return current();
    },
    async replica(o) {
      const r = await startReplica({ connections: conns, fake: current(), ...o });
      replicas.push(r);
      return r;
    },
  };
}

/** Starts a 3-master Redis Cluster before the file's tests and stops it after them. */
export function useRedisCluster(): { readonly nodes: RedisClusterHandle['nodes'] } {
  let cluster: RedisClusterHandle | undefined;
  beforeAll(async () => {
    cluster = await startRedisCluster();
  });
  afterAll(async () => {
    await cluster?.stop();
  });
  return {
    get nodes() {
      if (cluster === undefined) throw new Error('no cluster');
      return cluster.nodes;
    },
  };
}

export interface Replicas {
  readonly fake: FakeKubeApiServer;
  readonly keys: RedisKeys;
  /** A connection of its own, for the test to read and sample Redis with. */
  readonly admin: RedisLike;
  readonly replicas: readonly Replica[];
}

/**
 * A fresh fake API server holding these namespaces and tenants, the nodes published, and `count`
 * replicas on one ledger, each ready with every node in its snapshot; then `body`. Afterwards the
 * replicas are closed, then the connections, then the API server.
 */
export async function withReplicas<T>(
  conns: Connections,
  setup: {
    readonly namespaces: Namespaces;
    readonly tenants: readonly RdmaTenant[];
    readonly reports: readonly NodeReport[];
    readonly count: number;
  },
  body: (r: Replicas) => Promise<T>,
): Promise<T> {
  const fake = await FakeKubeApiServer.start();
  const keys = newKeys();
  const admin = conns.client();
  const replicas: Replica[] = [];
  try {
    seedTenants(fake, setup.namespaces, setup.tenants);
    for (const report of setup.reports) await publishNode(admin, keys, report);
    for (let i = 0; i < setup.count; i++)
      replicas.push(await startReplica({ connections: conns, keys, fake, name: `r${i}` }));
    for (const r of replicas) {
      await r.ready();
      await waitFor(
        () => setup.reports.every((n) => r.x.snapshot.get(n.nodeName) !== undefined),
        'every node in every snapshot',
      );
    }
    return await body({ fake, keys, admin, replicas });
  } finally {
    for (const r of replicas) await r.close();
    conns.closeAll();
    await fake.stop();
  }
}

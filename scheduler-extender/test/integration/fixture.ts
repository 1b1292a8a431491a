/**
 * The set-ups the ledger integration tests share, on top of `replica.ts`: a fresh fake
 * kube-apiserver per test with its namespaces and tenants (`useFakeApi`).
 */
import type { RdmaTenant } from '@rdmasched/crds';
import { FakeKubeApiServer, type FakeKubeApiServerOptions } from '@rdmasched/testkit';
import { afterAll, afterEach, beforeEach } from 'vitest';
import {
  seedTenants,
  singleRedis,
  startReplica,
  type Connections,
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

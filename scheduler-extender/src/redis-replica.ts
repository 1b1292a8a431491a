/**
 * One extender replica over Redis and the Kubernetes API, as production runs it: the Redis
 * ledger, its mirror, the topology store and the provisioning channel on the client given;
 * client-node informers for tenants, namespaces and pods, the Binding and the tenant status
 * writer on the KubeConfig given (none: no tenancy, bind refused). The daemon (main.ts), the
 * benchmarks and the simulation build replicas with it.
 */
import type { KubeConfig } from '@kubernetes/client-node';
import type { RedisKeys } from '@rdmasched/contracts';
import pino, { type Logger } from 'pino';
import { Registry } from 'prom-client';
import { KubePodApi } from './adapters/kube/kube-pod-api.js';
import { KubePodInformer } from './adapters/kube/kube-pod-informer.js';
import { KubeTenantSource } from './adapters/kube/kube-tenant-source.js';
import { KubeTenantStatusWriter } from './adapters/kube/kube-tenant-status-writer.js';
import type { RedisClient } from './adapters/redis/connect.js';
import { RedisLeaderLock } from './adapters/redis/redis-leader-lock.js';
import { RedisLedger } from './adapters/redis/redis-ledger.js';
import { RedisLedgerMirror } from './adapters/redis/redis-ledger-mirror.js';
import { RedisProvisioningChannel } from './adapters/redis/redis-provisioning.js';
import { RedisTopologyStore } from './adapters/redis/redis-topology-store.js';
import { composeExtender, type ComposedExtender, type ExtenderTimings, type KubeParts } from './compose.js';
import { LedgerMirror } from './core/ledger-mirror.js';
import type { GuidRange } from './core/partition-plan.js';
import type { PackingPolicy } from './core/score.js';
import type { UntenantedRule } from './core/tenancy.js';
import { TenantCatalog } from './core/tenant-catalog.js';
import type { AppOptions } from './http/app.js';
import type { SubnetManager } from './ports/subnet-manager.js';

export interface RedisReplicaOptions {
  readonly client: RedisClient;
  readonly keys: RedisKeys;
  readonly kubeConfig?: KubeConfig;
  readonly schedulerName?: string;
  readonly untenanted?: UntenantedRule;
  readonly policy?: PackingPolicy;
  readonly staleAfterHeartbeats?: number;
  readonly subnetManager?: SubnetManager;
  readonly guidPool?: GuidRange;
  /** Take part in leader election (reconcile, PKeys, status) under this identity. */
  readonly leaderIdentity?: string;
  readonly timings?: Partial<ExtenderTimings>;
  readonly logger?: Logger;
  readonly registry?: Registry;
  readonly app?: AppOptions;
}

export interface RedisReplica {
  readonly x: ComposedExtender;
  readonly registry: Registry;
  /** Loads and follows reports, ledger, tenants and pods; then starts the leader election. */
  start(): Promise<void>;
  /** Closes the app, the duties, the informers and the followers (not the Redis client). Idempotent. */
  close(): Promise<void>;
}

export function createRedisReplica(o: RedisReplicaOptions): RedisReplica {
  const logger = o.logger ?? pino({ level: 'silent' });
  const registry = o.registry ?? new Registry();
  const schedulerName = o.schedulerName ?? 'rdma-scheduler';
  const mirror = new LedgerMirror();
  let release: ComposedExtender['releasePod'] = () => Promise.resolve();
  let kube: KubeParts | undefined;
  let tenantSource: KubeTenantSource | undefined;
  let podInformer: KubePodInformer | undefined;
  if (o.kubeConfig !== undefined) {
    const catalog = new TenantCatalog();
    tenantSource = new KubeTenantSource({ kubeConfig: o.kubeConfig, catalog, logger });
    podInformer = new KubePodInformer({
      kubeConfig: o.kubeConfig,
      schedulerName,
      logger,
      onPodGone: (pod, why) => void release(pod, why),
    });
    kube = {
      pods: new KubePodApi(o.kubeConfig, schedulerName),
      podCache: podInformer,
      tenants: catalog,
      statusWriter: new KubeTenantStatusWriter(o.kubeConfig),
    };
  }
  const x = composeExtender({
    logger,
    registry,
    policy: o.policy ?? 'pack',
    ...(o.staleAfterHeartbeats === undefined ? {} : { staleAfterHeartbeats: o.staleAfterHeartbeats }),
    mirror,
    ledger: new RedisLedger({ client: o.client, keys: o.keys }),
    provisioning: new RedisProvisioningChannel({ client: o.client, keys: o.keys, logger }),
    ...(kube === undefined ? {} : { kube }),
    untenanted: o.untenanted ?? 'reject',
    ...(o.subnetManager === undefined ? {} : { subnetManager: o.subnetManager }),
    ...(o.guidPool === undefined ? {} : { guidPool: o.guidPool }),
    ...(kube === undefined || o.leaderIdentity === undefined
      ? {}
      : { leaderLock: new RedisLeaderLock(o.client, o.keys, o.leaderIdentity) }),
    ...(o.timings === undefined ? {} : { timings: o.timings }),
    ...(o.app === undefined ? {} : { app: o.app }),
  });
  release = x.releasePod;
  const store = new RedisTopologyStore({ client: o.client, keys: o.keys, snapshot: x.snapshot, logger });
  const follower = new RedisLedgerMirror({ client: o.client, keys: o.keys, mirror, logger });
  let loading: Promise<void> | undefined;
  let closing: Promise<void> | undefined;
  return {
    x,
    registry,
    start() {
      loading ??= Promise.all([
        store.start().catch((err: unknown) => logger.error({ err }, 'node report store failed')),
        follower.start().catch((err: unknown) => logger.error({ err }, 'ledger mirror failed')),
        tenantSource?.start(),
        podInformer?.start(),
      ]).then(() => x.duties?.start());
      return loading;
    },
    close() {
      closing ??= (async () => {
        await x.app.close();
        await loading?.catch(() => undefined);
        await x.duties?.stop();
        await podInformer?.stop();
        await tenantSource?.stop();
        await follower.close();
        await store.close();
      })();
      return closing;
    },
  };
}

/**
 * Wires the extender's parts from adapters, the same way for the daemon (main.ts), the
 * integration tests and the benchmarks: snapshot over the ledger mirror, tenancy, bind, preempt,
 * release on pod end, and the leader's duties (reconcile, PKey membership, tenant status). Starts
 * nothing and opens no connection: the caller starts the stores, informers and duties.
 */
import type { Logger } from 'pino';
import type { Registry } from 'prom-client';
import { LedgerMirror } from './core/ledger-mirror.js';
import type { GuidRange } from './core/partition-plan.js';
import type { PackingPolicy } from './core/score.js';
import { Snapshot } from './core/snapshot.js';
import { TenantAdmission, type UntenantedRule } from './core/tenancy.js';
import type { TenantDirectory } from './core/tenant-catalog.js';
import { buildApp, type AppOptions } from './http/app.js';
import { systemClock, type Clock } from './ports/clock.js';
import type { LeaderLock } from './ports/leader-lock.js';
import type { Ledger } from './ports/ledger.js';
import type { PodApi, PodCache, PodSummary } from './ports/pod-api.js';
import type { ProvisioningChannel } from './ports/provisioning.js';
import type { SubnetManager } from './ports/subnet-manager.js';
import type { TenantStatusWriter } from './ports/tenant-status-writer.js';
import { BindService } from './services/bind-service.js';
import { LeaderDuties } from './services/leader-duties.js';
import { LedgerMetrics } from './services/ledger-metrics.js';
import { PartitionReconciler } from './services/partition-reconciler.js';
import { PreemptService } from './services/preempt-service.js';
import { Reconciler } from './services/reconciler.js';
import { TenantStatusService } from './services/tenant-status-service.js';

export interface ExtenderTimings {
  readonly provisionTimeoutMs: number;
  readonly reservationTtlMs: number;
  readonly reconcileIntervalMs: number;
  readonly leaderLeaseMs: number;
  readonly tenantStatusMinIntervalMs: number;
  readonly partitionIntervalMs: number;
}

export const DEFAULT_TIMINGS: ExtenderTimings = Object.freeze({
  provisionTimeoutMs: 6000,
  reservationTtlMs: 60_000,
  reconcileIntervalMs: 30_000,
  leaderLeaseMs: 15_000,
  tenantStatusMinIntervalMs: 5000,
  partitionIntervalMs: 60_000,
});

/** The default identity pool of the node agents (ADR 0020): 02:00:00:00:00:00:00:00 + 2^40. */
export const DEFAULT_GUID_POOL: GuidRange = Object.freeze({ start: 0x0200000000000000n, size: 1n << 40n });

export interface KubeParts {
  readonly pods: PodApi;
  readonly podCache?: PodCache;
  readonly tenants: TenantDirectory;
  readonly statusWriter?: TenantStatusWriter;
}

export interface ComposeOptions {
  readonly logger: Logger;
  readonly registry: Registry;
  readonly clock?: Clock;
  readonly policy: PackingPolicy;
  readonly staleAfterHeartbeats?: number;
  readonly mirror?: LedgerMirror;
  readonly ledger: Ledger;
  readonly provisioning: ProvisioningChannel;
  /** The Kubernetes side; without it: no tenancy, bind answers KUBE_API_OFF, no reconcile. */
  readonly kube?: KubeParts;
  readonly untenanted?: UntenantedRule;
  readonly subnetManager?: SubnetManager;
  readonly guidPool?: GuidRange;
  /** Without it, no replica runs the leader's duties (tests may run them by hand). */
  readonly leaderLock?: LeaderLock;
  readonly timings?: Partial<ExtenderTimings>;
  readonly app?: AppOptions;
}

export interface ComposedExtender {
  readonly app: ReturnType<typeof buildApp>;
  readonly snapshot: Snapshot;
  readonly mirror: LedgerMirror;
  readonly metrics: LedgerMetrics;
  readonly tenancy: TenantAdmission | undefined;
  readonly bind: BindService | undefined;
  readonly preempt: PreemptService;
  readonly reconciler: Reconciler | undefined;
  readonly partitions: PartitionReconciler | undefined;
  readonly status: TenantStatusService | undefined;
  readonly duties: LeaderDuties | undefined;
  /** What the pod informer calls when a pod ended or was deleted: releases its reservation. */
  readonly releasePod: (pod: PodSummary, why: 'deleted' | 'ended') => Promise<void>;
}

export function composeExtender(o: ComposeOptions): ComposedExtender {
  const clock = o.clock ?? systemClock;
  const t = { ...DEFAULT_TIMINGS, ...o.timings };
  const log = o.logger;
  const mirror = o.mirror ?? new LedgerMirror();
  const snapshot = new Snapshot({
    reservations: mirror,
    policy: o.policy,
    ...(o.staleAfterHeartbeats === undefined ? {} : { staleAfterHeartbeats: o.staleAfterHeartbeats }),
  });
  const kube = o.kube;
  const metrics = new LedgerMetrics(o.registry, mirror, kube?.tenants);
  const tenancy =
    kube === undefined
      ? undefined
      : new TenantAdmission({
          directory: kube.tenants,
          usage: (name) => mirror.tenantUsage(name),
          untenanted: o.untenanted ?? 'reject',
        });
  const bind =
    kube === undefined
      ? undefined
      : new BindService({
          snapshot,
          mirror,
          ledger: o.ledger,
          pods: kube.pods,
          ...(kube.podCache === undefined ? {} : { podCache: kube.podCache }),
          provisioning: o.provisioning,
          ...(tenancy === undefined ? {} : { tenancy }),
          metrics,
          logger: log.child({ component: 'bind' }),
          clock,
          provisionTimeoutMs: t.provisionTimeoutMs,
          reservationTtlMs: t.reservationTtlMs,
        });
  const preempt = new PreemptService({
    snapshot,
    mirror,
    ...(tenancy === undefined ? {} : { tenancy }),
    ...(kube?.podCache === undefined ? {} : { podCache: kube.podCache }),
    ...(kube === undefined ? {} : { pods: kube.pods }),
    metrics,
    logger: log.child({ component: 'preempt' }),
  });
  const reconciler =
    kube === undefined
      ? undefined
      : new Reconciler({
          ledger: o.ledger,
          mirror,
          pods: kube.pods,
          snapshot,
          tenants: kube.tenants,
          provisioning: o.provisioning,
          metrics,
          logger: log.child({ component: 'reconcile' }),
          clock,
        });
  const partitions =
    kube === undefined || o.subnetManager === undefined
      ? undefined
      : new PartitionReconciler({
          sm: o.subnetManager,
          snapshot,
          mirror,
          tenants: kube.tenants,
          pool: o.guidPool ?? DEFAULT_GUID_POOL,
          metrics,
          logger: log.child({ component: 'partitions' }),
        });
  const status =
    kube?.statusWriter === undefined
      ? undefined
      : new TenantStatusService({
          writer: kube.statusWriter,
          tenants: kube.tenants,
          mirror,
          metrics,
          logger: log.child({ component: 'tenant-status' }),
          clock,
          minIntervalMs: t.tenantStatusMinIntervalMs,
        });
  const duties =
    o.leaderLock === undefined
      ? undefined
      : new LeaderDuties({
          lock: o.leaderLock,
          leaseMs: t.leaderLeaseMs,
          reconcileIntervalMs: t.reconcileIntervalMs,
          partitionIntervalMs: t.partitionIntervalMs,
          ...(reconciler === undefined ? {} : { reconciler }),
          ...(partitions === undefined ? {} : { partitions }),
          ...(status === undefined ? {} : { status }),
          metrics,
          logger: log.child({ component: 'leader' }),
        });
  const app = buildApp({
    snapshot,
    registry: o.registry,
    logger: log,
    clock,
    ...(tenancy === undefined ? {} : { tenancy }),
    ...(bind === undefined ? {} : { bind }),
    preempt,
    ledgerMetrics: metrics,
    notReady: () => {
      if (!mirror.loaded) return 'the reservation ledger is still loading';
      if (kube !== undefined && !kube.tenants.synced)
        return 'RdmaTenants and namespaces are still being listed';
      if (kube?.podCache !== undefined && !kube.podCache.synced) return 'pods are still being listed';
      return undefined;
    },
    ...(o.app === undefined ? {} : { options: o.app }),
  });
  app.addHook('onClose', async () => {
    await bind?.settled();
    snapshot.close();
  });
  const releasePod = async (pod: PodSummary, why: 'deleted' | 'ended'): Promise<void> => {
    if (mirror.reservation(pod.uid) === undefined) return;
    try {
      const released = await o.ledger.release(pod.uid);
      if (released === undefined) return;
      metrics.releases.inc({ cause: why === 'deleted' ? 'pod_deleted' : 'pod_ended' });
      log.info(
        { pod: `${pod.namespace}/${pod.name}`, podUid: pod.uid, node: released.node, why },
        'reservation released',
      );
    } catch (err: unknown) {
      log.warn(
        { podUid: pod.uid, err: err instanceof Error ? err.message : String(err) },
        'release failed; reconcile will retry',
      );
    }
  };
  return {
    app,
    snapshot,
    mirror,
    metrics,
    tenancy,
    bind,
    preempt,
    reconciler,
    partitions,
    status,
    duties,
    releasePod,
  };
}

/**
 * The composition root: configuration -> Redis client and Kubernetes client -> adapters ->
 * composeExtender (snapshot over the ledger mirror, tenancy, bind, preempt, leader duties) ->
 * HTTP server. Listens first (so /healthz answers and /readyz says 503 while the reports, the
 * ledger, the tenants and the pods load), then loads and follows them. SIGTERM/SIGINT close the server gracefully (in-flight requests finish,
 * within the shutdown timeout), then the store and Redis connections.
 *
 * Tracing: spans go through @opentelemetry/api; they are recorded once an OpenTelemetry SDK is
 * registered in the process (e.g. `node --import @opentelemetry/auto-instrumentations-node/register`),
 * and cost next to nothing otherwise.
 */
import { hostname } from 'node:os';
import { RedisKeys } from '@rdmasched/contracts';
import pino, { type Logger } from 'pino';
import { collectDefaultMetrics, Registry } from 'prom-client';
import { loadKubeConfig, resolveKubeApiMode } from './adapters/kube/kube-config.js';
import { KubePodApi } from './adapters/kube/kube-pod-api.js';
import { KubePodInformer } from './adapters/kube/kube-pod-informer.js';
import { KubeTenantSource } from './adapters/kube/kube-tenant-source.js';
import { KubeTenantStatusWriter } from './adapters/kube/kube-tenant-status-writer.js';
import { NoopSubnetManager } from './adapters/memory/in-memory-subnet-manager.js';
import { createRedisClient, describeRedis, type RedisConnection } from './adapters/redis/connect.js';
import { RedisLeaderLock } from './adapters/redis/redis-leader-lock.js';
import { RedisLedger } from './adapters/redis/redis-ledger.js';
import { RedisLedgerMirror } from './adapters/redis/redis-ledger-mirror.js';
import { RedisProvisioningChannel } from './adapters/redis/redis-provisioning.js';
import { RedisTopologyStore } from './adapters/redis/redis-topology-store.js';
import { UfmSubnetManager } from './adapters/ufm/ufm-subnet-manager.js';
import { composeExtender, type KubeParts } from './compose.js';
import { ConfigError, parseConfig, readConfigFiles, usage, type Config, type ConfigFiles } from './config.js';
import { LedgerMirror } from './core/ledger-mirror.js';
import { TenantCatalog } from './core/tenant-catalog.js';
import type { PodSummary } from './ports/pod-api.js';

export interface Running {
  /** The address the server listens on, e.g. `http://0.0.0.0:8080`. */
  readonly address: string;
  /** Resolves with the exit code once the process has shut down (signal or `stop()`). */
  readonly done: Promise<number>;
  /** Shuts down as SIGTERM would. */
  stop(): Promise<number>;
}

export function redisConnection(config: Config, files: ConfigFiles): RedisConnection {
  return {
    url: config.redis.url,
    clusterNodes: config.redis.clusterNodes,
    username: config.redis.username,
    password: files.redisPassword,
    tls:
      files.redisTls === undefined
        ? undefined
        : { ...files.redisTls, serverName: config.redis.tlsServerName },
  };
}

/** Starts the extender. `signals: false` leaves process signals alone; `logger` replaces stdout logging (tests). */
export async function start(
  config: Config,
  files: ConfigFiles,
  opts: { signals?: boolean; logger?: Logger; env?: Readonly<Record<string, string | undefined>> } = {},
): Promise<Running> {
  const logger = opts.logger ?? pino({ level: config.logLevel, base: { component: 'rdmasched-extender' } });
  const registry = new Registry();
  collectDefaultMetrics({ register: registry, prefix: 'rdmasched_extender_' });
  const keys = new RedisKeys({ prefix: config.redis.keyPrefix });
  const connection = redisConnection(config, files);
  const redis = createRedisClient(connection, { connectionName: 'rdmasched-extender' });
  // ioredis retries forever; log the first error of a kind, then at most every 30 s.
  let lastError = { message: '', atMs: 0 };
  redis.on('error', (err: Error) => {
    const now = Date.now();
    if (err.message === lastError.message && now - lastError.atMs < 30_000) return;
    lastError = { message: err.message, atMs: now };
    logger.warn({ err: err.message, redis: describeRedis(connection) }, 'redis connection error (retrying)');
  });
  const t = config.tenancy;
  const mode = resolveKubeApiMode(t.kubeApi, t.kubeconfig, opts.env ?? process.env);
  let kc: ReturnType<typeof loadKubeConfig>;
  try {
    kc = loadKubeConfig(mode, t.kubeconfig);
  } catch (err: unknown) {
    redis.disconnect();
    throw new ConfigError([
      `Kubernetes API (${mode}) cannot be configured: ${err instanceof Error ? err.message : String(err)}`,
    ]);
  }
  const mirror = new LedgerMirror();
  const ledger = new RedisLedger({ client: redis, keys });
  const provisioning = new RedisProvisioningChannel({ client: redis, keys, logger });
  let release: (pod: PodSummary, why: 'deleted' | 'ended') => void = () => undefined;
  let kube: KubeParts | undefined;
  let tenantSource: KubeTenantSource | undefined;
  let podInformer: KubePodInformer | undefined;
  if (kc !== undefined) {
    const catalog = new TenantCatalog();
    tenantSource = new KubeTenantSource({ kubeConfig: kc, catalog, logger });
    podInformer = new KubePodInformer({
      kubeConfig: kc,
      schedulerName: t.schedulerName,
      logger,
      onPodGone: (pod, why) => release(pod, why),
    });
    kube = {
      pods: new KubePodApi(kc, t.schedulerName),
      podCache: podInformer,
      tenants: catalog,
      statusWriter: new KubeTenantStatusWriter(kc),
    };
  }
  const subnetManager =
    t.subnetManager === 'ufm' && t.ufm.url !== undefined && t.ufm.username !== undefined
      ? new UfmSubnetManager({
          url: t.ufm.url,
          username: t.ufm.username,
          password: files.ufmPassword ?? '',
          ...(files.ufmCa === undefined ? {} : { ca: files.ufmCa }),
        })
      : new NoopSubnetManager();
  const x = composeExtender({
    logger,
    registry,
    policy: config.packing,
    staleAfterHeartbeats: config.staleAfterHeartbeats,
    mirror,
    ledger,
    provisioning,
    ...(kube === undefined ? {} : { kube }),
    untenanted: t.untenantedPods,
    subnetManager,
    guidPool: t.guidPool,
    ...(kube === undefined ? {} : { leaderLock: new RedisLeaderLock(redis, keys, hostname()) }),
    timings: {
      provisionTimeoutMs: t.bindProvisionTimeoutMs,
      reservationTtlMs: t.reservationTtlMs,
      reconcileIntervalMs: t.reconcileIntervalMs,
      leaderLeaseMs: t.leaderLeaseMs,
      tenantStatusMinIntervalMs: t.tenantStatusMinIntervalMs,
      partitionIntervalMs: t.partitionIntervalMs,
    },
    app: {
      urlPrefix: config.urlPrefix,
      bodyLimitBytes: config.bodyLimitBytes,
      ...(files.https === undefined ? {} : { https: files.https }),
    },
  });
  release = (pod, why) => void x.releasePod(pod, why);
  const store = new RedisTopologyStore({ client: redis, keys, snapshot: x.snapshot, logger });
  const follower = new RedisLedgerMirror({ client: redis, keys, mirror, logger });
  const address = await x.app.listen({ host: config.listenHost, port: config.listenPort });
  logger.info(
    {
      address,
      redis: describeRedis(connection),
      packing: config.packing,
      urlPrefix: config.urlPrefix || '/',
      kubeApi: mode,
      untenantedPods: t.untenantedPods,
      subnetManager: subnetManager instanceof UfmSubnetManager ? subnetManager.endpoint : 'noop',
    },
    'rdmasched extender listening',
  );
  if (kube === undefined)
    logger.warn(
      'no Kubernetes API (RDMASCHED_KUBE_API=off or not in a cluster): no tenancy, bind refused, no reconcile',
    );
  const loading = Promise.all([
    store.start().catch((err: unknown) => logger.error({ err }, 'node report store failed')),
    follower.start().catch((err: unknown) => logger.error({ err }, 'ledger mirror failed')),
    tenantSource?.start(),
    podInformer?.start(),
  ]).then(() => x.duties?.start());

  let resolveDone: (code: number) => void = () => undefined;
  const done = new Promise<number>((resolve) => (resolveDone = resolve));
  let stopping: Promise<number> | undefined;
  const stop = (): Promise<number> => {
    stopping ??= (async () => {
      logger.info('shutting down');
      let code = 0;
      const timer = setTimeout(() => {
        logger.error({ timeoutMs: config.shutdownTimeoutMs }, 'shutdown timed out; exiting anyway');
        resolveDone(1);
      }, config.shutdownTimeoutMs);
      timer.unref();
      try {
        await x.app.close();
        await loading;
        await x.duties?.stop();
        await podInformer?.stop();
        await tenantSource?.stop();
        await follower.close();
        await store.close();
        redis.disconnect();
      } catch (err: unknown) {
        logger.error({ err }, 'error while shutting down');
        code = 1;
      }
      clearTimeout(timer);
      logger.info('stopped');
      resolveDone(code);
      return done;
    })();
    return stopping;
  };
  if (opts.signals !== false) {
    for (const signal of ['SIGTERM', 'SIGINT'] as const) {
      process.once(signal, () => {
        logger.info({ signal }, 'signal received');
        void stop();
        // A second signal exits at once.
        process.once(signal, () => resolveDone(1));
      });
    }
  }
  return { address, done, stop };
}

/** The CLI: parses the configuration, starts, and resolves with the exit code. */
export async function main(
  argv: readonly string[],
  env: Readonly<Record<string, string | undefined>>,
): Promise<number> {
  let config: Config;
  let files: ConfigFiles;
  try {
    config = parseConfig(argv, env);
    if (config.help) {
      process.stdout.write(`${usage()}\n`);
      return 0;
    }
    files = await readConfigFiles(config);
  } catch (err: unknown) {
    if (err instanceof ConfigError) {
      process.stderr.write(`rdmasched-extender: ${err.message}\n\n${usage()}\n`);
      return 2;
    }
    throw err;
  }
  try {
    const running = await start(config, files);
    return await running.done;
  } catch (err: unknown) {
    if (err instanceof ConfigError) {
      process.stderr.write(`rdmasched-extender: ${err.message}\n`);
      return 2;
    }
    throw err;
  }
}

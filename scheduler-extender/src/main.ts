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
import { NoopSubnetManager } from './adapters/memory/in-memory-subnet-manager.js';
import { createRedisClient, describeRedis, type RedisConnection } from './adapters/redis/connect.js';
import { UfmSubnetManager } from './adapters/ufm/ufm-subnet-manager.js';
import { ConfigError, parseConfig, readConfigFiles, usage, type Config, type ConfigFiles } from './config.js';
import { createRedisReplica } from './redis-replica.js';

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
  const subnetManager =
    t.subnetManager === 'ufm' && t.ufm.url !== undefined && t.ufm.username !== undefined
      ? new UfmSubnetManager({
          url: t.ufm.url,
          username: t.ufm.username,
          password: files.ufmPassword ?? '',
          ...(files.ufmCa === undefined ? {} : { ca: files.ufmCa }),
        })
      : new NoopSubnetManager();
  const replica = createRedisReplica({
    client: redis,
    keys,
    ...(kc === undefined ? {} : { kubeConfig: kc }),
    schedulerName: t.schedulerName,
    untenanted: t.untenantedPods,
    policy: config.packing,
    staleAfterHeartbeats: config.staleAfterHeartbeats,
    subnetManager,
    guidPool: t.guidPool,
    leaderIdentity: hostname(),
    timings: {
      provisionTimeoutMs: t.bindProvisionTimeoutMs,
      reservationTtlMs: t.reservationTtlMs,
      reconcileIntervalMs: t.reconcileIntervalMs,
      leaderLeaseMs: t.leaderLeaseMs,
      tenantStatusMinIntervalMs: t.tenantStatusMinIntervalMs,
      partitionIntervalMs: t.partitionIntervalMs,
    },
    logger,
    registry,
    app: {
      urlPrefix: config.urlPrefix,
      bodyLimitBytes: config.bodyLimitBytes,
      ...(files.https === undefined ? {} : { https: files.https }),
    },
  });
  const address = await replica.x.app.listen({ host: config.listenHost, port: config.listenPort });
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
  if (kc === undefined)
    logger.warn(
      'no Kubernetes API (RDMASCHED_KUBE_API=off or not in a cluster): no tenancy, bind refused, no reconcile',
    );
  const loading = replica.start();

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
        await replica.close();
        await loading;
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

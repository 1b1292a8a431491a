/**
 * The composition root: configuration -> Redis client -> snapshot and store -> HTTP server.
 * Listens first (so /healthz answers and /readyz says 503 while the reports load), then loads
 * and follows the reports. SIGTERM/SIGINT close the server gracefully (in-flight requests finish,
 * within the shutdown timeout), then the store and Redis connections.
 *
 * Tracing: spans go through @opentelemetry/api; they are recorded once an OpenTelemetry SDK is
 * registered in the process (e.g. `node --import @opentelemetry/auto-instrumentations-node/register`),
 * and cost next to nothing otherwise.
 */
import { RedisKeys } from '@rdmasched/contracts';
import pino, { type Logger } from 'pino';
import { collectDefaultMetrics, Registry } from 'prom-client';
import { createRedisClient, describeRedis, type RedisConnection } from './adapters/redis/connect.js';
import { RedisTopologyStore } from './adapters/redis/redis-topology-store.js';
import { InMemoryReservationView } from './adapters/memory/in-memory-reservation-view.js';
import { ConfigError, parseConfig, readConfigFiles, usage, type Config, type ConfigFiles } from './config.js';
import { Snapshot } from './core/snapshot.js';
import { buildApp } from './http/app.js';

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
  opts: { signals?: boolean; logger?: Logger } = {},
): Promise<Running> {
  const logger = opts.logger ?? pino({ level: config.logLevel, base: { component: 'rdmasched-extender' } });
  const registry = new Registry();
  collectDefaultMetrics({ register: registry, prefix: 'rdmasched_extender_' });
  // The reservation ledger mirror (issue 4) replaces this empty view; until then held VFs come
  // from the node reports (core/capacity.ts).
  const reservations = new InMemoryReservationView();
  const snapshot = new Snapshot({
    reservations,
    policy: config.packing,
    staleAfterHeartbeats: config.staleAfterHeartbeats,
  });
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
  const store = new RedisTopologyStore({
    client: redis,
    keys: new RedisKeys({ prefix: config.redis.keyPrefix }),
    snapshot,
    logger,
  });
  const app = buildApp({
    snapshot,
    registry,
    logger,
    options: {
      urlPrefix: config.urlPrefix,
      bodyLimitBytes: config.bodyLimitBytes,
      ...(files.https === undefined ? {} : { https: files.https }),
    },
  });
  const address = await app.listen({ host: config.listenHost, port: config.listenPort });
  logger.info(
    {
      address,
      redis: describeRedis(connection),
      packing: config.packing,
      urlPrefix: config.urlPrefix || '/',
    },
    'rdmasched extender listening',
  );
  const loading = store.start().catch((err: unknown) => logger.error({ err }, 'node report store failed'));

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
        await app.close();
        await store.close();
        await loading;
        redis.disconnect();
        snapshot.close();
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
  const running = await start(config, files);
  return running.done;
}

/**
 * Redis connections for the agent: a single Redis (URL, `rediss://` for TLS), Sentinel-fronted or
 * not, or a Redis Cluster (seed nodes). Commands fail fast while disconnected (no offline queue):
 * the agent then knows to republish when the connection is back (`onReconnect`).
 *
 * Secrets: the password is passed to ioredis and never logged; `describeRedis` is the safe summary.
 */
import { readFileSync } from 'node:fs';
import { Cluster, Redis, type ClusterNode, type RedisOptions } from 'ioredis';

export type RedisClient = Redis | Cluster;

export interface RedisTlsOptions {
  /** PEM files. */
  readonly caFile?: string;
  readonly certFile?: string;
  readonly keyFile?: string;
  /** Default true; false only for tests with self-signed servers. */
  readonly rejectUnauthorized?: boolean;
}

export interface RedisConnectionOptions {
  /** `redis://host:port/db` or `rediss://...` (TLS). Ignored when `clusterNodes` is set. */
  readonly url?: string;
  /** Seed nodes of a Redis Cluster. */
  readonly clusterNodes?: readonly { readonly host: string; readonly port: number }[];
  readonly username?: string;
  readonly password?: string;
  /** TLS (also enabled by a `rediss://` URL). */
  readonly tls?: RedisTlsOptions;
  /** Client name shown by CLIENT LIST. */
  readonly connectionName?: string;
}

export interface RedisConnection {
  readonly client: RedisClient;
  /** A second connection for blocking reads (XREADGROUP BLOCK). */
  duplicate(): RedisClient;
  /** Called after every (re)connect, once the connection is ready. */
  onReconnect(listener: () => void): () => void;
  close(): Promise<void>;
}

function tlsOptions(t: RedisTlsOptions | undefined, useTls: boolean): RedisOptions['tls'] {
  if (t === undefined && !useTls) return undefined;
  return {
    ...(t?.caFile === undefined ? {} : { ca: readFileSync(t.caFile) }),
    ...(t?.certFile === undefined ? {} : { cert: readFileSync(t.certFile) }),
    ...(t?.keyFile === undefined ? {} : { key: readFileSync(t.keyFile) }),
    rejectUnauthorized: t?.rejectUnauthorized ?? true,
  };
}

export function connectRedis(opts: RedisConnectionOptions): RedisConnection {
  const useTls = opts.url?.startsWith('rediss://') === true;
  const tls = tlsOptions(opts.tls, useTls);
  const base: RedisOptions = {
    enableOfflineQueue: false,
    maxRetriesPerRequest: 1,
    retryStrategy: (times) => Math.min(100 * 2 ** Math.min(times, 5), 2_000),
    connectionName: opts.connectionName ?? 'rdmasched-agent',
    // A closing socket is destroyed after this long (default 2 s), so SIGTERM exits promptly.
    disconnectTimeout: 200,
    ...(opts.username === undefined ? {} : { username: opts.username }),
    ...(opts.password === undefined ? {} : { password: opts.password }),
    ...(tls === undefined ? {} : { tls }),
  };
  let client: RedisClient;
  if (opts.clusterNodes !== undefined && opts.clusterNodes.length > 0) {
    client = new Cluster(
      opts.clusterNodes.map((n): ClusterNode => ({ host: n.host, port: n.port })),
      {
        enableOfflineQueue: false,
        redisOptions: base,
        clusterRetryStrategy: (times) => Math.min(100 * 2 ** Math.min(times, 5), 2_000),
      },
    );
  } else {
    client = new Redis(opts.url ?? 'redis://127.0.0.1:6379', base);
  }
  // Errors are reported through failing commands; an unhandled 'error' event would crash the process.
  client.on('error', () => undefined);
  const listeners = new Set<() => void>();
  client.on('ready', () => {
    for (const l of listeners) l();
  });
  const extra: RedisClient[] = [];
  return {
    client,
    duplicate() {
      const d = client.duplicate();
      d.on('error', () => undefined);
      extra.push(d);
      return d;
    },
    onReconnect(listener) {
      listeners.add(listener);
      return () => listeners.delete(listener);
    },
    async close() {
      for (const c of [...extra, client]) {
        try {
          await c.quit();
        } catch {
          c.disconnect();
        }
      }
    },
  };
}

/** A summary that is safe to log: no password, no TLS material. */
export function describeRedis(opts: RedisConnectionOptions): string {
  const where =
    opts.clusterNodes !== undefined && opts.clusterNodes.length > 0
      ? `cluster ${opts.clusterNodes.map((n) => `${n.host}:${n.port}`).join(',')}`
      : redactUrl(opts.url ?? 'redis://127.0.0.1:6379');
  return `${where}${opts.password !== undefined ? ' (password set)' : ''}${opts.tls !== undefined || opts.url?.startsWith('rediss://') === true ? ' (TLS)' : ''}`;
}

/** Removes credentials from a Redis URL. */
export function redactUrl(url: string): string {
  try {
    const u = new URL(url);
    if (u.password !== '') u.password = '***';
    return u.toString();
  } catch {
    return '<unparseable URL>';
  }
}

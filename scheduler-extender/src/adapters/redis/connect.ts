/**
 * Builds the ioredis client from the settings: a single Redis (`redis://`, `rediss://`) or a
 * Redis Cluster (seed nodes), with ACL user, password and TLS (CA, client certificate, server
 * name). Commands wait while disconnected (ioredis reconnects), so a Redis restart delays the
 * snapshot's updates but loses nothing.
 */
import { Cluster, Redis, type ClusterOptions, type RedisOptions } from 'ioredis';
import type { ConnectionOptions } from 'node:tls';

export interface RedisConnection {
  readonly url: string;
  readonly clusterNodes: readonly { readonly host: string; readonly port: number }[];
  readonly username?: string | undefined;
  readonly password?: string | undefined;
  /** TLS options; undefined for plain TCP. */
  readonly tls?:
    | {
        readonly ca?: Buffer;
        readonly cert?: Buffer;
        readonly key?: Buffer;
        readonly serverName?: string | undefined;
      }
    | undefined;
}

export type RedisClient = Redis | Cluster;

function tlsOptions(c: RedisConnection): ConnectionOptions | undefined {
  if (c.tls === undefined) return undefined;
  return {
    ...(c.tls.ca === undefined ? {} : { ca: c.tls.ca }),
    ...(c.tls.cert === undefined ? {} : { cert: c.tls.cert }),
    ...(c.tls.key === undefined ? {} : { key: c.tls.key }),
    ...(c.tls.serverName === undefined ? {} : { servername: c.tls.serverName }),
  };
}

export function createRedisClient(c: RedisConnection, opts: { connectionName?: string } = {}): RedisClient {
  const tls = tlsOptions(c);
  const common: RedisOptions = {
    ...(c.username === undefined ? {} : { username: c.username }),
    ...(c.password === undefined ? {} : { password: c.password }),
    ...(tls === undefined ? {} : { tls }),
    ...(opts.connectionName === undefined ? {} : { connectionName: opts.connectionName }),
    maxRetriesPerRequest: null,
    lazyConnect: true,
  };
  if (c.clusterNodes.length > 0) {
    const clusterOptions: ClusterOptions = {
      redisOptions: common,
      enableAutoPipelining: true,
      lazyConnect: true,
      clusterRetryStrategy: (times) => Math.min(100 * times, 2000),
    };
    return new Cluster(
      c.clusterNodes.map((n) => ({ host: n.host, port: n.port })),
      clusterOptions,
    );
  }
  return new Redis(c.url, { ...common, enableAutoPipelining: true });
}

/** How to name the connection in logs: never the password. */
export function describeRedis(c: RedisConnection): string {
  let where: string;
  let passwordInUrl = false;
  if (c.clusterNodes.length > 0) {
    where = `cluster ${c.clusterNodes.map((n) => `${n.host}:${n.port}`).join(',')}`;
  } else {
    try {
      const u = new URL(c.url);
      passwordInUrl = u.password !== '';
      where = `${u.protocol}//${u.host}${u.pathname === '/' ? '' : u.pathname}`;
    } catch {
      where = '(invalid URL)';
    }
  }
  const auth = [
    c.username === undefined ? '' : `user ${c.username}`,
    c.password !== undefined || passwordInUrl ? 'password set' : '',
  ]
    .filter((s) => s !== '')
    .join(', ');
  return `${where}${c.tls === undefined ? '' : ' (TLS)'}${auth === '' ? '' : ` (${auth})`}`;
}

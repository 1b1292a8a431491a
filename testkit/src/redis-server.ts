import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { connect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { freePort } from './free-port.js';
import { ensureExecutable } from './system-packages.js';

const execFileAsync = promisify(execFile);

/** A redis-server process started for tests, on loopback. */
export interface RedisServerHandle {
  readonly url: string;
  readonly port: number;
  /** Stops the process (SIGTERM, then SIGKILL) and removes its data directory. Idempotent. */
  stop(): Promise<void>;
}

export interface StartRedisOptions {
  readonly port?: number;
  readonly clusterEnabled?: boolean;
  readonly log?: (line: string) => void;
}

/** Sends PING over a raw socket; true when a Redis answers at host:port within the timeout. */
export function redisAnswers(url: string, timeoutMs = 500): Promise<boolean> {
  let host: string;
  let port: number;
  try {
    const parsed = new URL(url);
    host = parsed.hostname || '127.0.0.1';
    port = parsed.port === '' ? 6379 : Number(parsed.port);
  } catch {
    return Promise.resolve(false);
  }
  return new Promise((resolve) => {
    const socket = connect({ host, port });
    const done = (ok: boolean) => {
      socket.destroy();
      resolve(ok);
    };
    socket.setTimeout(timeoutMs, () => done(false));
    socket.on('error', () => done(false));
    socket.on('connect', () => socket.write('PING\r\n'));
    // +PONG, or -NOAUTH when a password is set: either way a Redis is there.
    socket.on('data', (buf) =>
      done(buf.toString().startsWith('+PONG') || buf.toString().startsWith('-NOAUTH')),
    );
  });
}

async function waitUntil(check: () => Promise<boolean>, timeoutMs: number, what: string): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (await check()) return;
    await new Promise((r) => setTimeout(r, 25));
  }
  throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
}

function stopProcess(child: ChildProcess): Promise<void> {
  return new Promise((resolve) => {
    if (child.exitCode !== null || child.signalCode !== null) {
      resolve();
      return;
    }
    const kill = setTimeout(() => child.kill('SIGKILL'), 3000);
    child.once('exit', () => {
      clearTimeout(kill);
      resolve();
    });
    child.kill('SIGTERM');
  });
}

/** Starts a throw-away redis-server (no persistence) on a free loopback port. */
export async function startRedisServer(opts: StartRedisOptions = {}): Promise<RedisServerHandle> {
  const binary = await ensureExecutable({
    executable: 'redis-server',
    debianPackage: 'redis-server',
    ...(opts.log ? { log: opts.log } : {}),
  });
  const port = opts.port ?? (await freePort());
  const dir = await mkdtemp(join(tmpdir(), 'rdmasched-redis-'));
  const args = [
    '--port',
    String(port),
    '--bind',
    '127.0.0.1',
    '--save',
    '',
    '--appendonly',
    'no',
    '--dir',
    dir,
    '--daemonize',
    'no',
    '--loglevel',
    'warning',
  ];
  if (opts.clusterEnabled === true) {
    args.push(
      '--cluster-enabled',
      'yes',
      '--cluster-config-file',
      join(dir, 'nodes.conf'),
      '--cluster-node-timeout',
      '2000',
    );
  }
  const child = spawn(binary, args, { stdio: ['ignore', 'ignore', 'pipe'] });
  let stderr = '';
  child.stderr?.on('data', (b: Buffer) => (stderr += b.toString()));
  const url = `redis://127.0.0.1:${port}`;
  try {
    await waitUntil(
      async () => {
        if (child.exitCode !== null)
          throw new Error(`redis-server exited with ${child.exitCode}: ${stderr.trim()}`);
        return redisAnswers(url, 200);
      },
      10_000,
      `redis-server on port ${port}`,
    );
  } catch (err) {
    await stopProcess(child);
    await rm(dir, { recursive: true, force: true });
    throw err;
  }
  let stopped: Promise<void> | undefined;
  return {
    url,
    port,
    stop() {
      stopped ??= stopProcess(child).then(() => rm(dir, { recursive: true, force: true }));
      return stopped;
    },
  };
}

export interface RedisClusterHandle {
  /** Seed URLs of every node, for ioredis `new Cluster(...)`. */
  readonly nodes: readonly { host: string; port: number }[];
  readonly servers: readonly RedisServerHandle[];
  stop(): Promise<void>;
}

/**
 * Starts `masters` (default 3) cluster-enabled redis-servers and joins them with
 * `redis-cli --cluster create` (no replicas), as DESIGN.md describes.
 */
export async function startRedisCluster(
  opts: { masters?: number; log?: (line: string) => void } = {},
): Promise<RedisClusterHandle> {
  const masters = opts.masters ?? 3;
  const cli = await ensureExecutable({
    executable: 'redis-cli',
    debianPackage: 'redis-tools',
    ...(opts.log ? { log: opts.log } : {}),
  });
  const servers: RedisServerHandle[] = [];
  try {
    for (let i = 0; i < masters; i++) servers.push(await startRedisServer({ clusterEnabled: true }));
    await execFileAsync(cli, [
      '--cluster',
      'create',
      ...servers.map((s) => `127.0.0.1:${s.port}`),
      '--cluster-replicas',
      '0',
      '--cluster-yes',
    ]);
    // Wait until every node agrees the cluster is up.
    for (const s of servers) {
      await waitUntil(
        async () => {
          const { stdout } = await execFileAsync(cli, ['-p', String(s.port), 'cluster', 'info']);
          return stdout.includes('cluster_state:ok');
        },
        15_000,
        `redis cluster node ${s.port} to report cluster_state:ok`,
      );
    }
  } catch (err) {
    await Promise.all(servers.map((s) => s.stop()));
    throw err;
  }
  return {
    nodes: servers.map((s) => ({ host: '127.0.0.1', port: s.port })),
    servers,
    stop: async () => {
      await Promise.all(servers.map((s) => s.stop()));
    },
  };
}

/**
 * Redis with TLS and a password: the daemon connects with REDIS_URL=rediss://..., a CA file and a
 * password file, publishes its report, and its logs never contain the password.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { Redis } from 'ioredis';
import { pino } from 'pino';
import { afterAll, describe, expect, it } from 'vitest';
import { RedisKeys } from '@rdmasched/contracts';
import { ensureExecutable, freePort, makeTlsFiles } from '@rdmasched/testkit';
import { presetSpec } from '../../src/adapters/sim/presets.js';
import { SimulatedHost } from '../../src/adapters/sim/simulated-host.js';
import { parseConfig } from '../../src/config.js';
import { startAgent } from '../../src/main.js';
import { eventually } from '../support/eventually.js';
import { tempHostDir } from '../support/harness.js';

const PASSWORD = 'tls-test-s3cret';
const cleanups: (() => Promise<void> | void)[] = [];
afterAll(async () => {
  for (const c of cleanups.reverse()) await c();
});

describe('Redis over TLS with a password', () => {
  it('the daemon publishes through rediss:// and never logs the password', async () => {
    const tls = await makeTlsFiles({
      commonName: '127.0.0.1',
      subjectAltName: 'IP:127.0.0.1',
      prefix: 'rdmasched-redis-tls-',
    });
    cleanups.push(tls.cleanup);
    const { dir, certFile: cert, keyFile: key } = tls;
    writeFileSync(join(dir, 'password'), `${PASSWORD}\n`);
    const port = await freePort();
    const server: ChildProcess = spawn(
      await ensureExecutable({ executable: 'redis-server', debianPackage: 'redis-server' }),
      [
        '--port',
        '0',
        '--tls-port',
        String(port),
        '--tls-cert-file',
        cert,
        '--tls-key-file',
        key,
        '--tls-ca-cert-file',
        cert,
        '--tls-auth-clients',
        'no',
        '--requirepass',
        PASSWORD,
        '--save',
        '',
        '--appendonly',
        'no',
        '--bind',
        '127.0.0.1',
        '--dir',
        dir,
      ],
      { stdio: 'ignore' },
    );
    cleanups.push(() => void server.kill('SIGTERM'));
    const client = new Redis(`rediss://127.0.0.1:${port}`, {
      password: PASSWORD,
      tls: { ca: readFileSync(cert) },
      maxRetriesPerRequest: 1,
    });
    client.on('error', () => undefined);
    cleanups.push(() => client.disconnect());
    await eventually(async () => expect(await client.ping()).toBe('PONG'));

    const host = tempHostDir();
    cleanups.push(host.cleanup);
    SimulatedHost.create(host.dir, presetSpec('roce-single'));
    const lines: string[] = [];
    const logger = pino(
      { level: 'debug' },
      new Writable({ write: (chunk: Buffer, _e, cb) => (lines.push(chunk.toString()), cb()) }),
    );
    const running = await startAgent(
      parseConfig({
        RDMASCHED_NODE_NAME: 'node-tls',
        RDMASCHED_HOST_MODE: 'simulated',
        RDMASCHED_SIM_DIR: host.dir,
        RDMASCHED_REDIS_URL: `rediss://127.0.0.1:${port}`,
        RDMASCHED_REDIS_TLS_CA_FILE: cert,
        RDMASCHED_REDIS_PASSWORD_FILE: join(dir, 'password'),
        RDMASCHED_HTTP_HOST: '127.0.0.1',
        RDMASCHED_HTTP_PORT: '0',
        RDMASCHED_HEARTBEAT_INTERVAL_MS: '200',
      }),
      logger,
    );
    cleanups.push(() => running.stop());
    await eventually(async () => expect(await client.exists(new RedisKeys().report('node-tls'))).toBe(1));
    await running.stop();
    expect(lines.length).toBeGreaterThan(3);
    expect(lines.join('')).toContain('(password set)');
    expect(lines.join('')).not.toContain(PASSWORD);
  });
});

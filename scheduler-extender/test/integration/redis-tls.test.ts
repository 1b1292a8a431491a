/**
 * The extender against a Redis that requires TLS and a password: the connection works with the
 * configured CA, and the password never appears in the logs.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { readFile } from 'node:fs/promises';
import { Writable } from 'node:stream';
import { RedisKeys } from '@rdmasched/contracts';
import { ensureExecutable, freePort, makeTlsFiles, type TlsFiles } from '@rdmasched/testkit';
import { Redis } from 'ioredis';
import pino from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseConfig, readConfigFiles } from '../../src/config.js';
import { start } from '../../src/main.js';
import { makeReport } from '../../src/testing/builders.js';
import { AgentWriter } from './agent-writer.js';

const PASSWORD = 'tls-test-s3cret-9f2c';

let tls: TlsFiles | undefined;
let port = 0;
let server: ChildProcess | undefined;

beforeAll(async () => {
  tls = await makeTlsFiles({
    commonName: '127.0.0.1',
    subjectAltName: 'IP:127.0.0.1',
    signedByCa: true,
    prefix: 'rdmasched-redis-tls-',
  });
  const redisServer = await ensureExecutable({ executable: 'redis-server', debianPackage: 'redis-server' });
  port = await freePort();
  server = spawn(
    redisServer,
    [
      '--port',
      '0',
      '--tls-port',
      String(port),
      '--bind',
      '127.0.0.1',
      '--tls-cert-file',
      tls.certFile,
      '--tls-key-file',
      tls.keyFile,
      '--tls-ca-cert-file',
      tls.caFile,
      '--tls-auth-clients',
      'no',
      '--requirepass',
      PASSWORD,
      '--save',
      '',
      '--appendonly',
      'no',
      '--dir',
      tls.dir,
    ],
    { stdio: 'ignore' },
  );
  const ca = await readFile(tls.caFile);
  const deadline = Date.now() + 10_000;
  for (;;) {
    const probe = new Redis({
      host: '127.0.0.1',
      port,
      password: PASSWORD,
      tls: { ca },
      lazyConnect: true,
      maxRetriesPerRequest: 0,
      retryStrategy: () => null,
    });
    probe.on('error', () => undefined);
    try {
      await probe.connect();
      await probe.ping();
      probe.disconnect();
      break;
    } catch {
      probe.disconnect();
      if (Date.now() > deadline) throw new Error('TLS redis-server did not come up');
      await new Promise((r) => setTimeout(r, 50));
    }
  }
}, 60_000);

afterAll(async () => {
  server?.kill('SIGTERM');
  await tls?.cleanup();
});

describe('extender with Redis over TLS and a password', () => {
  it('loads reports through TLS with the configured CA, and never logs the password', async () => {
    if (tls === undefined) throw new Error('beforeAll made no TLS files');
    const caFile = tls.caFile;
    const ca = await readFile(caFile);
    const prefix = 'tls-test';
    const writerClient = new Redis({ host: '127.0.0.1', port, password: PASSWORD, tls: { ca } });
    await new AgentWriter(writerClient, new RedisKeys({ prefix })).publish(
      makeReport('tls-node').generation(1).reportedAtMs(Date.now()).pf({ numVfs: 1 }).build(),
    );
    writerClient.disconnect();

    const lines: string[] = [];
    const sink = new Writable({
      write(chunk: Buffer, _enc, done) {
        lines.push(chunk.toString());
        done();
      },
    });
    const config = parseConfig(
      [
        '--listen-host',
        '127.0.0.1',
        '--listen-port',
        '0',
        '--redis-url',
        `rediss://127.0.0.1:${port}`,
        '--redis-tls-ca-file',
        caFile,
        '--redis-key-prefix',
        prefix,
      ],
      { RDMASCHED_REDIS_PASSWORD: PASSWORD },
    );
    expect(config.redis.tls).toBe(true);
    const running = await start(config, await readConfigFiles(config), {
      signals: false,
      logger: pino({ level: 'debug' }, sink),
    });
    try {
      const deadline = Date.now() + 10_000;
      while ((await fetch(`${running.address}/readyz`)).status !== 200) {
        if (Date.now() > deadline) throw new Error(`not ready; logs:\n${lines.join('')}`);
        await new Promise((r) => setTimeout(r, 25));
      }
      const nodes = (await (await fetch(`${running.address}/v1/nodes`)).json()) as {
        nodes: { name: string }[];
      };
      expect(nodes.nodes.map((n) => n.name)).toEqual(['tls-node']);
    } finally {
      expect(await running.stop()).toBe(0);
    }
    const logs = lines.join('');
    expect(logs).toContain('rediss://127.0.0.1');
    expect(logs).toContain('password set');
    expect(logs).not.toContain(PASSWORD);
  });
});

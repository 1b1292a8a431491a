/**
 * The composition root end to end: real Redis, a real listening server (HTTP and HTTPS), a real
 * HTTP client with keep-alive, graceful stop.
 */
import { randomUUID } from 'node:crypto';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { request as httpsRequest } from 'node:https';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { RedisKeys } from '@rdmasched/contracts';
import { FakeKubeApiServer, makeTlsFiles } from '@rdmasched/testkit';
import { writeFile } from 'node:fs/promises';
import { Redis } from 'ioredis';
import { afterEach, describe, expect, it } from 'vitest';
import { parseConfig, readConfigFiles } from '../../src/config.js';
import { start, type Running } from '../../src/main.js';
import { makePod, makeReport } from '../../src/testing/builders.js';
import { AgentWriter } from './agent-writer.js';
import { capacityOf, createPod, podNode, seedTenants, tenantObject } from './replica.js';

const cleanups: (() => Promise<unknown>)[] = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

async function startExtender(
  extraArgs: string[],
  env: Record<string, string> = {},
): Promise<{ running: Running; writer: AgentWriter; url: string; redis: Redis; keys: RedisKeys }> {
  const redisUrl = process.env['REDIS_URL'] ?? '';
  const prefix = `m-${randomUUID().slice(0, 8)}`;
  const redis = new Redis(redisUrl, { maxRetriesPerRequest: null });
  cleanups.push(async () => redis.quit());
  const keys = new RedisKeys({ prefix });
  const writer = new AgentWriter(redis, keys);
  await writer.publish(makeReport('n1').generation(1).reportedAtMs(Date.now()).pf({ numVfs: 4 }).build());
  const config = parseConfig(
    [
      '--listen-host',
      '127.0.0.1',
      '--listen-port',
      '0',
      '--redis-key-prefix',
      prefix,
      '--url-prefix',
      '/scheduler',
      ...extraArgs,
    ],
    { RDMASCHED_REDIS_URL: redisUrl, RDMASCHED_LOG_LEVEL: 'silent', ...env },
  );
  const running = await start(config, await readConfigFiles(config), { signals: false, env: {} });
  cleanups.push(() => running.stop());
  return { running, writer, url: running.address, redis, keys };
}

async function waitReady(get: () => Promise<number>): Promise<void> {
  const deadline = Date.now() + 10_000;
  while ((await get()) !== 200) {
    if (Date.now() > deadline) throw new Error('extender never became ready');
    await new Promise((r) => setTimeout(r, 25));
  }
}

describe('rdmasched-extender main', () => {
  it('listens, loads from Redis, answers filter and prioritize over HTTP, and stops gracefully', async () => {
    const { running, writer, url } = await startExtender([]);
    await waitReady(async () => (await fetch(`${url}/readyz`)).status);
    const body = JSON.stringify({ Pod: makePod().vfs('ib', 2).build(), NodeNames: ['n1', 'n2'] });
    const filter = await fetch(`${url}/scheduler/filter`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body,
    });
    expect(filter.status).toBe(200);
    expect(await filter.json()).toEqual({
      Nodes: null,
      NodeNames: ['n1'],
      FailedNodes: { n2: 'unknown node (no report from its rdmasched node agent)' },
      FailedAndUnresolvableNodes: {},
      Error: '',
    });
    // A node that appears later is picked up from the event stream.
    await writer.publish(makeReport('n2').generation(1).reportedAtMs(Date.now()).pf({ numVfs: 2 }).build());
    const deadline = Date.now() + 10_000;
    let names: string[] = [];
    while (!names.includes('n2') && Date.now() < deadline) {
      const r = await fetch(`${url}/scheduler/filter`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body,
      });
      names = ((await r.json()) as { NodeNames: string[] }).NodeNames;
    }
    expect(names).toEqual(['n1', 'n2']);
    const prio = await fetch(`${url}/scheduler/prioritize`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body,
    });
    const scores = (await prio.json()) as { Host: string; Score: number }[];
    expect(scores.map((s) => s.Host)).toEqual(['n1', 'n2']);
    const metrics = await (await fetch(`${url}/metrics`)).text();
    expect(metrics).toMatch(/rdmasched_extender_snapshot_nodes 2/);
    expect(metrics).toMatch(/rdmasched_extender_process_cpu_seconds_total/);
    expect(await running.stop()).toBe(0);
    await expect(fetch(`${url}/healthz`)).rejects.toThrow();
  });

  it('serves HTTPS with the configured certificate and key', async () => {
    const tls = await makeTlsFiles({ commonName: 'localhost', subjectAltName: 'IP:127.0.0.1' });
    cleanups.push(tls.cleanup);
    const { url } = await startExtender(['--tls-cert-file', tls.certFile, '--tls-key-file', tls.keyFile]);
    expect(url.startsWith('https://')).toBe(true);
    const ca = await readFile(tls.caFile);
    const get = (path: string) =>
      new Promise<number>((resolve, reject) => {
        const req = httpsRequest(`${url}${path}`, { ca }, (res) => {
          res.resume();
          res.on('end', () => resolve(res.statusCode ?? 0));
        });
        req.on('error', reject);
        req.end();
      });
    await waitReady(() => get('/readyz'));
    expect(await get('/v1/nodes/n1')).toBe(200);
  });

  it('with a kubeconfig (HTTPS and a bearer token) it follows tenants and pods and binds', async () => {
    const fake = await FakeKubeApiServer.start({ tls: true, token: 'extender-token' });
    cleanups.push(() => fake.stop());
    seedTenants(fake, [{ name: 'ml' }], [tenantObject('ml', { namespaces: ['ml'], quota: { ib: 4 } })]);
    const dir = await mkdtemp(join(tmpdir(), 'rdmasched-kube-'));
    cleanups.push(() => rm(dir, { recursive: true, force: true }));
    const kubeconfig = join(dir, 'kubeconfig');
    await writeFile(kubeconfig, fake.kubeConfig().exportConfig());
    const { url, redis, keys, writer } = await startExtender([], {
      RDMASCHED_KUBE_API: 'kubeconfig',
      RDMASCHED_KUBECONFIG: kubeconfig,
    });
    const report = makeReport('gpu-1')
      .generation(1)
      .reportedAtMs(Date.now())
      .pf({ numVfs: 4, configured: 4, maxVfs: 4 })
      .build();
    await redis.hset(
      keys.nodeCapacity('gpu-1'),
      ...[...capacityOf(report)].flatMap(([pf, c]) => [pf, JSON.stringify(c)]),
    );
    await writer.publish(report);
    await waitReady(async () => (await fetch(`${url}/readyz`)).status);
    const pod = createPod(fake, { namespace: 'ml', name: 'trainer', ib: 1 });
    // The pod informer may not have seen the pod yet: bind then reads it from the API.
    const res = await fetch(`${url}/scheduler/bind`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({
        PodName: pod.name,
        PodNamespace: pod.namespace,
        PodUID: pod.uid,
        Node: 'gpu-1',
      }),
    });
    expect(await res.json()).toEqual({ Error: '' });
    expect(podNode(fake, 'ml', 'trainer')).toBe('gpu-1');
    // Every API call carried the token (the fake answers 401 otherwise) over TLS.
    expect(fake.requests.filter((r) => r.status === 401)).toEqual([]);
    expect(fake.url.startsWith('https://')).toBe(true);
  });
});

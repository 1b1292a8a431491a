import { readFileSync } from 'node:fs';
import { get } from 'node:https';
import { Counter, Registry } from 'prom-client';
import { describe, expect, it } from 'vitest';
import { makeTlsFiles } from '@rdmasched/testkit';
import { buildApp } from './app.js';

describe('buildApp', () => {
  it('serves /metrics from the injected registry, /healthz, and /readyz by the health view', async () => {
    const registry = new Registry();
    new Counter({ name: 'rdmasched_agent_test_total', help: 'x', registers: [registry] }).inc(3);
    let ready = false;
    const app = buildApp({ registry, health: { ready: () => ready, details: () => ({ recovered: ready }) } });
    const metrics = await app.inject({ url: '/metrics' });
    expect(metrics.statusCode).toBe(200);
    expect(metrics.headers['content-type']).toContain('text/plain');
    expect(metrics.body).toContain('rdmasched_agent_test_total 3');
    expect((await app.inject({ url: '/healthz' })).json()).toEqual({ status: 'ok' });
    const notReady = await app.inject({ url: '/readyz' });
    expect([notReady.statusCode, notReady.json()]).toEqual([503, { status: 'not ready', recovered: false }]);
    ready = true;
    expect((await app.inject({ url: '/readyz' })).statusCode).toBe(200);
    await app.close();
  });
});

describe('buildApp with TLS', () => {
  it('serves HTTPS with the given key and certificate', async () => {
    const tls = await makeTlsFiles({ commonName: 'localhost' });
    try {
      const app = buildApp({
        registry: new Registry(),
        health: { ready: () => true, details: () => ({}) },
        https: { key: readFileSync(tls.keyFile), cert: readFileSync(tls.certFile) },
      });
      const address = await app.listen({ host: '127.0.0.1', port: 0 });
      expect(address).toMatch(/^https:\/\//);
      const body = await new Promise<string>((resolve, reject) => {
        get(
          `${address}/healthz`,
          { ca: readFileSync(tls.caFile), checkServerIdentity: () => undefined },
          (res) => {
            let text = '';
            res.on('data', (c: Buffer) => (text += c.toString()));
            res.on('end', () => resolve(text));
          },
        ).on('error', reject);
      });
      expect(JSON.parse(body)).toEqual({ status: 'ok' });
      await app.close();
    } finally {
      await tls.cleanup();
    }
  });
});

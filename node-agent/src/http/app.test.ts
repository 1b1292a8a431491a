import { Counter, Registry } from 'prom-client';
import { describe, expect, it } from 'vitest';
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

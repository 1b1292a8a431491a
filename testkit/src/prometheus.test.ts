import { createServer } from 'node:http';
import { afterAll, describe, expect, it } from 'vitest';
import { startPrometheus, type PrometheusHandle } from './prometheus.js';

describe('startPrometheus', () => {
  let prom: PrometheusHandle | undefined;
  const server = createServer((req, res) => {
    res.setHeader('content-type', 'text/plain; version=0.0.4');
    res.end('# TYPE rdmasched_probe_total counter\nrdmasched_probe_total{kind="x"} 42\n');
  });
  afterAll(async () => {
    await prom?.stop();
    server.close();
  });

  it('scrapes a target and answers queries with its samples', async () => {
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    const address = server.address();
    const port = typeof address === 'object' && address !== null ? address.port : 0;
    prom = await startPrometheus({ jobs: [{ jobName: 'probe', targets: [`127.0.0.1:${port}`] }] });
    await prom.waitForTargetsUp();
    let samples = await prom.query('rdmasched_probe_total');
    for (let i = 0; i < 50 && samples.length === 0; i++) {
      await new Promise((r) => setTimeout(r, 200));
      samples = await prom.query('rdmasched_probe_total');
    }
    expect(samples).toHaveLength(1);
    expect(samples[0]?.value).toBe(42);
    expect(samples[0]?.metric['kind']).toBe('x');
    expect(samples[0]?.metric['job']).toBe('probe');
  });
});

import { Counter, Gauge, Registry } from 'prom-client';
import { afterEach, describe, expect, it } from 'vitest';
import { AgentMetricsServer, labelSamples } from './metrics-server.js';

describe('labelSamples', () => {
  it('adds the node label to every sample, with or without labels, and keeps HELP/TYPE apart', () => {
    const text = [
      '# HELP rdmasched_agent_vfs VFs by state',
      '# TYPE rdmasched_agent_vfs gauge',
      'rdmasched_agent_vfs{pf="0000:1a:00.0",state="free"} 4',
      'rdmasched_agent_up 1',
      '',
    ].join('\n');
    expect(labelSamples(text, 'node-1')).toEqual({
      meta: ['# HELP rdmasched_agent_vfs VFs by state', '# TYPE rdmasched_agent_vfs gauge'],
      samples: [
        'rdmasched_agent_vfs{node="node-1",pf="0000:1a:00.0",state="free"} 4',
        'rdmasched_agent_up{node="node-1"} 1',
      ],
    });
  });
});

describe('AgentMetricsServer', () => {
  let server: AgentMetricsServer | undefined;
  afterEach(async () => {
    await server?.close();
    server = undefined;
  });

  it('serves every agent in one exposition and each agent on its own path', async () => {
    const registries = new Map<string, Registry>();
    for (const n of ['a', 'b']) {
      const reg = new Registry();
      new Counter({
        name: 'rdmasched_agent_test_total',
        help: 'test',
        labelNames: ['kind'],
        registers: [reg],
      }).inc({ kind: 'x' }, n === 'a' ? 1 : 2);
      new Gauge({ name: 'rdmasched_agent_test_gauge', help: 'gauge', registers: [reg] }).set(7);
      registries.set(n, reg);
    }
    server = new AgentMetricsServer(registries);
    const url = await server.listen();
    const all = await (await fetch(`${url}/metrics`)).text();
    expect(all.match(/^# HELP rdmasched_agent_test_total test$/gm)).toHaveLength(1);
    expect(all).toContain('rdmasched_agent_test_total{node="a",kind="x"} 1');
    expect(all).toContain('rdmasched_agent_test_total{node="b",kind="x"} 2');
    expect(all).toContain('rdmasched_agent_test_gauge{node="b"} 7');
    // Each family's samples follow its own HELP/TYPE lines.
    expect(all.indexOf('# TYPE rdmasched_agent_test_gauge')).toBeLessThan(
      all.indexOf('rdmasched_agent_test_gauge{node="a"}'),
    );
    const one = await (await fetch(`${url}/nodes/b/metrics`)).text();
    expect(one).toContain('rdmasched_agent_test_total{kind="x"} 2');
    expect((await fetch(`${url}/nodes/zzz/metrics`)).status).toBe(404);
    expect(await (await fetch(`${url}/`)).text()).toBe('/nodes/a/metrics\n/nodes/b/metrics\n');
  });
});

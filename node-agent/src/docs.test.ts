import { readFileSync } from 'node:fs';
import { Registry } from 'prom-client';
import { describe, expect, it } from 'vitest';
import { CONFIG_FIELDS } from './config.js';
import { AGENT_CODES } from './errors.js';
import { AgentMetrics } from './metrics.js';

const readme = readFileSync(new URL('../README.md', import.meta.url), 'utf8');
const section = (title: string) => {
  const start = readme.indexOf(title);
  const next = readme.indexOf('\n#', start + title.length);
  return readme.slice(start, next < 0 ? undefined : next);
};
const firstColumn = (text: string) => [...text.matchAll(/^\|\s*`([A-Z_]+)`\s*\|/gm)].map((m) => m[1]!);

describe('README stays in sync with the code', () => {
  it('lists every result code, and no other', () => {
    expect(firstColumn(section('### Result codes')).sort()).toEqual(Object.keys(AGENT_CODES).sort());
  });
  it('lists every setting with its flag, and no other', () => {
    const table = section('## Configuration');
    expect(firstColumn(table).sort()).toEqual(CONFIG_FIELDS.map((f) => f[0]).sort());
    for (const [env, flag] of CONFIG_FIELDS)
      expect(table).toMatch(
        new RegExp(
          `\\|\\s*\`${env}\`\\s*\\|\\s*${flag === '(env only)' ? '\\(env only\\)' : `\`${flag}\``}\\s*\\|`,
        ),
      );
  });
  it('lists every agent metric', async () => {
    const registry = new Registry();
    new AgentMetrics(registry);
    const names = (await registry.getMetricsAsJSON()).map((m) => m.name.replace(/^rdmasched_agent_/, ''));
    const table = section('## Metrics');
    for (const n of names) expect(table).toContain(n);
  });
});

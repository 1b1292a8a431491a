/** The README's tables list exactly the codes, reasons and metrics the code has. */
import { readFileSync } from 'node:fs';
import { Registry } from 'prom-client';
import { describe, expect, it } from 'vitest';
import { ALLOCATE_FAILURE_CODES, GRPC_STATUS_OF, UNHEALTHY_REASONS } from './codes.js';
import { DevicePluginMetrics } from './metrics.js';
import { status } from '@grpc/grpc-js';

const readme = readFileSync(new URL('./README.md', import.meta.url), 'utf8');

/** Rows `| \`NAME\` | ... |` of the table that follows a line containing `after`. */
function tableRows(after: string): string[][] {
  const lines = readme.split('\n');
  let i = lines.findIndex((l) => l.includes(after));
  expect(i, `README section "${after}"`).toBeGreaterThanOrEqual(0);
  while (i < lines.length && !lines[i]!.trim().startsWith('|')) i++;
  const rows: string[][] = [];
  for (; i < lines.length && lines[i]!.trim().startsWith('|'); i++)
    rows.push(
      lines[i]!.split('|')
        .slice(1, -1)
        .map((c) => c.trim()),
    );
  return rows.slice(2);
}

const name = (cell: string | undefined) => /^`([^`]+)`$/.exec(cell ?? '')?.[1];

describe('device plugin README', () => {
  it('lists every Allocate failure code with its gRPC status and meaning', () => {
    const rows = tableRows('Allocate refuses the whole request');
    expect(rows.map((r) => name(r[0])).sort()).toEqual(Object.keys(ALLOCATE_FAILURE_CODES).sort());
    for (const [code, grpc, meaning] of rows) {
      const c = name(code) as keyof typeof ALLOCATE_FAILURE_CODES;
      expect(name(grpc), c).toBe(status[GRPC_STATUS_OF[c]]);
      expect(meaning, c).toBe(ALLOCATE_FAILURE_CODES[c]);
    }
  });

  it('lists every Unhealthy reason', () => {
    const rows = tableRows('Why a device is `Unhealthy`');
    expect(rows.map((r) => name(r[0])).sort()).toEqual(Object.keys(UNHEALTHY_REASONS).sort());
    for (const [reason, meaning] of rows)
      expect(meaning).toBe(UNHEALTHY_REASONS[name(reason) as keyof typeof UNHEALTHY_REASONS]);
  });

  it('lists every metric', async () => {
    const registry = new Registry();
    new DevicePluginMetrics(registry, ['rdmasched.io/ib-vf']);
    const names = (await registry.getMetricsAsJSON()).map((m) => m.name).sort();
    expect(
      tableRows('## Metrics')
        .map((r) => name(r[0]))
        .sort(),
    ).toEqual(names);
  });
});

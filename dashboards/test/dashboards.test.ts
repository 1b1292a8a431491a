/**
 * The dashboard JSON files as Grafana imports them, checked without a server: a recent schema,
 * the data source as the `${datasource}` variable on every panel and query, template variables
 * defined before use, a layout on the 24-column grid with no overlaps, a unit and a description
 * on every panel, and only metric names that the extender and the node agent register with
 * prom-client (read from their sources). The alert rules get the same metric-name check. That the
 * queries return data is dashboards.e2e.test.ts's job.
 */
import { readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

const root = fileURLToPath(new URL('../..', import.meta.url));
const dashboardsDir = join(root, 'dashboards');

interface Ref {
  readonly type?: string;
  readonly uid?: string;
}
interface Panel {
  readonly id?: number;
  readonly type: string;
  readonly title?: string;
  readonly description?: string;
  readonly datasource?: Ref;
  readonly gridPos: { h: number; w: number; x: number; y: number };
  readonly fieldConfig?: { defaults?: { unit?: string } };
  readonly targets?: { refId?: string; expr?: string; datasource?: Ref }[];
  readonly panels?: readonly Panel[];
}
interface Dashboard {
  readonly uid: string;
  readonly title: string;
  readonly schemaVersion: number;
  readonly panels: readonly Panel[];
  readonly templating: { list: { name: string; type: string; query?: unknown; datasource?: Ref }[] };
}

const files = readdirSync(dashboardsDir).filter((f) => f.endsWith('.json'));
const dashboards = files.map((file) => ({
  file,
  dashboard: JSON.parse(readFileSync(join(dashboardsDir, file), 'utf8')) as Dashboard,
}));
const panelsOf = (ps: readonly Panel[]): Panel[] => ps.flatMap((p) => [p, ...panelsOf(p.panels ?? [])]);

/** Metric names registered with prom-client in a workspace's metrics sources. */
function registeredNames(): Set<string> {
  const sources = [
    'scheduler-extender/src/http/metrics.ts',
    'scheduler-extender/src/services/ledger-metrics.ts',
    'node-agent/src/metrics.ts',
    'node-agent/src/device-plugin/metrics.ts',
  ];
  const names = new Set<string>();
  for (const path of sources) {
    const text = readFileSync(join(root, path), 'utf8');
    const prefix = /const P = '([a-z_]+)'/.exec(text)?.[1] ?? '';
    for (const m of text.matchAll(/name: '([a-z_]+)'/g)) names.add(m[1] ?? '');
    for (const m of text.matchAll(/name: `\$\{P\}([a-z_]+)`/g)) names.add(`${prefix}${m[1] ?? ''}`);
    // The port counters go through a helper: portCounter('rdmasched_agent_port_...', ...).
    for (const m of text.matchAll(/portCounter\(\s*'([a-z_]+)'/g)) names.add(m[1] ?? '');
  }
  // Histograms are stored as _bucket, _sum and _count series.
  for (const n of [...names])
    if (n.endsWith('_seconds')) for (const s of ['_bucket', '_sum', '_count']) names.add(n + s);
  return names;
}
const registered = registeredNames();

function metricNames(expr: string): string[] {
  return [...expr.matchAll(/\brdmasched_[a-z0-9_]+/g)].map((m) => m[0]);
}

describe('metric names in the sources', () => {
  it('finds the prom-client registrations of the extender and the node agent', () => {
    expect(registered).toContain('rdmasched_extender_filter_decisions_total');
    expect(registered).toContain('rdmasched_agent_port_transmit_bytes_total');
    expect(registered).toContain('rdmasched_agent_device_plugin_devices');
    expect(registered.size).toBeGreaterThan(40);
  });
});

describe.each(dashboards)('dashboard $file', ({ dashboard }) => {
  const panels = panelsOf(dashboard.panels);
  const targets = panels.flatMap((p) => (p.targets ?? []).map((t) => ({ panel: p, target: t })));

  it('is importable: a uid, a recent schema, a title in the rdmasched folder', () => {
    expect(dashboard.uid).toMatch(/^rdmasched-[a-z0-9-]{1,30}$/);
    expect(dashboard.schemaVersion).toBeGreaterThanOrEqual(39);
    expect(dashboard.title).toMatch(/^rdmasched \/ /);
  });

  it('takes its Prometheus data source from the ${datasource} variable, on every panel and query', () => {
    const ds = dashboard.templating.list.find((v) => v.name === 'datasource');
    expect(ds).toMatchObject({ type: 'datasource', query: 'prometheus' });
    const wanted = { type: 'prometheus', uid: '${datasource}' };
    for (const v of dashboard.templating.list.filter((x) => x.type === 'query'))
      expect(v.datasource, v.name).toEqual(wanted);
    for (const p of panels.filter((x) => x.type !== 'row')) expect(p.datasource, p.title).toEqual(wanted);
    for (const { panel, target } of targets) expect(target.datasource, panel.title).toEqual(wanted);
  });

  it('uses only variables it defines (and Grafana range macros)', () => {
    const defined = new Set(dashboard.templating.list.map((v) => v.name));
    const builtins = new Set(['__rate_interval', '__interval', '__range']);
    const queries = [
      ...targets.map((t) => t.target.expr ?? ''),
      ...dashboard.templating.list.map((v) =>
        typeof v.query === 'string' ? v.query : ((v.query as { query?: string } | undefined)?.query ?? ''),
      ),
    ];
    const unknown = queries
      .flatMap((q) => [...q.matchAll(/\$\{?([A-Za-z_][A-Za-z0-9_]*)/g)].map((m) => m[1] ?? ''))
      .filter((n) => !defined.has(n) && !builtins.has(n));
    expect(unknown).toEqual([]);
  });

  it('queries only metrics the extender and node agent register', () => {
    const unknown = targets.flatMap(({ panel, target }) =>
      metricNames(target.expr ?? '')
        .filter((n) => !registered.has(n))
        .map((n) => `${panel.title}: ${n}`),
    );
    expect(unknown).toEqual([]);
    expect(targets.length).toBeGreaterThan(5);
  });

  it('lays its panels out on the 24-column grid without overlaps, with unique ids', () => {
    const ids = panels.map((p) => p.id);
    expect(new Set(ids).size).toBe(ids.length);
    const cells = new Set<string>();
    for (const p of panels) {
      const g = p.gridPos;
      expect(g.x + g.w, p.title).toBeLessThanOrEqual(24);
      for (let x = g.x; x < g.x + g.w; x++)
        for (let y = g.y; y < g.y + g.h; y++) {
          const cell = `${x},${y}`;
          expect(cells.has(cell), `${p.title} overlaps at ${cell}`).toBe(false);
          cells.add(cell);
        }
    }
  });

  it('gives every panel a description and a unit, and every query a refId', () => {
    for (const p of panels.filter((x) => x.type !== 'row')) {
      expect(p.description, p.title).toMatch(/\w{3}/);
      expect(p.fieldConfig?.defaults?.unit, p.title).toBeTruthy();
      expect(p.targets?.length, p.title).toBeGreaterThan(0);
      for (const t of p.targets ?? []) expect(t.refId, p.title).toMatch(/^[A-Z]$/);
    }
  });

  it('shows port traffic in bits (bytes x 8) or packets: the agent already turned 4-byte units into bytes', () => {
    for (const { panel, target } of targets) {
      const expr = target.expr ?? '';
      // Never a second x 4: rdmasched_agent_port_*_bytes_total are bytes.
      expect(expr, panel.title).not.toMatch(/\*\s*4\b|\b4\s*\*/);
      const unit = panel.fieldConfig?.defaults?.unit;
      // (The Overview reads the link type of PFs off these series with group by: not traffic.)
      if (/rate\(rdmasched_agent_port_(transmit|receive)_bytes_total/.test(expr) && unit !== 'bytes')
        expect({ title: panel.title, unit, bits: /\b8 \*/.test(expr) }).toEqual({
          title: panel.title,
          unit: 'bps',
          bits: true,
        });
    }
  });
});

describe('alert rules', () => {
  it('name only metrics the extender and node agent register', () => {
    const text = readFileSync(join(root, 'deploy/monitoring/rules/rdmasched.rules.yaml'), 'utf8');
    const names = metricNames(text.replace(/^\s*#.*$/gm, ''));
    expect(names.length).toBeGreaterThan(20);
    expect(names.filter((n) => !registered.has(n))).toEqual([]);
  });
});

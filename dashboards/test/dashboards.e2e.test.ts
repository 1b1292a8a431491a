/**
 * The dashboards and alert rules against the real product and a real Prometheus.
 *
 * Brings up the one-machine simulation (the real extender and node agents, with their live
 * /metrics), plus one node agent daemon with its kubelet device plugin on (against the testkit's
 * fake kubelet, on the test Redis), starts Debian's `prometheus` scraping them every second under
 * the job names the ServiceMonitor and PodMonitor give (`rdmasched-extender`,
 * `rdmasched-node-agent`, with the `node` label the PodMonitor's relabeling adds), and drives
 * traffic while it scrapes: pods placed and deleted, a pod over its tenant's quota, an invalid
 * pod, a preemption proposal, a provisioning request that fails, a container allocation through
 * the kubelet API, port traffic on a simulated NIC.
 *
 * Then every target expression of every panel of every dashboard JSON must parse and return at
 * least one series (Grafana's `$__rate_interval`/`$__interval`/`$__range` replaced by fixed ranges,
 * template variables by `.*` and then by a concrete value), every template variable must have
 * values, every metric and label the alert rules name must exist on the scraped series, and the
 * port byte counters must count bytes (sysfs counts 4-byte units; the agent multiplies).
 */
import { createServer, type Server } from 'node:http';
import { randomUUID } from 'node:crypto';
import { mkdtempSync, readFileSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Redis } from 'ioredis';
import { pino } from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parse as parseYaml } from 'yaml';
import { RedisKeys, SCHEDULER_NAME, VF_RESOURCE } from '@rdmasched/contracts';
import {
  SimulatedHost,
  parseConfig as parseAgentConfig,
  presetSpec,
  startAgent,
  type RunningAgent,
} from '@rdmasched/node-agent';
import { PERF_TENANT, SILENT_PROGRESS, parseConfig, simulate, type SimCluster } from '@rdmasched/sim';
import { labelSamples } from '@rdmasched/sim/cluster/metrics-server';
import {
  FakeKubeletDeviceManager,
  POD_RESOURCE,
  startPrometheus,
  type PrometheusHandle,
} from '@rdmasched/testkit';

const root = fileURLToPath(new URL('../..', import.meta.url));
const dashboardsDir = join(root, 'dashboards');
const rulesFile = join(root, 'deploy/monitoring/rules/rdmasched.rules.yaml');

// ------------------------------------------------------------------ dashboards as data

interface Target {
  readonly refId?: string;
  readonly expr?: string;
}
interface Panel {
  readonly title?: string;
  readonly type?: string;
  readonly targets?: readonly Target[];
  readonly panels?: readonly Panel[];
}
interface Variable {
  readonly name: string;
  readonly type: string;
  readonly query?: string | { readonly query?: string };
}
interface Dashboard {
  readonly title: string;
  readonly panels: readonly Panel[];
  readonly templating: { readonly list: readonly Variable[] };
}

function panelsOf(panels: readonly Panel[]): Panel[] {
  return panels.flatMap((p) => [p, ...panelsOf(p.panels ?? [])]);
}

const dashboards = readdirSync(dashboardsDir)
  .filter((f) => f.endsWith('.json'))
  .map((file) => ({
    file,
    dashboard: JSON.parse(readFileSync(join(dashboardsDir, file), 'utf8')) as Dashboard,
  }));

/** Every panel target of a dashboard: `title [refId]` and the PromQL. */
function targetsOf(d: Dashboard): { name: string; expr: string }[] {
  return panelsOf(d.panels).flatMap((p) =>
    (p.targets ?? [])
      .filter((t) => t.expr !== undefined && t.expr !== '')
      .map((t) => ({ name: `${p.title ?? '?'} [${t.refId ?? '?'}]`, expr: t.expr ?? '' })),
  );
}

/** The template variables that stand for label values (not the datasource). */
function labelVariables(d: Dashboard): { name: string; query: string }[] {
  return d.templating.list
    .filter((v) => v.type === 'query')
    .map((v) => ({ name: v.name, query: typeof v.query === 'string' ? v.query : (v.query?.query ?? '') }));
}

/** The PromQL Grafana would send: its range macros fixed, the variables replaced by `values`. */
function render(expr: string, values: Readonly<Record<string, string>>): string {
  let out = expr
    .replaceAll('$__rate_interval', '30s')
    .replaceAll('$__interval', '30s')
    .replaceAll('$__range', '5m');
  // Longest names first, so that $node never eats the start of $node_x.
  for (const name of Object.keys(values).sort((a, b) => b.length - a.length)) {
    const v = values[name] ?? '.*';
    out = out.replaceAll(`\${${name}}`, v).replaceAll(`[[${name}]]`, v).replaceAll(`$${name}`, v);
  }
  return out;
}

/** `label_values(selector, label)` as a query that lists the label's values. */
function labelValuesQuery(q: string): { promql: string; label: string } {
  const m = /^label_values\((.*),\s*([a-zA-Z_][a-zA-Z0-9_]*)\s*\)$/.exec(q.trim());
  if (m === null) throw new Error(`not a label_values() query: ${q}`);
  return { promql: `group by (${m[2]}) (${m[1]})`, label: m[2] ?? '' };
}

// ------------------------------------------------------------------ the running product

const REDIS_URL = process.env['REDIS_URL'] ?? 'redis://127.0.0.1:6379';
const DP_NODE = 'dp-node';
const DP_IB_PF = '0000:1a:00.0';
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const hostPort = (url: string) => new URL(url).host;

let cluster: SimCluster | undefined;
let prom: PrometheusHandle | undefined;
let kubelet: FakeKubeletDeviceManager | undefined;
let agent: RunningAgent | undefined;
let relabel: Server | undefined;
let redis: Redis | undefined;
let hostDir: string | undefined;
let dpHost: SimulatedHost | undefined;
let tenants: { name: string; quota: Record<string, number> }[] = [];

/** Waits until `f` returns something, or throws after `ms`. */
async function until<T>(what: string, f: () => Promise<T | undefined>, ms = 20_000): Promise<T> {
  const end = Date.now() + ms;
  for (;;) {
    const v = await f();
    if (v !== undefined) return v;
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await sleep(250);
  }
}

/** The agent daemon's /metrics with the `node` label the PodMonitor's relabeling adds. */
async function startRelabel(upstream: string, node: string): Promise<string> {
  const server = createServer((_req, res) => {
    void fetch(`${upstream}/metrics`)
      .then((r) => r.text())
      .then((text) => {
        const { meta, samples } = labelSamples(text, node);
        res.writeHead(200, { 'content-type': 'text/plain; version=0.0.4; charset=utf-8' });
        res.end([...meta, ...samples, ''].join('\n'));
      })
      .catch((err: unknown) => {
        res.writeHead(502);
        res.end(String(err));
      });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  relabel = server;
  const a = server.address();
  return `127.0.0.1:${typeof a === 'object' && a !== null ? a.port : 0}`;
}

function podManifest(name: string, namespace: string, resources: Record<string, string>) {
  const req = { cpu: '100m', memory: '128Mi', ...resources };
  return {
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: { name, namespace, labels: { 'rdmasched.io/tenant': namespace } },
    spec: {
      schedulerName: SCHEDULER_NAME,
      terminationGracePeriodSeconds: 0,
      containers: [{ name: 'c', image: 'pause', resources: { requests: req, limits: req } }],
    },
  };
}

async function postExtender(verb: string, body: unknown): Promise<number> {
  const res = await fetch(`${cluster?.extender?.url ?? ''}/${verb}`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify(body),
  });
  await res.arrayBuffer();
  return res.status;
}

/** Scheduling, failures and traffic while Prometheus scrapes, so that counters move. */
async function driveTraffic(c: SimCluster): Promise<void> {
  const store = c.api.store;
  const nodes = [...c.fleet.nodes.keys()];
  // Pods placed, run by the kubelet stand-in, then deleted (releases).
  const names: string[] = [];
  for (let i = 0; i < 6; i++) {
    const m = podManifest(`e2e-${i}`, PERF_TENANT, { [VF_RESOURCE.ib]: '1' });
    names.push(store.create(POD_RESOURCE, PERF_TENANT, m).object.metadata.name ?? '');
  }
  // A pod asking for more VFs than its tenant's quota (denied, QUOTA_EXCEEDED).
  const capped = tenants.find((t) => (t.quota['ib'] ?? 0) > 0);
  if (capped !== undefined)
    store.create(
      POD_RESOURCE,
      capped.name,
      podManifest('e2e-over-quota', capped.name, { [VF_RESOURCE.ib]: String((capped.quota['ib'] ?? 0) + 1) }),
    );
  // An invalid pod (a minimum rate that is not a number), as kube-scheduler would send it.
  const badPod = podManifest('e2e-invalid', PERF_TENANT, { [VF_RESOURCE.ib]: '1' });
  const invalid = {
    ...badPod,
    metadata: {
      ...badPod.metadata,
      uid: randomUUID(),
      annotations: { 'rdmasched.io/min-rate-gbps': 'fast' },
    },
  };
  expect(await postExtender('filter', { Pod: invalid, NodeNames: nodes })).toBe(200);
  // A preemption proposal for a node the extender does not know (dropped).
  const preemptor = { ...badPod, metadata: { ...badPod.metadata, name: 'e2e-preemptor', uid: randomUUID() } };
  expect(
    await postExtender('preempt', {
      Pod: preemptor,
      NodeNameToMetaVictims: { 'no-such-node': { Pods: [{ UID: randomUUID() }], NumPDBViolations: 0 } },
    }),
  ).toBe(200);
  // Port traffic on every simulated NIC and on the daemon's host.
  for (const [name, n] of c.fleet.nodes)
    for (const pf of c.reportOf(name)?.pfs ?? [])
      n.host.addTraffic(pf.pciAddress, { xmitBytes: 4e6, rcvBytes: 2e6, xmitPackets: 1000, rcvPackets: 500 });
  await sleep(3000);
  // Half the pods go (releases); the others keep their VFs (tenant usage) until the end.
  for (const name of names.slice(0, 3))
    store.delete(POD_RESOURCE, PERF_TENANT, name, { gracePeriodSeconds: 0 });
}

beforeAll(async () => {
  // 1. The simulation: 6 nodes, a short workload and burst; it keeps serving afterwards.
  const parsed = parseConfig(
    [
      ...['--nodes', '6', '--jobs', '10', '--seed', '7', '--duration', '20', '--time-scale', '20'],
      ...['--burst', '6', '--vfs-per-pf', '4', '--pending-timeout', '20'],
    ],
    {},
  );
  if (parsed.help) throw new Error('unexpected --help');
  const sim = await simulate(parsed.config, {
    logger: pino({ level: 'silent' }),
    progress: SILENT_PROGRESS,
    keepRunning: true,
  });
  cluster = sim.cluster;
  tenants = sim.report.cluster.tenants.map((t) => ({ name: t.name, quota: { ...t.quota } }));
  if (cluster?.extender === undefined) throw new Error('the simulation did not keep its extender');

  // 2. One agent daemon with its device plugin, on the test Redis, the fake kubelet playing the kubelet.
  redis = new Redis(REDIS_URL);
  hostDir = mkdtempSync(join(tmpdir(), 'rdmasched-dash-'));
  dpHost = SimulatedHost.create(
    join(hostDir, 'host'),
    presetSpec('reference-host', { numVfs: 4, configuredVfs: 4 }),
  );
  kubelet = await FakeKubeletDeviceManager.start();
  const keyPrefix = `dash-${randomUUID().slice(0, 8)}`;
  agent = await startAgent(
    parseAgentConfig({
      RDMASCHED_NODE_NAME: DP_NODE,
      RDMASCHED_HOST_MODE: 'simulated',
      RDMASCHED_SIM_DIR: join(hostDir, 'host'),
      RDMASCHED_REDIS_URL: REDIS_URL,
      RDMASCHED_REDIS_KEY_PREFIX: keyPrefix,
      RDMASCHED_HTTP_HOST: '127.0.0.1',
      RDMASCHED_HTTP_PORT: '0',
      RDMASCHED_HEARTBEAT_INTERVAL_MS: '500',
      RDMASCHED_DISCOVERY_INTERVAL_MS: '1000',
      RDMASCHED_DEVICE_PLUGIN: 'on',
      RDMASCHED_DEVICE_PLUGIN_DIR: kubelet.pluginDir,
      RDMASCHED_POD_RESOURCES_SOCKET: kubelet.podResourcesSocket,
      RDMASCHED_DEV_ROOT: hostDir,
      RDMASCHED_DEVICE_PLUGIN_RECONCILE_INTERVAL_MS: '500',
      RDMASCHED_DEVICE_PLUGIN_RELEASE_GRACE_MS: '0',
      RDMASCHED_LOG_LEVEL: 'silent',
    }),
  );
  const agentTarget = await startRelabel(agent.address, DP_NODE);

  // 3. Prometheus, every second, with the job names the ServiceMonitor and PodMonitor give.
  prom = await startPrometheus({
    scrapeIntervalSeconds: 1,
    jobs: [
      { jobName: 'rdmasched-extender', targets: [hostPort(cluster.extender.url)] },
      { jobName: 'rdmasched-node-agent', targets: [hostPort(cluster.metrics.url), agentTarget] },
    ],
  });
  await prom.waitForTargetsUp();

  // 4. Traffic while it scrapes.
  await kubelet.waitFor('the IB device plugin', () => kubelet?.devices(VF_RESOURCE.ib).length === 4);
  await kubelet.allocate(VF_RESOURCE.ib, { count: 1, namespace: 'elsewhere', pod: 'foreign' });
  // One provisioning request for a PF the node does not have (UNKNOWN_PF). The agent creates the
  // failure series at 0 for every code, so increase() sees this first failure.
  const keys = new RedisKeys({ prefix: keyPrefix });
  const badRequest = async (id: string) =>
    redis?.xadd(
      keys.provisionRequests(DP_NODE),
      '*',
      'request',
      JSON.stringify({
        id,
        node: DP_NODE,
        reason: 'reservation',
        pfPciAddress: '0000:ff:00.0',
        minReadyVfs: 1,
        podUid: 'nobody',
        requestedAtMs: Date.now(),
        deadlineMs: Date.now() + 60_000,
      }),
    );
  const failures = `rdmasched_agent_provision_failures_total{node="${DP_NODE}", code="UNKNOWN_PF"}`;
  await until('the failure series scraped at 0 before any failure', async () => {
    const v = await prom?.query(failures);
    return v?.length === 1 && v[0]?.value === 0 ? true : undefined;
  });
  await sleep(1500);
  await badRequest('e2e-bad-pf-1');
  await driveTraffic(cluster);
  kubelet.release('elsewhere', 'foreign');
  await sleep(3000);
}, 150_000);

afterAll(async () => {
  await prom?.stop();
  await new Promise((r) => (relabel === undefined ? r(undefined) : relabel.close(r)));
  await agent?.stop();
  await kubelet?.stop();
  await redis?.quit();
  await cluster?.stop();
  if (hostDir !== undefined) rmSync(hostDir, { recursive: true, force: true });
});

/** Every variable as Grafana's "All" (`.*`). */
const allValues = (d: Dashboard) => Object.fromEntries(labelVariables(d).map((v) => [v.name, '.*']));

async function labelValues(d: Dashboard, v: { query: string }): Promise<string[]> {
  const { promql, label } = labelValuesQuery(render(v.query, allValues(d)));
  return (await prom!.query(promql)).map((s) => s.metric[label] ?? '').filter((x) => x !== '');
}

describe.each(dashboards)('dashboard $file', ({ dashboard }) => {
  it('has values for every template variable', async () => {
    const empty: string[] = [];
    for (const v of labelVariables(dashboard))
      if ((await labelValues(dashboard, v)).length === 0) empty.push(`$${v.name}: ${v.query}`);
    expect(empty).toEqual([]);
  });

  it('answers every panel query with data (every variable on All)', async () => {
    const targets = targetsOf(dashboard);
    expect(targets.length).toBeGreaterThan(5);
    const empty: string[] = [];
    for (const t of targets) {
      const promql = render(t.expr, allValues(dashboard));
      if ((await prom!.query(promql)).length === 0) empty.push(`${t.name}: ${promql}`);
    }
    expect(empty).toEqual([]);
  });

  it('answers every panel query with a concrete value of each variable (the node with the most series)', async () => {
    const values: Record<string, string> = {};
    for (const v of labelVariables(dashboard)) {
      const all = await labelValues(dashboard, v);
      // The daemon's node has every family (device plugin included); otherwise the first value.
      values[v.name] = escapeRegex(all.includes(DP_NODE) ? DP_NODE : (all.sort()[0] ?? ''));
    }
    const failed: string[] = [];
    for (const t of targetsOf(dashboard)) {
      const promql = render(t.expr, values);
      // Must parse and evaluate; an error rejects. Data is checked with All above.
      await prom!.query(promql).catch((err: unknown) => failed.push(`${t.name}: ${String(err)}`));
    }
    expect(failed).toEqual([]);
  });
});

function escapeRegex(v: string): string {
  return v.replace(/[.*+?^${}()|[\]\\]/g, '\\\\$&');
}

/** An instant query evaluated at `time` (Unix seconds), so that two queries see the same data. */
async function queryAt(
  promql: string,
  time: number,
): Promise<{ metric: Record<string, string>; value: number }[]> {
  const res = await fetch(
    `${prom!.url}/api/v1/query?query=${encodeURIComponent(promql)}&time=${time.toFixed(3)}`,
  );
  const body = (await res.json()) as {
    status: string;
    error?: string;
    data: { result: { metric: Record<string, string>; value: [number, string] }[] };
  };
  if (body.status !== 'success') throw new Error(`${promql}: ${body.error ?? res.statusText}`);
  return body.data.result.map((r) => ({ metric: r.metric, value: Number(r.value[1]) }));
}

/** The value of the one series `promql` returns. */
async function one(promql: string): Promise<number> {
  const s = await prom!.query(promql);
  if (s.length !== 1) throw new Error(`${promql}: ${s.length} series`);
  return s[0]?.value ?? NaN;
}

/** The expression of the panel `title` (first target) of `file`, rendered with every variable on All. */
function panelExpr(file: string, title: string, refId = 'A'): string {
  const d = dashboards.find((x) => x.file === file)?.dashboard;
  const p = d === undefined ? undefined : panelsOf(d.panels).find((x) => x.title === title);
  const t = p?.targets?.find((x) => x.refId === refId);
  if (d === undefined || t?.expr === undefined) throw new Error(`${file}: no panel ${title} [${refId}]`);
  return render(t.expr, allValues(d));
}

describe('what the panels show', () => {
  it('shows port traffic in bits per second of what the NIC moved (sysfs counts 4-byte units)', async () => {
    const sel = `rdmasched_agent_port_transmit_bytes_total{node="${DP_NODE}", pf="${DP_IB_PF}"}`;
    const before = await one(sel);
    // 40,000,000 bytes: the simulated kernel adds 10,000,000 to port_xmit_data (4-byte units).
    expect(
      dpHost!.addTraffic(DP_IB_PF, { xmitBytes: 4e7, rcvBytes: 0, xmitPackets: 10_000, rcvPackets: 0 }),
    ).toBe(true);
    const after = await until('the next scrape of the port counter', async () => {
      const v = await one(sel);
      return v !== before ? v : undefined;
    });
    expect(after - before).toBe(4e7);
    // The bandwidth panel: bits per second, so 8 x the bytes' rate (both read at one instant).
    const at = Date.now() / 1000;
    const panel = (
      await queryAt(panelExpr('rdmasched-rdma-ports.json', 'Transmit bandwidth per PF'), at)
    ).find((s) => s.metric['node'] === DP_NODE && s.metric['pf'] === DP_IB_PF);
    const bytesRate = (await queryAt(`rate(${sel}[30s])`, at))[0]?.value ?? 0;
    expect(bytesRate).toBeGreaterThan(0);
    expect(panel?.value).toBeCloseTo(8 * bytesRate, 3);
  });

  it('counts what the traffic did: binds, invalid pods, quota denials, preemption, provisioning failures, allocations', async () => {
    const sum = async (promql: string) => (await prom!.query(promql)).reduce((a, s) => a + s.value, 0);
    expect(await sum('sum(rdmasched_extender_binds_total{result="bound"})')).toBeGreaterThan(0);
    expect(await sum('sum(rdmasched_extender_invalid_pod_requests_total{verb="filter"})')).toBeGreaterThan(0);
    expect(
      await sum('sum(rdmasched_extender_tenant_filter_total{outcome="denied", reason="QUOTA_EXCEEDED"})'),
    ).toBeGreaterThan(0);
    expect(await sum('sum(rdmasched_extender_preempt_nodes_total{result="dropped"})')).toBeGreaterThan(0);
    expect(
      await sum(`sum(rdmasched_agent_provision_failures_total{node="${DP_NODE}", code="UNKNOWN_PF"})`),
    ).toBeGreaterThan(0);
    expect(
      await sum(
        `sum(rdmasched_agent_device_plugin_allocations_total{node="${DP_NODE}", resource="${VF_RESOURCE.ib}"})`,
      ),
    ).toBeGreaterThan(0);
    // Free VFs by link type: every free VF of the agents, split by the link type of its PF.
    const at = Date.now() / 1000;
    const byLink = await queryAt(panelExpr('rdmasched-overview.json', 'Free ready VFs by link type'), at);
    expect(byLink.map((s) => s.metric['link_type']).sort()).toEqual(['ib', 'roce']);
    const free = (await queryAt('sum(rdmasched_agent_vfs{state="free"})', at))[0]?.value;
    expect(free).toBeGreaterThan(0);
    expect(byLink.reduce((a, s) => a + s.value, 0)).toBe(free);
  });
});

describe('the alert rules against the scraped series', () => {
  const rules = (
    parseYaml(readFileSync(rulesFile, 'utf8')) as { groups: { rules: { alert: string; expr: string }[] }[] }
  ).groups.flatMap((g) => g.rules);

  it('name only metrics and labels the extender and agents export', async () => {
    // Names with series, and names the targets declare (# HELP/# TYPE) without a series yet:
    // a labelled counter appears at its first increment (publish errors, reconcile repairs).
    const withSeries = new Set(
      ((await (await fetch(`${prom!.url}/api/v1/label/__name__/values`)).json()) as { data: string[] }).data,
    );
    const declared = new Set(
      Object.keys(
        ((await (await fetch(`${prom!.url}/api/v1/metadata`)).json()) as { data: Record<string, unknown> })
          .data,
      ),
    );
    const labelsOf = new Map<string, Set<string>>();
    const labelNames = async (metric: string) => {
      let set = labelsOf.get(metric);
      if (set === undefined) {
        const res = (await (
          await fetch(`${prom!.url}/api/v1/series?match[]=${encodeURIComponent(metric)}`)
        ).json()) as { data: Record<string, string>[] };
        set = new Set(res.data.flatMap((s) => Object.keys(s)));
        labelsOf.set(metric, set);
      }
      return set;
    };
    const problems: string[] = [];
    const unseen: string[] = [];
    for (const r of rules) {
      const selectors = [...r.expr.matchAll(/\b(up|rdmasched_[a-z0-9_]+)\s*(\{([^}]*)\})?/g)];
      expect(selectors.length, r.alert).toBeGreaterThan(0);
      const labels = new Set<string>();
      for (const [, metric = '', , matchers = ''] of selectors) {
        if (!withSeries.has(metric)) {
          if (!declared.has(metric)) problems.push(`${r.alert}: no metric named ${metric}`);
          unseen.push(`${r.alert}: ${metric}`);
          continue;
        }
        const have = await labelNames(metric);
        for (const l of have) labels.add(l);
        for (const [, label = ''] of matchers.matchAll(/([a-zA-Z_][a-zA-Z0-9_]*)\s*(=~|!~|!=|=)/g))
          if (!have.has(label)) problems.push(`${r.alert}: ${metric} has no label ${label}`);
      }
      // Labels of by (...) clauses: on some series of the expression (le is the histograms').
      if (unseen.some((u) => u.startsWith(`${r.alert}: `))) continue;
      for (const [, list = ''] of r.expr.matchAll(/\bby\s*\(([^)]*)\)/g))
        for (const label of list.split(',').map((x) => x.trim()))
          if (label !== '' && !labels.has(label)) problems.push(`${r.alert}: by (${label}) on no series`);
      // up{job=...}: the scrape jobs the ServiceMonitor and PodMonitor name.
      if (r.expr.includes('up{'))
        expect((await prom!.query(r.expr.replace(/ == 0$/, ''))).length, r.alert).toBeGreaterThan(0);
    }
    expect(problems).toEqual([]);
    // Declared but without a series in this run (labels unchecked here; promtool tests the rules).
    expect(unseen.length).toBeLessThanOrEqual(2);
  });

  it('evaluate, fire on what the traffic provoked, and stay quiet on what must hold', async () => {
    const results = new Map<string, Record<string, string>[]>();
    for (const r of rules)
      results.set(
        r.alert,
        (await prom!.query(r.expr)).map((s) => s.metric),
      );
    // Provoked: the request for a PF the daemon's node does not have.
    expect(results.get('RdmaschedProvisioningFailing')).toContainEqual(
      expect.objectContaining({ node: DP_NODE, code: 'UNKNOWN_PF' }),
    );
    // Must hold while everything runs (instant conditions; `for:` is promtool's to test).
    for (const alert of [
      'RdmaschedAgentDown',
      'RdmaschedExtenderDown',
      'RdmaschedExtenderNotReady',
      'RdmaschedNoLeader',
      'RdmaschedAgentReportStale',
      'RdmaschedGuardRefusal',
      'RdmaschedGuidPoolExhausted',
      'RdmaschedAgentHeartbeatMissing',
      'RdmaschedDevicePluginReconcileFailing',
    ])
      expect(results.get(alert), alert).toEqual([]);
  });
});

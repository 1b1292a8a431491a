/**
 * deploy/monitoring and deploy/overlays/monitoring: the Prometheus Operator objects select what
 * the base really deploys (labels, port names, namespace), the PrometheusRule carries exactly the
 * groups of rules/rdmasched.rules.yaml, promtool accepts those rules and their unit tests
 * (rules/rdmasched.rules.test.yaml) pass, and the dashboards reach Grafana's sidecar as labelled
 * ConfigMaps holding the JSON files unchanged. The dashboards' queries are checked against a
 * real Prometheus by dashboards/test/dashboards.e2e.test.ts.
 */
import { execFile } from 'node:child_process';
import { readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';
import { parse as parseYaml } from 'yaml';
import { ensureExecutable } from '@rdmasched/testkit';
import { build, type K8sObject } from './kustomize.js';

const execFileAsync = promisify(execFile);
const deployDir = fileURLToPath(new URL('..', import.meta.url));
const rulesDir = join(deployDir, 'monitoring', 'rules');
const dashboardsDir = fileURLToPath(new URL('../../dashboards', import.meta.url));

const objects = build(join(deployDir, 'overlays', 'monitoring'));

function only(kind: string, name?: string): K8sObject {
  const found = objects.filter((o) => o.kind === kind && (name === undefined || o.metadata.name === name));
  if (found.length !== 1) throw new Error(`expected one ${kind} ${name ?? ''}, rendered ${found.length}`);
  return found[0] as K8sObject;
}

interface Selector {
  matchLabels: Record<string, string>;
}
interface PodTemplate {
  spec: {
    template: {
      metadata: { labels: Record<string, string> };
      spec: { containers: { ports?: { name?: string }[] }[] };
    };
  };
}

function matches(selector: Selector, labels: Record<string, string> | undefined): boolean {
  return Object.entries(selector.matchLabels).every(([k, v]) => labels?.[k] === v);
}

describe('deploy/overlays/monitoring', () => {
  it('scrapes the extender Service on a port it has, with the namespace and TLS name it lives under', () => {
    const sm = only('ServiceMonitor', 'rdmasched-extender') as K8sObject & {
      spec: {
        jobLabel: string;
        namespaceSelector: { matchNames: string[] };
        selector: Selector;
        endpoints: { port: string; scheme: string; tlsConfig: { serverName: string } }[];
      };
    };
    const svc = only('Service', 'rdmasched-extender') as K8sObject & {
      spec: { ports: { name: string }[] };
    };
    expect(matches(sm.spec.selector, svc.metadata.labels)).toBe(true);
    expect(sm.spec.namespaceSelector.matchNames).toEqual([svc.metadata.namespace]);
    // The job label the alert rules expect: up{job="rdmasched-extender"}.
    expect(svc.metadata.labels?.[sm.spec.jobLabel]).toBe('rdmasched-extender');
    for (const e of sm.spec.endpoints) {
      expect(svc.spec.ports.map((p) => p.name)).toContain(e.port);
      expect(e.scheme).toBe('https');
      expect(e.tlsConfig.serverName).toBe(`rdmasched-extender.${svc.metadata.namespace ?? ''}.svc`);
    }
  });

  it('scrapes every node agent pod on its metrics port, and labels the series with the node', () => {
    const pm = only('PodMonitor', 'rdmasched-node-agent') as K8sObject & {
      spec: {
        jobLabel: string;
        namespaceSelector: { matchNames: string[] };
        selector: Selector;
        podMetricsEndpoints: {
          port: string;
          relabelings: { sourceLabels: string[]; targetLabel: string }[];
        }[];
      };
    };
    const ds = only('DaemonSet', 'rdmasched-node-agent') as K8sObject & PodTemplate;
    const labels = ds.spec.template.metadata.labels;
    expect(matches(pm.spec.selector, labels)).toBe(true);
    expect(pm.spec.namespaceSelector.matchNames).toEqual([ds.metadata.namespace]);
    expect(labels[pm.spec.jobLabel]).toBe('rdmasched-node-agent');
    const ports = ds.spec.template.spec.containers.flatMap((c) => c.ports ?? []).map((p) => p.name);
    for (const e of pm.spec.podMetricsEndpoints) {
      expect(ports).toContain(e.port);
      expect(e.relabelings).toContainEqual(
        expect.objectContaining({ sourceLabels: ['__meta_kubernetes_pod_node_name'], targetLabel: 'node' }),
      );
    }
  });

  it('ships every dashboard JSON unchanged as a ConfigMap for the Grafana sidecar', () => {
    const files = readdirSync(dashboardsDir).filter((f) => f.endsWith('.json'));
    expect(files.length).toBeGreaterThanOrEqual(3);
    const maps = objects.filter((o) => o.kind === 'ConfigMap' && o.metadata.labels?.['grafana_dashboard']);
    const shipped = new Map<string, string>();
    for (const m of maps) {
      expect(m.metadata.labels?.['grafana_dashboard']).toBe('1');
      expect(m.metadata.namespace).toBe('rdmasched-system');
      for (const [key, value] of Object.entries(m['data'] as Record<string, string>)) {
        shipped.set(key, value);
        // Client-side `kubectl apply` keeps a copy in an annotation limited to 256 KiB.
        expect(Buffer.byteLength(value), key).toBeLessThan(256 * 1024);
      }
    }
    expect([...shipped.keys()].sort()).toEqual([...files].sort());
    for (const f of files) expect(shipped.get(f)).toBe(readFileSync(join(dashboardsDir, f), 'utf8'));
  });

  it('embeds exactly the groups of rules/rdmasched.rules.yaml in the PrometheusRule', () => {
    const rule = only('PrometheusRule', 'rdmasched') as K8sObject & { spec: { groups: unknown } };
    const plain = parseYaml(readFileSync(join(rulesDir, 'rdmasched.rules.yaml'), 'utf8')) as {
      groups: { rules: unknown[] }[];
    };
    expect(plain.groups.flatMap((g) => g.rules).length).toBeGreaterThan(10);
    expect(rule.spec.groups).toEqual(plain.groups);
    expect(rule.metadata.namespace).toBe('rdmasched-system');
  });
});

describe('deploy/monitoring/rules with promtool', () => {
  // promtool comes with Debian's prometheus package, which the end-to-end tests install anyway.
  const promtool = async () =>
    ensureExecutable({ executable: 'promtool', debianPackage: 'prometheus' }).catch((err: unknown) => {
      throw new Error(
        `promtool is missing and could not be installed, so the alert rules are NOT checked: ${String(err)}`,
      );
    });

  it('promtool check rules accepts the rules', async () => {
    const { stdout } = await execFileAsync(await promtool(), ['check', 'rules', 'rdmasched.rules.yaml'], {
      cwd: rulesDir,
    });
    expect(stdout).toMatch(/SUCCESS: \d+ rules found/);
  });

  it('promtool test rules: every alert fires when it should, and healthy series fire nothing', async () => {
    const { stdout } = await execFileAsync(await promtool(), ['test', 'rules', 'rdmasched.rules.test.yaml'], {
      cwd: rulesDir,
    });
    expect(stdout).toMatch(/SUCCESS/);
  }, 60_000);

  it('has a unit test that fires every alert and one that keeps it quiet', () => {
    const rules = parseYaml(readFileSync(join(rulesDir, 'rdmasched.rules.yaml'), 'utf8')) as {
      groups: { rules: { alert?: string }[] }[];
    };
    const tests = parseYaml(readFileSync(join(rulesDir, 'rdmasched.rules.test.yaml'), 'utf8')) as {
      tests: { alert_rule_test?: { alertname: string; exp_alerts: unknown[] }[] }[];
    };
    const cases = tests.tests.flatMap((t) => t.alert_rule_test ?? []);
    for (const alert of rules.groups.flatMap((g) => g.rules).map((r) => r.alert ?? '')) {
      expect(
        cases.some((c) => c.alertname === alert && c.exp_alerts.length > 0),
        `${alert} fires`,
      ).toBe(true);
      expect(
        cases.some((c) => c.alertname === alert && c.exp_alerts.length === 0),
        `${alert} stays quiet`,
      ).toBe(true);
    }
  });
});

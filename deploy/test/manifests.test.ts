/**
 * deploy/ is part of the product: these tests render every kustomization offline and check what
 * `kubectl apply` and the running services would: Kubernetes schemas, that every setting the
 * manifests give a service is one it knows and parses, that the scheduler configuration really
 * reaches the extender's routes, least-privilege RBAC, probes on served paths.
 */
import { existsSync, mkdtempSync, readdirSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { fileURLToPath } from 'node:url';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { parse as parseYaml } from 'yaml';
import { ClusterRole } from 'kubernetes-models/rbac.authorization.k8s.io/v1/ClusterRole';
import { ClusterRoleBinding } from 'kubernetes-models/rbac.authorization.k8s.io/v1/ClusterRoleBinding';
import { Role } from 'kubernetes-models/rbac.authorization.k8s.io/v1/Role';
import { RoleBinding } from 'kubernetes-models/rbac.authorization.k8s.io/v1/RoleBinding';
import { Deployment } from 'kubernetes-models/apps/v1/Deployment';
import { DaemonSet } from 'kubernetes-models/apps/v1/DaemonSet';
import { StatefulSet } from 'kubernetes-models/apps/v1/StatefulSet';
import { Service } from 'kubernetes-models/v1/Service';
import { ServiceAccount } from 'kubernetes-models/v1/ServiceAccount';
import { ConfigMap } from 'kubernetes-models/v1/ConfigMap';
import { Namespace } from 'kubernetes-models/v1/Namespace';
import { PodDisruptionBudget } from 'kubernetes-models/policy/v1/PodDisruptionBudget';
import { CustomResourceDefinition } from 'kubernetes-models/apiextensions.k8s.io/v1/CustomResourceDefinition';
import { VF_RESOURCE } from '@rdmasched/contracts';
import {
  parseConfig as parseExtenderConfig,
  SETTINGS,
  createEmbeddedExtender,
} from '@rdmasched/scheduler-extender';
import { parseConfig as parseAgentConfig, CONFIG_FIELDS } from '@rdmasched/node-agent/config';
import { build, type K8sObject } from './kustomize.js';

const deployDir = fileURLToPath(new URL('..', import.meta.url));
const overlays = readdirSync(join(deployDir, 'overlays')).filter((d) =>
  existsSync(join(deployDir, 'overlays', d, 'kustomization.yaml')),
);
const targets = ['base', ...overlays.map((o) => `overlays/${o}`)];

const MODELS: Readonly<Record<string, new (data: never) => { validate(): void }>> = {
  'apps/v1/Deployment': Deployment,
  'apps/v1/DaemonSet': DaemonSet,
  'apps/v1/StatefulSet': StatefulSet,
  'v1/Service': Service,
  'v1/ServiceAccount': ServiceAccount,
  'v1/ConfigMap': ConfigMap,
  'v1/Namespace': Namespace,
  'policy/v1/PodDisruptionBudget': PodDisruptionBudget,
  'rbac.authorization.k8s.io/v1/ClusterRole': ClusterRole,
  'rbac.authorization.k8s.io/v1/ClusterRoleBinding': ClusterRoleBinding,
  'rbac.authorization.k8s.io/v1/Role': Role,
  'rbac.authorization.k8s.io/v1/RoleBinding': RoleBinding,
  'apiextensions.k8s.io/v1/CustomResourceDefinition': CustomResourceDefinition,
};
/** Kinds of operators that may be absent from a cluster; checked by their own tests. */
const OPERATOR_KINDS = new Set([
  'monitoring.coreos.com/v1/ServiceMonitor',
  'monitoring.coreos.com/v1/PodMonitor',
  'monitoring.coreos.com/v1/PrometheusRule',
]);

interface Container {
  name: string;
  env?: { name: string; value?: string; valueFrom?: unknown }[];
  ports?: { name?: string; containerPort: number }[];
  readinessProbe?: { httpGet?: { path: string; port: string | number } };
  livenessProbe?: { httpGet?: { path: string; port: string | number } };
}

function find(objects: K8sObject[], kind: string, name: string): K8sObject {
  const o = objects.find((x) => x.kind === kind && x.metadata.name === name);
  if (o === undefined) throw new Error(`${kind}/${name} not rendered`);
  return o;
}

function containerOf(o: K8sObject): Container {
  const spec = o['spec'] as { template: { spec: { containers: Container[] } } };
  const c = spec.template.spec.containers[0];
  if (c === undefined) throw new Error(`${o.metadata.name} has no container`);
  return c;
}

// Mounted Secrets the services read at start (passwords, certificates): stand-ins on disk.
const secretDir = mkdtempSync(join(tmpdir(), 'rdmasched-deploy-'));
const sampleSecret = join(secretDir, 'secret');
writeFileSync(sampleSecret, 'sample-secret\n');

/**
 * The container's env as the process would see it: downward-API values get a sample node name,
 * and files under the Secret mounts (`/etc/rdmasched/...`) point at a sample file.
 */
function envOf(c: Container): Record<string, string> {
  const env: Record<string, string> = {};
  for (const e of c.env ?? []) {
    const v = e.value ?? 'node-1';
    env[e.name] = v.startsWith('/etc/rdmasched/') ? sampleSecret : v;
  }
  return env;
}

describe.each(targets)('deploy/%s', (target) => {
  const objects = build(join(deployDir, target));

  it('renders objects that the Kubernetes schemas accept', () => {
    expect(objects.length).toBeGreaterThan(10);
    const problems: string[] = [];
    for (const o of objects) {
      const key = `${o.apiVersion}/${o.kind}`;
      if (OPERATOR_KINDS.has(key)) continue;
      const Model = MODELS[key];
      if (Model === undefined) {
        problems.push(`${key} ${o.metadata.name}: no schema in this test`);
        continue;
      }
      try {
        new Model(o as never).validate();
      } catch (err: unknown) {
        problems.push(`${key} ${o.metadata.name}: ${err instanceof Error ? err.message : String(err)}`);
      }
    }
    expect(problems).toEqual([]);
  });

  it('gives the extender only settings it knows, and they parse', () => {
    const c = containerOf(find(objects, 'Deployment', 'rdmasched-extender'));
    const env = envOf(c);
    const known = new Set<string>(Object.values(SETTINGS).map((s) => s.env));
    expect(Object.keys(env).filter((k) => !known.has(k))).toEqual([]);
    expect(() => parseExtenderConfig([], env)).not.toThrow();
  });

  it('gives the node agent only settings it knows, and they parse', () => {
    const c = containerOf(find(objects, 'DaemonSet', 'rdmasched-node-agent'));
    const env = envOf(c);
    const known = new Set<string>(CONFIG_FIELDS.map((f) => f[0]));
    expect(Object.keys(env).filter((k) => !known.has(k))).toEqual([]);
    expect(() => parseAgentConfig(env)).not.toThrow();
  });

  it('wires kube-scheduler to the extender routes that exist, with the VF resources managed', async () => {
    const cm = find(objects, 'ConfigMap', 'rdma-scheduler-config') as K8sObject & {
      data: Record<string, string>;
    };
    const cfg = parseYaml(cm.data['scheduler-config.yaml'] ?? '') as {
      profiles: { schedulerName: string }[];
      extenders: {
        urlPrefix: string;
        filterVerb: string;
        prioritizeVerb: string;
        bindVerb: string;
        preemptVerb: string;
        nodeCacheCapable: boolean;
        httpTimeout: string;
        managedResources: { name: string; ignoredByScheduler: boolean }[];
      }[];
    };
    expect(cfg.profiles.map((p) => p.schedulerName)).toEqual(['rdma-scheduler']);
    expect(cfg.extenders).toHaveLength(1);
    const ext = cfg.extenders[0]!;
    expect(ext.nodeCacheCapable).toBe(true);
    expect(ext.managedResources).toEqual(
      Object.values(VF_RESOURCE).map((name) => ({ name, ignoredByScheduler: true })),
    );

    // The URL names the extender's Service and port, and the path its URL prefix.
    const url = new URL(ext.urlPrefix);
    const svc = find(objects, 'Service', 'rdmasched-extender') as K8sObject & {
      spec: { ports: { port: number }[] };
    };
    expect(url.hostname).toBe(`rdmasched-extender.${svc.metadata.namespace ?? ''}.svc`);
    expect(svc.spec.ports.map((p) => p.port)).toContain(Number(url.port));
    const env = envOf(containerOf(find(objects, 'Deployment', 'rdmasched-extender')));
    expect(url.pathname).toBe(env['RDMASCHED_URL_PREFIX']);
    expect(url.protocol).toBe(env['RDMASCHED_TLS_CERT_FILE'] === undefined ? 'http:' : 'https:');
    expect(url.port).toBe(env['RDMASCHED_LISTEN_PORT']);

    // Bind waits for on-demand VFs: its budget must end well before kube-scheduler gives up.
    const timeoutMs = Number(/^(\d+)s$/.exec(ext.httpTimeout)?.[1]) * 1000;
    const budgetMs = parseExtenderConfig([], env).tenancy.bindProvisionTimeoutMs;
    expect(budgetMs + 2000).toBeLessThanOrEqual(timeoutMs);

    // Every verb answers on the real app (anything but 404 means the route exists).
    const { app } = createEmbeddedExtender({ app: { urlPrefix: url.pathname } });
    try {
      for (const verb of [ext.filterVerb, ext.prioritizeVerb, ext.bindVerb, ext.preemptVerb]) {
        const res = await app.inject({ method: 'POST', url: `${url.pathname}/${verb}`, payload: {} });
        expect(res.statusCode, `${verb}`).not.toBe(404);
      }
      for (const c of [containerOf(find(objects, 'Deployment', 'rdmasched-extender'))]) {
        for (const probe of [c.readinessProbe, c.livenessProbe]) {
          const res = await app.inject({ method: 'GET', url: probe?.httpGet?.path ?? '/missing' });
          expect(res.statusCode, probe?.httpGet?.path).not.toBe(404);
        }
      }
    } finally {
      await app.close();
    }
  });

  it('grants least privilege: no wildcards, no Secrets, only what the services call', () => {
    const roles = objects.filter((o) => o.kind === 'ClusterRole' || o.kind === 'Role') as (K8sObject & {
      rules: { apiGroups: string[]; resources: string[]; verbs: string[] }[];
    })[];
    for (const r of roles) {
      for (const rule of r.rules) {
        expect(rule.verbs, r.metadata.name).not.toContain('*');
        expect(rule.resources, r.metadata.name).not.toContain('*');
        expect(rule.resources, r.metadata.name).not.toContain('secrets');
      }
    }
    const grants = (name: string) =>
      (
        find(objects, 'ClusterRole', name) as K8sObject & {
          rules: { resources: string[]; verbs: string[] }[];
        }
      ).rules.flatMap((rule) => rule.resources.flatMap((res) => rule.verbs.map((v) => `${res}:${v}`)));
    expect(grants('rdmasched-extender')).toEqual(
      expect.arrayContaining([
        'pods/binding:create',
        'pods:patch',
        'pods:watch',
        'namespaces:watch',
        'rdmatenants:watch',
        'rdmatenants/status:update',
      ]),
    );
    expect(grants('rdmasched-node-agent')).toEqual(
      expect.arrayContaining(['nodes:watch', 'rdmanodepolicies:watch', 'rdmanodepolicies/status:update']),
    );
    expect(grants('rdmasched-node-agent')).not.toContain('pods/binding:create');
  });

  it('probes the agent on the port it serves', () => {
    const c = containerOf(find(objects, 'DaemonSet', 'rdmasched-node-agent'));
    const port = Number(envOf(c)['RDMASCHED_HTTP_PORT']);
    expect(c.ports?.find((p) => p.name === c.readinessProbe?.httpGet?.port)?.containerPort).toBe(port);
    expect(c.readinessProbe?.httpGet?.path).toBe('/readyz');
    expect(c.livenessProbe?.httpGet?.path).toBe('/healthz');
  });
});

/**
 * Just enough of kustomize to test deploy/ offline (no kubectl on a fresh machine): resources
 * (files and directories with a kustomization), `namespace`, strategic-merge `patches` (lists of
 * named objects merged by name, `$patch: delete`), and `configMapGenerator` with `files` (and the
 * `labels`/`annotations` of `generatorOptions`).
 * Anything else in a kustomization is an error, so this never silently renders something else
 * than kustomize would.
 */
import { existsSync, readFileSync, statSync } from 'node:fs';
import { basename, join } from 'node:path';
import { parseAllDocuments } from 'yaml';

export type K8sObject = {
  apiVersion: string;
  kind: string;
  metadata: {
    name: string;
    namespace?: string;
    labels?: Record<string, string>;
    annotations?: Record<string, string>;
  };
} & Record<string, unknown>;

const KUSTOMIZATION_FILES = ['kustomization.yaml', 'kustomization.yml', 'Kustomization'];
const KNOWN_FIELDS = new Set([
  'apiVersion',
  'kind',
  'resources',
  'namespace',
  'patches',
  'configMapGenerator',
  'generatorOptions',
]);
const CLUSTER_SCOPED = new Set([
  'Namespace',
  'ClusterRole',
  'ClusterRoleBinding',
  'CustomResourceDefinition',
  'PriorityClass',
]);

export function readYamlObjects(path: string): K8sObject[] {
  const docs = parseAllDocuments(readFileSync(path, 'utf8'));
  const out: K8sObject[] = [];
  for (const d of docs) {
    if (d.errors.length > 0) throw new Error(`${path}: ${d.errors[0]?.message}`);
    const v = d.toJS() as unknown;
    if (v !== null && v !== undefined) out.push(v as K8sObject);
  }
  return out;
}

function kustomizationFile(dir: string): string | undefined {
  return KUSTOMIZATION_FILES.map((f) => join(dir, f)).find((f) => existsSync(f));
}

function isPlainObject(v: unknown): v is Record<string, unknown> {
  return v !== null && typeof v === 'object' && !Array.isArray(v);
}

/** Strategic merge: objects merge key by key, lists of objects with `name` merge by name. */
export function strategicMerge(base: unknown, patch: unknown): unknown {
  if (isPlainObject(base) && isPlainObject(patch)) {
    const out: Record<string, unknown> = { ...base };
    for (const [k, v] of Object.entries(patch)) {
      if (v === null) delete out[k];
      else out[k] = k in base ? strategicMerge(base[k], v) : v;
    }
    return out;
  }
  if (Array.isArray(base) && Array.isArray(patch) && patch.every((p) => isPlainObject(p) && 'name' in p)) {
    const out: unknown[] = [...(base as unknown[])];
    for (const p of patch as Record<string, unknown>[]) {
      const i = out.findIndex((b) => isPlainObject(b) && b['name'] === p['name']);
      if (p['$patch'] === 'delete') {
        if (i >= 0) out.splice(i, 1);
      } else if (i >= 0) out[i] = strategicMerge(out[i], p);
      else out.push(p);
    }
    return out;
  }
  return patch;
}

/** Renders a kustomization directory into objects, like `kubectl kustomize DIR`. */
export function build(dir: string): K8sObject[] {
  const file = kustomizationFile(dir);
  if (file === undefined) throw new Error(`${dir}: no kustomization`);
  const k = readYamlObjects(file)[0] as unknown as Record<string, unknown>;
  for (const key of Object.keys(k))
    if (!KNOWN_FIELDS.has(key))
      throw new Error(`${file}: field ${key} is not supported by the test renderer`);
  let objects: K8sObject[] = [];
  for (const r of (k['resources'] as string[] | undefined) ?? []) {
    const path = join(dir, r);
    objects.push(...(statSync(path).isDirectory() ? build(path) : readYamlObjects(path)));
  }
  const gen = (k['configMapGenerator'] as { name: string; files?: string[] }[] | undefined) ?? [];
  const options = k['generatorOptions'] as
    | {
        disableNameSuffixHash?: boolean;
        labels?: Record<string, string>;
        annotations?: Record<string, string>;
      }
    | undefined;
  for (const key of Object.keys(options ?? {}))
    if (!['disableNameSuffixHash', 'labels', 'annotations'].includes(key))
      throw new Error(`${file}: generatorOptions.${key} is not supported by the test renderer`);
  for (const g of gen) {
    if (options?.disableNameSuffixHash !== true)
      throw new Error(`${file}: configMapGenerator needs generatorOptions.disableNameSuffixHash`);
    const data: Record<string, string> = {};
    for (const f of g.files ?? []) data[basename(f)] = readFileSync(join(dir, f), 'utf8');
    // generatorOptions' labels and annotations go on every generated object, as kustomize does.
    const metadata = {
      name: g.name,
      ...(options.labels === undefined ? {} : { labels: { ...options.labels } }),
      ...(options.annotations === undefined ? {} : { annotations: { ...options.annotations } }),
    };
    objects.push({ apiVersion: 'v1', kind: 'ConfigMap', metadata, data });
  }
  for (const p of (k['patches'] as { path: string }[] | undefined) ?? []) {
    for (const patch of readYamlObjects(join(dir, p.path))) {
      const i = objects.findIndex((o) => o.kind === patch.kind && o.metadata.name === patch.metadata.name);
      if (i < 0) throw new Error(`${file}: patch ${patch.kind}/${patch.metadata.name} matches nothing`);
      if (patch['$patch'] === 'delete') objects.splice(i, 1);
      else objects[i] = strategicMerge(objects[i], patch) as K8sObject;
    }
  }
  const ns = k['namespace'] as string | undefined;
  if (ns !== undefined)
    objects = objects.map((o) =>
      CLUSTER_SCOPED.has(o.kind) ? o : { ...o, metadata: { ...o.metadata, namespace: ns } },
    );
  return objects;
}

// What a kube-apiserver would check when the CRDs are applied (there is none to apply them to
// here): structural schema rules, defaults that validate, RE2-compatible patterns, CEL rules that
// compile, printer columns that point at real fields. Plus the constants in api.ts.
import { Ajv } from 'ajv';
import { describe, expect, it } from 'vitest';
import { compileCelRule } from '../src/cel-rules.js';
import {
  API_GROUP,
  API_VERSION,
  RDMA_NODE_POLICY,
  RDMA_NODE_POLICY_CRD,
  RDMA_TENANT,
  RDMA_TENANT_CRD,
  type CrdSchema,
  type CustomResourceDefinition,
} from '../src/index.js';
import { loadYamlDir } from './load.js';

const CRDS: [string, CustomResourceDefinition, typeof RDMA_TENANT][] = [
  ['RdmaTenant', RDMA_TENANT_CRD, RDMA_TENANT],
  ['RdmaNodePolicy', RDMA_NODE_POLICY_CRD, RDMA_NODE_POLICY],
];

const JUNCTORS = ['anyOf', 'allOf', 'oneOf', 'not'] as const;

/** Structural-schema and hygiene problems of a schema node and everything under it. */
function schemaProblems(node: CrdSchema, path: string): string[] {
  const problems: string[] = [];
  const here = path === '' ? '(root)' : path;
  if (
    node.type === undefined &&
    node['x-kubernetes-preserve-unknown-fields'] !== true &&
    node['x-kubernetes-int-or-string'] !== true
  ) {
    problems.push(`${here}: no type (structural schemas need one on every node)`);
  }
  if (node.properties !== undefined && node.additionalProperties !== undefined) {
    problems.push(`${here}: properties and additionalProperties together are not structural`);
  }
  for (const j of JUNCTORS)
    if (node[j] !== undefined)
      problems.push(`${here}: ${j} is not used by these CRDs; check the structural rules before adding it`);
  if (node.type === 'array') {
    if (node.items === undefined) problems.push(`${here}: array without items`);
    if (node.maxItems === undefined)
      problems.push(`${here}: array without maxItems (CEL cost and object size need a bound)`);
  }
  // apiVersion and kind are checked by the apiserver itself (and by validate.ts).
  const typeMeta = path === '.apiVersion' || path === '.kind';
  if (node.type === 'string' && node.maxLength === undefined && node.enum === undefined && !typeMeta) {
    problems.push(`${here}: string without maxLength or enum`);
  }
  if (node.pattern !== undefined) {
    if (/\(\?[=!<]|\\[1-9]/.test(node.pattern))
      problems.push(`${here}: pattern uses lookaround or backreferences, which the apiserver's RE2 rejects`);
    expect(() => new RegExp(node.pattern as string, 'u')).not.toThrow();
  }
  if (node['x-kubernetes-list-type'] === 'map') {
    const keys = node['x-kubernetes-list-map-keys'] ?? [];
    if (keys.length === 0) problems.push(`${here}: list-type map without list-map-keys`);
    for (const k of keys)
      if (!(node.items?.required ?? []).includes(k)) problems.push(`${here}: map key ${k} must be required`);
  }
  for (const rule of node['x-kubernetes-validations'] ?? []) {
    if (rule.message === undefined) problems.push(`${here}: CEL rule without a message: ${rule.rule}`);
    try {
      compileCelRule(rule.rule);
    } catch (err: unknown) {
      problems.push(`${here}: CEL rule does not compile (${String(err)}): ${rule.rule}`);
    }
  }
  for (const [name, child] of Object.entries(node.properties ?? {}))
    problems.push(...schemaProblems(child, `${path}.${name}`));
  if (node.items !== undefined) problems.push(...schemaProblems(node.items, `${path}[]`));
  if (typeof node.additionalProperties === 'object')
    problems.push(...schemaProblems(node.additionalProperties, `${path}{}`));
  return problems;
}

interface DefaultValue {
  path: string;
  schema: CrdSchema;
  value: unknown;
}

function defaultsOf(node: CrdSchema, path: string): DefaultValue[] {
  const out: DefaultValue[] = node.default === undefined ? [] : [{ path, schema: node, value: node.default }];
  for (const [name, child] of Object.entries(node.properties ?? {}))
    out.push(...defaultsOf(child, `${path}.${name}`));
  if (node.items !== undefined) out.push(...defaultsOf(node.items, `${path}[]`));
  return out;
}

/** The schema node a printer-column jsonPath reads, or undefined. */
function schemaAt(root: CrdSchema, jsonPath: string): CrdSchema | undefined {
  let node: CrdSchema | undefined = root;
  for (const segment of jsonPath
    .replace(/\[\?\(.*?\)\]/g, '')
    .split('.')
    .filter((s) => s !== '')) {
    if (node?.type === 'array') node = node.items;
    node = node?.properties?.[segment];
  }
  return node;
}

describe.each(CRDS)('%s CRD', (kind, crd, names) => {
  const version = crd.spec.versions[0];
  const schema = version?.schema.openAPIV3Schema as CrdSchema;

  it('is the one served and stored version, v1alpha1 of rdmasched.io, with the names api.ts exports', () => {
    expect(crd.spec.versions).toHaveLength(1);
    expect(version).toMatchObject({ name: API_VERSION, served: true, storage: true });
    expect(crd.spec.group).toBe(API_GROUP);
    expect(crd.metadata.name).toBe(`${names.plural}.${API_GROUP}`);
    expect(crd.spec.scope).toBe('Cluster');
    expect(crd.spec.names).toMatchObject({
      kind,
      listKind: names.listKind,
      plural: names.plural,
      singular: names.singular,
    });
    expect(crd.spec.names.shortNames).toEqual(names.shortNames);
  });

  it('has a status subresource and a status field', () => {
    expect(version?.subresources?.status).toEqual({});
    expect(schema.properties?.['status']?.type).toBe('object');
  });

  it('is a structural schema with bounded lists and strings, RE2 patterns and compiling CEL rules', () => {
    expect(schemaProblems(schema, '')).toEqual([]);
  });

  it('restricts metadata only in name, as the apiserver allows', () => {
    const metadata = schema.properties?.['metadata'] as CrdSchema;
    expect(metadata.type).toBe('object');
    expect(
      Object.keys(metadata.properties ?? {}).filter((k) => k !== 'name' && k !== 'generateName'),
    ).toEqual([]);
  });

  it('has defaults that are valid values of their own field', () => {
    const ajv = new Ajv({ strict: false });
    const defaults = defaultsOf(schema, '');
    expect(defaults.length).toBeGreaterThan(0);
    for (const d of defaults) expect(ajv.validate(d.schema, d.value), `default of ${d.path}`).toBe(true);
  });

  it('has printer columns that read existing fields of the declared type', () => {
    for (const col of version?.additionalPrinterColumns ?? []) {
      if (col.jsonPath === '.metadata.creationTimestamp') continue;
      const field = schemaAt(schema, col.jsonPath);
      expect(field, `${col.name}: ${col.jsonPath}`).toBeDefined();
      expect(field?.type, `${col.name}: ${col.jsonPath}`).toBe(col.type);
    }
  });
});

describe('crds/manifests', () => {
  it('holds exactly the two CRDs, identical to the generated data', async () => {
    const docs = await loadYamlDir('manifests');
    expect(docs.map((d) => d.file)).toEqual([
      'rdmanodepolicies.rdmasched.io.yaml',
      'rdmatenants.rdmasched.io.yaml',
    ]);
    expect(docs.map((d) => d.doc)).toEqual([RDMA_NODE_POLICY_CRD, RDMA_TENANT_CRD]);
  });
});

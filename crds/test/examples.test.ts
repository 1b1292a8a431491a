// Every example in crds/examples is a valid CR (strict: no unknown field), and invalid CRs are
// rejected with the field named, as the apiserver would reject them.
import { describe, expect, it } from 'vitest';
import {
  formatFieldError,
  validateRdmaNodePolicy,
  validateRdmaTenant,
  type RdmaNodePolicy,
  type RdmaTenant,
  type ValidationResult,
} from '../src/index.js';
import { loadYamlDir } from './load.js';

function validate(doc: unknown): ValidationResult<RdmaTenant | RdmaNodePolicy> {
  const kind = (doc as { kind?: unknown }).kind;
  return kind === 'RdmaNodePolicy' ? validateRdmaNodePolicy(doc) : validateRdmaTenant(doc);
}

const tenant = (spec: Record<string, unknown>, name = 'team-a'): unknown => ({
  apiVersion: 'rdmasched.io/v1alpha1',
  kind: 'RdmaTenant',
  metadata: { name },
  spec: { namespaces: ['team-a'], ...spec },
});
const policy = (spec: Record<string, unknown>): unknown => ({
  apiVersion: 'rdmasched.io/v1alpha1',
  kind: 'RdmaNodePolicy',
  metadata: { name: 'p' },
  spec: { nodeSelector: {}, ...spec },
});

describe('crds/examples', () => {
  it('has tenants and node policies', async () => {
    const docs = await loadYamlDir('examples');
    const kinds = docs.map((d) => (d.doc as { kind: string }).kind);
    expect(kinds.filter((k) => k === 'RdmaTenant').length).toBeGreaterThanOrEqual(3);
    expect(kinds.filter((k) => k === 'RdmaNodePolicy').length).toBeGreaterThanOrEqual(3);
  });

  it('are all valid, with no unknown field', async () => {
    for (const { file, doc } of await loadYamlDir('examples')) {
      const result = validate(doc);
      expect(result.ok ? 'valid' : result.message, file).toBe('valid');
    }
  });

  it('get the CRD defaults, as the apiserver would store them', async () => {
    const docs = await loadYamlDir('examples');
    const hpc = docs.find((d) => d.file === 'tenant-hpc.yaml')?.doc;
    const result = validateRdmaTenant(hpc);
    expect(result.ok && result.value.spec).toMatchObject({ priority: 0, crossTenantPreemption: 'Never' });
    const lab = docs.find((d) => d.file === 'nodepolicy-lab-pinned.yaml')?.doc;
    const labResult = validateRdmaNodePolicy(lab);
    expect(labResult.ok && labResult.value.spec.priority).toBe(99);
    expect((lab as RdmaNodePolicy).spec.priority, 'the input is not mutated').toBeUndefined();
  });
});

describe('invalid CRs are rejected with the field named', () => {
  it.each([
    ['negative quota', tenant({ quota: { ib: -1 } }), '/spec/quota/ib must be >= 0'],
    ['fractional quota', tenant({ quota: { roce: 1.5 } }), '/spec/quota/roce must be integer'],
    [
      'unknown link type',
      tenant({ allowedLinkTypes: ['ethernet'] }),
      '/spec/allowedLinkTypes/0 must be one of: "ib", "roce"',
    ],
    [
      'no link type',
      tenant({ allowedLinkTypes: [] }),
      '/spec/allowedLinkTypes must NOT have fewer than 1 items',
    ],
    [
      'duplicate link type',
      tenant({ allowedLinkTypes: ['ib', 'ib'] }),
      '/spec/allowedLinkTypes/1 is a duplicate of item 0',
    ],
    ['PKey 0', tenant({ infiniband: { pkey: '0x0000' } }), '/spec/infiniband/pkey is not valid ("0x0000")'],
    [
      'PKey with the membership bit',
      tenant({ infiniband: { pkey: '0x8001' } }),
      '/spec/infiniband/pkey is not valid ("0x8001")',
    ],
    ['PKey above 16 bits', tenant({ infiniband: { pkey: '0x17fff' } }), '/spec/infiniband/pkey'],
    ['PKey as a number', tenant({ infiniband: { pkey: 4660 } }), '/spec/infiniband/pkey must be string'],
    ['VLAN 0', tenant({ roce: { vlan: 0 } }), '/spec/roce/vlan must be >= 1'],
    ['VLAN 4095', tenant({ roce: { vlan: 4095 } }), '/spec/roce/vlan must be <= 4094'],
    ['priority above 1000', tenant({ priority: 1001 }), '/spec/priority must be <= 1000'],
    [
      'unknown preemption policy',
      tenant({ crossTenantPreemption: 'Sometimes' }),
      '/spec/crossTenantPreemption must be one of',
    ],
    ['misspelt field', tenant({ qouta: { ib: 1 } }), '/spec/qouta is not a known field'],
    ['no namespaces at all', tenant({ namespaces: [] }), '/spec the tenant owns no namespace'],
    ['bad namespace name', tenant({ namespaces: ['Team_A'] }), '/spec/namespaces/0 is not valid ("Team_A")'],
    [
      'quota for a forbidden link type',
      tenant({ allowedLinkTypes: ['roce'], quota: { ib: 2 } }),
      '/spec/quota/ib quota.ib is above 0 but ib is not in allowedLinkTypes',
    ],
    [
      'IB settings without IB',
      tenant({ allowedLinkTypes: ['roce'], infiniband: { pkey: '0x10' } }),
      '/spec/infiniband infiniband settings are given',
    ],
    [
      'In without values',
      tenant({ namespaceSelector: { matchExpressions: [{ key: 'a', operator: 'In' }] } }),
      '/spec/namespaceSelector/matchExpressions/0/values values must be non-empty',
    ],
    [
      'Exists with values',
      tenant({ namespaceSelector: { matchExpressions: [{ key: 'a', operator: 'Exists', values: ['x'] }] } }),
      '/spec/namespaceSelector/matchExpressions/0/values',
    ],
    [
      'unknown selector operator',
      tenant({ namespaceSelector: { matchExpressions: [{ key: 'a', operator: 'Gt', values: ['1'] }] } }),
      '/spec/namespaceSelector/matchExpressions/0/operator must be one of',
    ],
    [
      'bad label key',
      tenant({ namespaceSelector: { matchLabels: { '-team': 'a' } } }),
      '/spec/namespaceSelector/matchLabels every matchLabels key',
    ],
    ['tenant name not a DNS label', tenant({}, 'team.a'), '/metadata/name must be at most 63 characters'],
    [
      'bad PCI address',
      policy({ nicSelector: { pciAddresses: ['3b:00.0'] } }),
      '/spec/nicSelector/pciAddresses/0 is not valid ("3b:00.0")',
    ],
    [
      'upper-case PCI address',
      policy({ nicSelector: { pciAddresses: ['0000:3B:00.0'] } }),
      '/spec/nicSelector/pciAddresses/0',
    ],
    [
      'PF name too long',
      policy({ nicSelector: { pfNames: ['enp94s0f0np0abcd'] } }),
      '/spec/nicSelector/pfNames/0',
    ],
    [
      'PF name ..',
      policy({ nicSelector: { pfNames: ['..'] } }),
      "/spec/nicSelector/pfNames pfNames may not contain '.' or '..'",
    ],
    [
      'device id without 0x',
      policy({ nicSelector: { deviceIds: ['1021'] } }),
      '/spec/nicSelector/deviceIds/0',
    ],
    ['policy link type', policy({ linkType: 'eth' }), '/spec/linkType must be one of: "ib", "roce"'],
    [
      'warm pool min above max',
      policy({ warmPool: { ib: { minReady: 8, maxReady: 4 } } }),
      '/spec/warmPool/ib/minReady minReady must not be above maxReady',
    ],
    [
      'negative warm pool',
      policy({ warmPool: { roce: { minReady: -1 } } }),
      '/spec/warmPool/roce/minReady must be >= 0',
    ],
    ['MTU too small', policy({ mtu: 576 }), '/spec/mtu must be >= 1280'],
    ['policy priority 100', policy({ priority: 100 }), '/spec/priority must be <= 99'],
    ['maxVfsPerPf 0', policy({ maxVfsPerPf: 0 }), '/spec/maxVfsPerPf must be >= 1'],
    ['no node selector', policy({ nodeSelector: undefined }), '/spec/nodeSelector is required'],
    [
      'namespaced',
      { ...(tenant({}) as object), metadata: { name: 'a', namespace: 'default' } },
      '/metadata/namespace must be empty',
    ],
  ])('%s', (_what, doc, expected) => {
    const result = validate(JSON.parse(JSON.stringify(doc)) as unknown);
    expect(result.ok).toBe(false);
    if (!result.ok) expect(result.errors.map(formatFieldError).join('\n')).toContain(expected);
  });

  it('rejects another kind', () => {
    const result = validateRdmaNodePolicy({ ...(policy({}) as object), kind: 'SriovNetworkNodePolicy' });
    expect(result.ok === false && result.message).toBe('/kind must be RdmaNodePolicy');
  });

  it('prunes unknown fields with a warning when asked to, as the apiserver does by default', () => {
    const result = validateRdmaTenant(tenant({ qouta: { ib: 1 } }), { unknownFields: 'prune' });
    expect(result.ok).toBe(true);
    if (result.ok) {
      expect(result.value.spec).not.toHaveProperty('qouta');
      expect(result.warnings).toEqual(['unknown field "/spec/qouta" was dropped']);
    }
  });

  it('reports every problem at once', () => {
    const result = validateRdmaTenant(tenant({ quota: { ib: -1, roce: -2 }, roce: { vlan: 0 } }));
    expect(result.ok === false && result.errors.map((e) => e.path).sort()).toEqual([
      '/spec/quota/ib',
      '/spec/quota/roce',
      '/spec/roce/vlan',
    ]);
  });
});

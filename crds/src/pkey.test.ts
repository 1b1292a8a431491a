import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { RDMA_TENANT_CRD } from './generated/manifests.js';
import { validateRdmaTenant } from './validate.js';
import { DEFAULT_PARTITION, formatPkey, fullMemberPkey, parsePkey } from './pkey.js';

describe('PKeys', () => {
  it.each([
    ['0x1', 1],
    ['0x0001', 1],
    ['0x7fff', 0x7fff],
    ['0X1A2B', 0x1a2b],
    ['0x0a01', 0x0a01],
  ])('parses %s', (text, value) => {
    expect(parsePkey(text)).toBe(value);
  });

  it.each(['0x0', '0x0000', '0x8000', '0xffff', '0x17fff', '1234', '0x', 'x12', '0x12g'])(
    'rejects %s',
    (text) => {
      expect(parsePkey(text)).toBeUndefined();
    },
  );

  it('formats as sysfs and UFM print, and full membership sets the top bit', () => {
    expect(formatPkey(0x1a)).toBe('0x001a');
    expect(fullMemberPkey(DEFAULT_PARTITION)).toBe(0xffff);
    expect(fullMemberPkey(0x0a01)).toBe(0x8a01);
  });

  it('round-trips every partition', () => {
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 0x7fff }), (n) => {
        expect(parsePkey(formatPkey(n))).toBe(n);
      }),
    );
  });

  it('agrees with the CRD pattern on every 16-bit value and spelling', () => {
    // The CRD cannot call parsePkey: its regular expression must accept exactly the same strings.
    const schema = RDMA_TENANT_CRD.spec.versions[0]?.schema.openAPIV3Schema;
    const pattern = new RegExp(
      schema?.properties?.['spec']?.properties?.['infiniband']?.properties?.['pkey']?.pattern ?? '$^',
    );
    for (let n = 0; n <= 0xfffff; n++) {
      const hex = n.toString(16);
      for (const text of [
        `0x${hex}`,
        `0x${hex.padStart(4, '0')}`,
        `0X${hex.toUpperCase()}`,
        `0x${hex.padStart(5, '0')}`,
      ]) {
        if (pattern.test(text) !== (parsePkey(text) !== undefined))
          expect.fail(`CRD pattern and parsePkey disagree on ${text}`);
      }
    }
  });

  it('is enforced by the validator', () => {
    const withPkey = (pkey: string) =>
      validateRdmaTenant({
        apiVersion: 'rdmasched.io/v1alpha1',
        kind: 'RdmaTenant',
        metadata: { name: 't' },
        spec: { namespaces: ['t'], infiniband: { pkey } },
      }).ok;
    expect(withPkey('0x7fff')).toBe(true);
    expect(withPkey('0x8000')).toBe(false);
  });
});

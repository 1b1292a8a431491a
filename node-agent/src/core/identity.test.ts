import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { guidAt, guidLimbs, macFromIdentity, validateGuidRange } from './identity.js';

describe('pool identities (docs/adr/0020)', () => {
  it('counts GUIDs from the range start', () => {
    expect(guidAt('02:00:00:00:00:00:00:00', 0n)).toBe('02:00:00:00:00:00:00:00');
    expect(guidAt('02:00:00:00:00:00:00:00', 257n)).toBe('02:00:00:00:00:00:01:01');
    expect(guidAt('02:00:00:00:00:00:ff:ff', 1n)).toBe('02:00:00:00:00:01:00:00');
  });
  it('derives a locally administered unicast MAC from the low 40 bits', () => {
    expect(macFromIdentity('02:00:00:00:00:00:01:01')).toBe('02:00:00:00:01:01');
    expect(macFromIdentity('02:00:00:12:34:56:78:9a')).toBe('02:12:34:56:78:9a');
  });
  it('distinct identities of one 2^40 range give distinct MACs', () => {
    fc.assert(
      fc.property(
        fc.bigInt({ min: 0n, max: 2n ** 40n - 1n }),
        fc.bigInt({ min: 0n, max: 2n ** 40n - 1n }),
        (a, b) => {
          fc.pre(a !== b);
          const start = '02:00:00:00:00:00:00:00';
          expect(macFromIdentity(guidAt(start, a))).not.toBe(macFromIdentity(guidAt(start, b)));
        },
      ),
    );
  });
  it('splits into 16-bit limbs for Lua', () => {
    expect(guidLimbs('01:02:03:04:05:06:07:08')).toEqual([0x0102, 0x0304, 0x0506, 0x0708]);
  });
  it('validates a range', () => {
    expect(validateGuidRange('02:00:00:00:00:00:00:00', 2n ** 40n)).toEqual([]);
    expect(validateGuidRange('02:00', 10n)).toHaveLength(1);
    expect(validateGuidRange('02:00:00:00:00:00:00:00', 2n ** 41n)[0]).toMatch(/2\^40/);
    expect(validateGuidRange('ff:ff:ff:ff:ff:ff:ff:f0', 100n)[0]).toMatch(/wraps/);
  });
});

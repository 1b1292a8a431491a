// The query-parameter selector parser agrees with the structured selectors of @rdmasched/crds:
// what labelSelectorToString writes, the fake apiserver reads back with the same meaning.
import { labelSelectorToString, matchesLabelSelector, type LabelSelector } from '@rdmasched/crds';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { parseFieldSelector, parseLabelSelector } from '../../src/fake-kube/index.js';

const key = fc.constantFrom('a', 'b', 'team', 'rdmasched.io/tenant');
const value = fc.constantFrom('1', '2', 'x-y', 'z.w');
const requirement = fc.oneof(
  fc.record({
    key,
    operator: fc.constantFrom('In' as const, 'NotIn' as const),
    values: fc.uniqueArray(value, { minLength: 1, maxLength: 3 }),
  }),
  fc.record({ key, operator: fc.constantFrom('Exists' as const, 'DoesNotExist' as const) }),
);
const selector: fc.Arbitrary<LabelSelector> = fc.record(
  {
    matchLabels: fc.dictionary(key, value, { maxKeys: 2 }),
    matchExpressions: fc.array(requirement, { maxLength: 3 }),
  },
  { requiredKeys: [] },
);

describe('fake apiserver selectors', () => {
  it('parse what labelSelectorToString writes, with the same meaning', () => {
    fc.assert(
      fc.property(selector, fc.dictionary(key, value), (sel, labels) => {
        const parsed = parseLabelSelector(labelSelectorToString(sel));
        expect(matchesLabelSelector(parsed, labels)).toBe(matchesLabelSelector(sel, labels));
      }),
    );
  });

  it.each(['a in ()', 'a in (x', '=x', 'a>1', 'a,,=b'])('rejects %s with 400', (text) => {
    expect(() => parseLabelSelector(text)).toThrow(expect.objectContaining({ code: 400 }) as Error);
  });

  it('parses field selectors, including empty values', () => {
    expect(parseFieldSelector('spec.nodeName=,status.phase!=Failed,metadata.name==p')).toEqual([
      { field: 'spec.nodeName', op: '=', value: '' },
      { field: 'status.phase', op: '!=', value: 'Failed' },
      { field: 'metadata.name', op: '=', value: 'p' },
    ]);
  });
});

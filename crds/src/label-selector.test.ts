import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { LabelSelector } from './generated/types.js';
import { labelSelectorToString, matchesLabelSelector } from './label-selector.js';

const labels = { team: 'storage', env: 'prod', 'rdmasched.io/tenant': 'hpc' };

describe('matchesLabelSelector', () => {
  it.each<[string, LabelSelector | undefined, boolean]>([
    ['absent selector matches nothing', undefined, false],
    ['empty selector matches everything', {}, true],
    ['matchLabels all present', { matchLabels: { team: 'storage', env: 'prod' } }, true],
    ['matchLabels one differs', { matchLabels: { team: 'storage', env: 'dev' } }, false],
    ['matchLabels missing key', { matchLabels: { zone: 'a' } }, false],
    ['In hit', { matchExpressions: [{ key: 'env', operator: 'In', values: ['dev', 'prod'] }] }, true],
    ['In miss', { matchExpressions: [{ key: 'env', operator: 'In', values: ['dev'] }] }, false],
    ['In on absent key', { matchExpressions: [{ key: 'zone', operator: 'In', values: ['a'] }] }, false],
    ['In without values matches nothing', { matchExpressions: [{ key: 'env', operator: 'In' }] }, false],
    ['NotIn hit', { matchExpressions: [{ key: 'env', operator: 'NotIn', values: ['dev'] }] }, true],
    ['NotIn miss', { matchExpressions: [{ key: 'env', operator: 'NotIn', values: ['prod'] }] }, false],
    [
      'NotIn on absent key matches (as in Kubernetes)',
      { matchExpressions: [{ key: 'zone', operator: 'NotIn', values: ['a'] }] },
      true,
    ],
    ['Exists', { matchExpressions: [{ key: 'rdmasched.io/tenant', operator: 'Exists' }] }, true],
    ['Exists on absent key', { matchExpressions: [{ key: 'zone', operator: 'Exists' }] }, false],
    ['DoesNotExist', { matchExpressions: [{ key: 'zone', operator: 'DoesNotExist' }] }, true],
    ['DoesNotExist on present key', { matchExpressions: [{ key: 'team', operator: 'DoesNotExist' }] }, false],
    [
      'labels and expressions are ANDed',
      {
        matchLabels: { team: 'storage' },
        matchExpressions: [{ key: 'env', operator: 'In', values: ['dev'] }],
      },
      false,
    ],
    [
      'inherited properties are not labels',
      { matchExpressions: [{ key: 'toString', operator: 'Exists' }] },
      false,
    ],
  ])('%s', (_what, selector, expected) => {
    expect(matchesLabelSelector(selector, labels)).toBe(expected);
  });

  const key = fc.constantFrom('a', 'b', 'c', 'x.io/d');
  const value = fc.constantFrom('1', '2', '3');
  const labelSet = fc.dictionary(key, value);

  it('Exists and DoesNotExist are complements, and so are In and NotIn on present keys', () => {
    fc.assert(
      fc.property(labelSet, key, fc.uniqueArray(value, { minLength: 1 }), (ls, k, vs) => {
        const exists = matchesLabelSelector({ matchExpressions: [{ key: k, operator: 'Exists' }] }, ls);
        const absent = matchesLabelSelector({ matchExpressions: [{ key: k, operator: 'DoesNotExist' }] }, ls);
        expect(exists).toBe(!absent);
        const inSet = matchesLabelSelector(
          { matchExpressions: [{ key: k, operator: 'In', values: vs }] },
          ls,
        );
        const notIn = matchesLabelSelector(
          { matchExpressions: [{ key: k, operator: 'NotIn', values: vs }] },
          ls,
        );
        expect(inSet).toBe(exists && !notIn);
      }),
    );
  });

  it('matchLabels k=v means the same as In (v)', () => {
    fc.assert(
      fc.property(labelSet, key, value, (ls, k, v) => {
        expect(matchesLabelSelector({ matchLabels: { [k]: v } }, ls)).toBe(
          matchesLabelSelector({ matchExpressions: [{ key: k, operator: 'In', values: [v] }] }, ls),
        );
      }),
    );
  });
});

describe('labelSelectorToString', () => {
  it('writes the query-parameter form, sorted', () => {
    expect(
      labelSelectorToString({
        matchLabels: { team: 'a', env: 'prod' },
        matchExpressions: [
          { key: 'zone', operator: 'In', values: ['b', 'a'] },
          { key: 'tier', operator: 'NotIn', values: ['x'] },
          { key: 'gpu', operator: 'Exists' },
          { key: 'sandbox', operator: 'DoesNotExist' },
        ],
      }),
    ).toBe('env=prod,team=a,zone in (a,b),tier notin (x),gpu,!sandbox');
    expect(labelSelectorToString({})).toBe('');
  });
});

import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { NameIndex } from './name-index.js';

const nameArb = fc.stringMatching(/^[a-z0-9]([-a-z0-9.]{0,20}[a-z0-9])?$/);

describe('NameIndex', () => {
  it('finds exactly what was indexed, like a Map, through growth and rebuilds', () => {
    fc.assert(
      fc.property(
        fc.uniqueArray(nameArb, { maxLength: 300 }),
        fc.array(fc.string({ maxLength: 24 })),
        (names, probes) => {
          const index = new NameIndex();
          const map = new Map<string, number>();
          names.forEach((n, slot) => {
            index.set(n, slot);
            map.set(n, slot);
          });
          for (const n of [...names, ...probes]) expect(index.get(n)).toBe(map.get(n) ?? -1);
          // Drop every other name and rebuild.
          const kept = [...map].filter((_, i) => i % 2 === 0);
          index.rebuild(kept);
          const keptMap = new Map(kept);
          for (const n of [...names, ...probes]) expect(index.get(n)).toBe(keptMap.get(n) ?? -1);
          expect(index.size).toBe(kept.length);
        },
      ),
      { numRuns: 150 },
    );
  });

  it('tells names apart that share a prefix or differ in length', () => {
    const index = new NameIndex();
    ['node-1', 'node-10', 'node-100', 'a'].forEach((n, i) => index.set(n, i));
    expect(['node-1', 'node-10', 'node-100', 'a', 'node-', 'node-1000', ''].map((n) => index.get(n))).toEqual(
      [0, 1, 2, 3, -1, -1, -1],
    );
  });

  it('refuses a name it could not compare byte for byte', () => {
    expect(() => new NameIndex().set('nœud', 0)).toThrow(/not ASCII/);
  });
});

import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { choosePlan, hashName, NameIndex } from './name-index.js';

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

describe('choosePlan', () => {
  const distinctUnder = (names: string[], plan: Int32Array | null) =>
    new Set(names.map((n) => hashName(n, plan))).size;

  it.each([
    ['numbered', Array.from({ length: 3000 }, (_, i) => `rdma-node-${String(i).padStart(5, '0')}`)],
    ['cloud DNS', Array.from({ length: 3000 }, (_, i) => `ip-10-0-${i >> 8}-${i & 255}.ec2.internal`)],
    ['racks', Array.from({ length: 3000 }, (_, i) => `r${i % 50}-gpu-${Math.floor(i / 50)}.dc1.example.com`)],
  ])('reads a few positions that tell %s names apart', (_kind, names) => {
    const plan = choosePlan(names);
    expect(plan).not.toBeNull();
    expect(plan?.length).toBeLessThanOrEqual(8);
    expect(distinctUnder(names, plan)).toBeGreaterThanOrEqual(names.length * 0.98);
  });

  it('falls back to the whole name when a few positions cannot tell names apart', () => {
    const names = Array.from(
      { length: 500 },
      (_, i) =>
        `x${i.toString(36).padStart(4, '0')}${'y'.repeat(60)}${i.toString(2).padStart(12, '0')}${'z'.repeat(60)}`,
    );
    // Whatever the plan, lookups stay exact.
    const index = new NameIndex();
    index.rebuild(
      names.map((n, i) => [n, i] as const),
      { replan: true },
    );
    names.forEach((n, i) => expect(index.get(n)).toBe(i));
    expect(index.get(`${names[0] ?? ''}-`)).toBe(-1);
  });
});

import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { preferAllocation, type PreferenceInput, type PreferenceVf } from './preferred-allocation.js';

/** A host: `pfs[i]` VFs on PF i, PF i on NUMA node `numa[i]`; VF IDs are `<pf>.<n>`. */
function host(pfs: readonly number[], numa: readonly number[]): Map<string, PreferenceVf> {
  const vfs = new Map<string, PreferenceVf>();
  pfs.forEach((n, i) => {
    for (let v = 0; v < n; v++) {
      const id = `pf${i}.${String(v).padStart(2, '0')}`;
      vfs.set(id, { id, pf: `pf${i}`, numaNode: numa[i] ?? -1 });
    }
  });
  return vfs;
}

function input(
  vfs: Map<string, PreferenceVf>,
  size: number,
  extra: Partial<Omit<PreferenceInput, 'vfs' | 'size'>> = {},
): PreferenceInput {
  return {
    available: [...vfs.keys()],
    mustInclude: [],
    size,
    vfs,
    outstandingByPf: new Map(),
    inUseByPf: new Map(),
    ...extra,
  };
}

const pfsOf = (vfs: ReadonlyMap<string, PreferenceVf>, ids: readonly string[]) =>
  ids.map((id) => vfs.get(id)?.pf ?? '?');

describe('preferAllocation (table)', () => {
  const vfs = host([4, 4, 2, 4], [0, 0, 1, 1]);
  it.each<[string, Partial<PreferenceInput>, number, string[]]>([
    ['one PF that holds all, lowest address first', {}, 3, ['pf0.00', 'pf0.01', 'pf0.02']],
    [
      'a reserved PF before anything else',
      { outstandingByPf: new Map([['pf3', 2]]) },
      2,
      ['pf3.00', 'pf3.01'],
    ],
    [
      'the reservation that matches the size exactly',
      {
        outstandingByPf: new Map([
          ['pf1', 3],
          ['pf3', 2],
        ]),
      },
      2,
      ['pf3.00', 'pf3.01'],
    ],
    [
      'a reservation smaller than the request, then the rest on the same PF',
      { outstandingByPf: new Map([['pf1', 1]]) },
      3,
      ['pf1.00', 'pf1.01', 'pf1.02'],
    ],
    ['must-include first, then its PF', { mustInclude: ['pf3.03'] }, 3, ['pf3.03', 'pf3.00', 'pf3.01']],
    [
      'a busy PF that fits before an idle one (idle PFs stay resizable)',
      { inUseByPf: new Map([['pf3', 1]]) },
      2,
      ['pf3.00', 'pf3.01'],
    ],
    [
      'the smallest PF that fits',
      { available: ['pf0.00', 'pf0.01', 'pf0.02', 'pf2.00', 'pf2.01'] },
      2,
      ['pf2.00', 'pf2.01'],
    ],
    [
      'one NUMA node when no PF holds all',
      { available: ['pf0.00', 'pf0.01', 'pf0.02', 'pf2.00', 'pf2.01', 'pf3.00', 'pf3.01'] },
      4,
      ['pf2.00', 'pf2.01', 'pf3.00', 'pf3.01'],
    ],
    [
      'VFs other reservations count on only when nothing else is left',
      {
        available: ['pf0.00', 'pf1.00', 'pf1.01'],
        outstandingByPf: new Map([['pf1', 2]]),
        inUseByPf: new Map(),
      },
      1,
      ['pf1.00'],
    ],
    [
      'unreserved capacity before another pod’s reservation',
      { available: ['pf0.00', 'pf0.01', 'pf1.00', 'pf1.01'], outstandingByPf: new Map([['pf1', 2]]) },
      3,
      ['pf1.00', 'pf1.01', 'pf0.00'],
    ],
    ['unknown IDs last', { available: ['zz', 'pf2.00'] }, 2, ['pf2.00', 'zz']],
    ['nothing for size 0', {}, 0, []],
    [
      'everything when asked for more than there is',
      { available: ['pf2.01', 'pf2.00'] },
      5,
      ['pf2.00', 'pf2.01'],
    ],
  ])('%s', (_name, extra, size, expected) => {
    expect(preferAllocation(input(vfs, size, extra))).toEqual(expected);
  });
});

describe('preferAllocation (properties)', () => {
  const arbHost = fc
    .array(fc.record({ vfs: fc.integer({ min: 0, max: 6 }), numa: fc.integer({ min: -1, max: 2 }) }), {
      minLength: 1,
      maxLength: 6,
    })
    .map((pfs) => ({
      vfs: host(
        pfs.map((p) => p.vfs),
        pfs.map((p) => p.numa),
      ),
      pfCount: pfs.length,
    }));

  const arbCase = arbHost.chain(({ vfs, pfCount }) => {
    const ids = [...vfs.keys()];
    return fc.record({
      vfs: fc.constant(vfs),
      available: ids.length === 0 ? fc.constant([] as string[]) : fc.subarray(ids),
      mustInclude:
        ids.length === 0
          ? fc.constant([] as string[])
          : fc.subarray(ids, { maxLength: Math.min(2, ids.length) }),
      size: fc.integer({ min: 0, max: 12 }),
      outstanding: fc.array(fc.integer({ min: 0, max: 4 }), { minLength: pfCount, maxLength: pfCount }),
      inUse: fc.array(fc.integer({ min: 0, max: 2 }), { minLength: pfCount, maxLength: pfCount }),
      /** A random key per VF, to shuffle lists with. */
      keys: fc.array(fc.integer(), { minLength: ids.length, maxLength: ids.length }),
    });
  });
  type Case = {
    vfs: Map<string, PreferenceVf>;
    available: string[];
    mustInclude: string[];
    size: number;
    outstanding: number[];
    inUse: number[];
    keys: number[];
  };

  const toInput = (c: Case): PreferenceInput => ({
    available: c.available,
    mustInclude: c.mustInclude,
    size: c.size,
    vfs: c.vfs,
    outstandingByPf: new Map(c.outstanding.map((n, i) => [`pf${i}`, n])),
    inUseByPf: new Map(c.inUse.map((n, i) => [`pf${i}`, n])),
  });

  it('answers with the must-include devices, then distinct available ones, as many as asked (or all there are)', () => {
    fc.assert(
      fc.property(arbCase, (c) => {
        const out = preferAllocation(toInput(c));
        expect(new Set(out).size).toBe(out.length);
        expect(out.slice(0, new Set(c.mustInclude).size)).toEqual([...new Set(c.mustInclude)]);
        for (const id of out) expect(c.available.includes(id) || c.mustInclude.includes(id)).toBe(true);
        const pool = new Set([...c.available, ...c.mustInclude]).size;
        expect(out.length).toBe(Math.max(new Set(c.mustInclude).size, Math.min(c.size, pool)));
      }),
    );
  });

  it('is deterministic: the order of the kubelet’s lists does not change the answer', () => {
    fc.assert(
      fc.property(arbCase, (c) => {
        const a = preferAllocation(toInput(c));
        const ids = [...c.vfs.keys()];
        const key = (id: string) => c.keys[ids.indexOf(id)] ?? 0;
        const shuffled = [...c.available, ...c.available].sort((x, y) => key(x) - key(y));
        const b = preferAllocation({ ...toInput(c), available: shuffled });
        expect(b).toEqual(a);
      }),
    );
  });

  it('takes every VF from one reserved PF when its outstanding reservation covers the request', () => {
    fc.assert(
      fc.property(arbCase, fc.nat(), (c, pick) => {
        const input = toInput({ ...c, mustInclude: [] });
        const byPf = new Map<string, number>();
        for (const id of input.available) {
          const pf = input.vfs.get(id)!.pf;
          byPf.set(pf, (byPf.get(pf) ?? 0) + 1);
        }
        const candidates = [...byPf].filter(([, n]) => n >= c.size && c.size > 0);
        fc.pre(candidates.length > 0);
        const [reservedPf] = candidates[pick % candidates.length]!;
        const out = preferAllocation({ ...input, outstandingByPf: new Map([[reservedPf, c.size]]) });
        expect(pfsOf(input.vfs, out)).toEqual(out.map(() => reservedPf));
      }),
    );
  });

  it('keeps the VFs on one PF when one PF can hold them (no reservations, nothing to include)', () => {
    fc.assert(
      fc.property(arbCase, (c) => {
        const input = { ...toInput({ ...c, mustInclude: [] }), outstandingByPf: new Map<string, number>() };
        const perPf = new Map<string, number>();
        for (const id of input.available) {
          const pf = input.vfs.get(id)!.pf;
          perPf.set(pf, (perPf.get(pf) ?? 0) + 1);
        }
        fc.pre(c.size > 0 && [...perPf.values()].some((n) => n >= c.size));
        expect(new Set(pfsOf(input.vfs, preferAllocation(input))).size).toBe(1);
      }),
    );
  });

  it('keeps the VFs on one NUMA node when no PF but one node can hold them (no reservations, nothing to include)', () => {
    fc.assert(
      fc.property(arbCase, (c) => {
        const input = { ...toInput({ ...c, mustInclude: [] }), outstandingByPf: new Map<string, number>() };
        const perNuma = new Map<number, number>();
        const perPf = new Map<string, number>();
        for (const id of input.available) {
          const vf = input.vfs.get(id)!;
          if (vf.numaNode >= 0) perNuma.set(vf.numaNode, (perNuma.get(vf.numaNode) ?? 0) + 1);
          perPf.set(vf.pf, (perPf.get(vf.pf) ?? 0) + 1);
        }
        // One PF that holds everything wins over one NUMA node (same PF first, then same NUMA node).
        fc.pre(c.size > 0 && [...perPf.values()].every((n) => n < c.size));
        fc.pre([...perNuma.values()].some((n) => n >= c.size));
        const numas = new Set(preferAllocation(input).map((id) => input.vfs.get(id)!.numaNode));
        expect(numas.size).toBe(1);
        expect([...numas][0]).toBeGreaterThanOrEqual(0);
      }),
    );
  });
});

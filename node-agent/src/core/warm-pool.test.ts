import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { planWarmPool, type WarmPf, type WarmPoolPolicy } from './warm-pool.js';

const pf = (address: string, o: Partial<WarmPf> = {}): WarmPf => ({
  pciAddress: address,
  linkType: 'ib',
  resizable: true,
  numVfs: 0,
  maxVfs: 8,
  freeReady: 0,
  unconfiguredFree: 0,
  held: false,
  ...o,
});
const policy = (min: number, max?: number): WarmPoolPolicy => ({
  minReady: { ib: min, roce: 0 },
  maxReady: { ib: max, roce: undefined },
});

describe('planWarmPool', () => {
  it('does nothing when the pool is within bounds', () => {
    expect(planWarmPool([pf('a', { numVfs: 8, freeReady: 4 })], policy(2, 6))).toBeUndefined();
  });
  it('configures existing VFs before resizing anything', () => {
    expect(planWarmPool([pf('a'), pf('b', { numVfs: 4, unconfiguredFree: 4 })], policy(2))).toEqual({
      kind: 'configure',
      pf: 'b',
      linkType: 'ib',
    });
  });
  it('grows an empty idle PF first, never a held one', () => {
    expect(
      planWarmPool([pf('a', { held: true }), pf('b', { numVfs: 2, freeReady: 1 }), pf('c')], policy(4)),
    ).toEqual({
      kind: 'grow',
      pf: 'c',
      linkType: 'ib',
      targetVfs: 8,
    });
    expect(planWarmPool([pf('a', { held: true })], policy(4))).toBeUndefined();
  });
  it('shrinks the idle PF with the fewest free VFs, never below the minimum', () => {
    const pfs = [
      pf('a', { numVfs: 8, freeReady: 8 }),
      pf('b', { numVfs: 8, freeReady: 3 }),
      pf('c', { numVfs: 8, freeReady: 8, held: true }),
    ];
    expect(planWarmPool(pfs, policy(4, 10))).toEqual({ kind: 'shrink', pf: 'b', linkType: 'ib' });
    expect(planWarmPool([pf('a', { numVfs: 8, freeReady: 8 })], policy(4, 6))).toBeUndefined();
  });
  it('property: never resizes a held or non-resizable PF; a shrink keeps at least minReady', () => {
    fc.assert(
      fc.property(
        fc.array(
          fc.record({
            numVfs: fc.integer({ min: 0, max: 16 }),
            freeReady: fc.integer({ min: 0, max: 16 }),
            unconfiguredFree: fc.integer({ min: 0, max: 16 }),
            held: fc.boolean(),
            resizable: fc.boolean(),
          }),
          { maxLength: 6 },
        ),
        fc.integer({ min: 0, max: 40 }),
        fc.option(fc.integer({ min: 0, max: 40 }), { nil: undefined }),
        (raw, min, maxExtra) => {
          const pfs = raw.map((r, i) =>
            pf(`0000:0${i}:00.0`, { ...r, freeReady: Math.min(r.freeReady, r.numVfs), maxVfs: 16 }),
          );
          const a = planWarmPool(pfs, policy(min, maxExtra === undefined ? undefined : min + maxExtra));
          if (a === undefined || a.kind === 'configure') return;
          const target = pfs.find((p) => p.pciAddress === a.pf)!;
          expect(target.held).toBe(false);
          expect(target.resizable).toBe(true);
          if (a.kind === 'shrink') {
            const ready = pfs.reduce((s, p) => s + p.freeReady, 0);
            expect(ready - target.freeReady).toBeGreaterThanOrEqual(min);
          }
        },
      ),
      { numRuns: 2000 },
    );
  });
});

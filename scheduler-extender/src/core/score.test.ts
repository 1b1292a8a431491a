import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { DISTANCE_CLASSES } from '@rdmasched/contracts';
import { rateFit, scoreOf, PACKING_POLICIES, type ScoreInputs } from './score.js';

const inputsArb: fc.Arbitrary<ScoreInputs> = fc.record({
  distance: fc.option(fc.constantFrom(...DISTANCE_CLASSES), { nil: null }),
  rateFit: fc.double({ min: 0, max: 1, noNaN: true }),
  readyNow: fc.boolean(),
  utilisation: fc.double({ min: 0, max: 1, noNaN: true }),
  onlyHeldPfs: fc.boolean(),
  policy: fc.constantFrom(...PACKING_POLICIES),
});

describe('scoreOf', () => {
  it.each([
    // distance, rate, ready, util, onlyHeld, policy, total
    ['PIX', 1, true, 0.5, true, 'pack', 6 + 0.5 + 1 + 2.5 * 0.75],
    ['SYS', 1, true, 0.5, true, 'pack', 0 + 0.5 + 1 + 2.5 * 0.75],
    ['PXB', 0.5, false, 0.2, false, 'spread', 4.5 + 0.25 + 0 + 2.5 * 0.8],
    [null, 1, true, 1, true, 'pack', 1.25 + 2.5 + 6.25],
    [null, 1, false, 1, false, 'spread', 1.25],
  ] as const)('%s rate=%d ready=%s u=%d held=%s %s -> %d', (distance, r, ready, u, held, policy, total) => {
    const b = scoreOf({ distance, rateFit: r, readyNow: ready, utilisation: u, onlyHeldPfs: held, policy });
    expect(b.total).toBeCloseTo(total, 9);
    expect(b.score).toBe(Math.round(total));
  });

  it('stays an integer within 0..10', () => {
    fc.assert(
      fc.property(inputsArb, (i) => {
        const { score } = scoreOf(i);
        return Number.isInteger(score) && score >= 0 && score <= 10;
      }),
    );
  });

  it('a better distance class never lowers the score, all else equal', () => {
    fc.assert(
      fc.property(
        inputsArb,
        fc.constantFrom(...DISTANCE_CLASSES),
        fc.constantFrom(...DISTANCE_CLASSES),
        (i, a, b) => {
          const [better, worse] =
            DISTANCE_CLASSES.indexOf(a) <= DISTANCE_CLASSES.indexOf(b) ? [a, b] : [b, a];
          const s1 = scoreOf({ ...i, distance: better });
          const s2 = scoreOf({ ...i, distance: worse });
          return s1.score >= s2.score && s1.total >= s2.total;
        },
      ),
    );
  });

  it('one class step outweighs rate fit and readiness together (locality decides first)', () => {
    fc.assert(
      fc.property(inputsArb, fc.integer({ min: 0, max: 3 }), (i, step) => {
        const better = scoreOf({
          ...i,
          distance: DISTANCE_CLASSES[step] ?? 'PIX',
          rateFit: 0,
          readyNow: false,
        });
        const worse = scoreOf({
          ...i,
          distance: DISTANCE_CLASSES[step + 1] ?? 'SYS',
          rateFit: 1,
          readyNow: true,
        });
        return better.total >= worse.total;
      }),
    );
  });

  it('under spread a lower utilisation never lowers the score', () => {
    fc.assert(
      fc.property(inputsArb, fc.double({ min: 0, max: 1, noNaN: true }), (i, u2) => {
        const lo = Math.min(i.utilisation, u2);
        const hi = Math.max(i.utilisation, u2);
        return (
          scoreOf({ ...i, policy: 'spread', utilisation: lo }).total >=
          scoreOf({ ...i, policy: 'spread', utilisation: hi }).total
        );
      }),
    );
  });
});

describe('rateFit', () => {
  it('is 1 without a minimum and minimum/fastest otherwise', () => {
    expect(rateFit(0, 400)).toBe(1);
    expect(rateFit(100, 400)).toBe(0.25);
    expect(rateFit(200, 200)).toBe(1);
  });
});

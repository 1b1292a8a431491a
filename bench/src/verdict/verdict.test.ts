import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { bwResult, failedPair, latResult, measuredPair, rate } from '../../test/builders.js';
import { DEFAULT_THRESHOLDS, makeThresholds } from './thresholds.js';
import { judgePair, judgeResult, pairPortRate, type BandwidthCheck, type LatencyCheck } from './verdict.js';

const T = DEFAULT_THRESHOLDS;

describe('bandwidth verdicts', () => {
  it.each([
    // measured Gb/s, port Gb/s, bidirectional, status, fraction of line rate
    [390, 400, false, 'pass', 0.975],
    [360, 400, false, 'pass', 0.9],
    [359.99, 400, false, 'fail', 0.899975],
    [111.71, 200, false, 'fail', 0.55855],
    [760, 400, true, 'pass', 0.95],
    [390, 400, true, 'fail', 0.4875],
  ] as const)(
    '%d Gb/s on a %d Gb/s port (bidirectional %s) -> %s',
    (measured, port, bidirectional, status, fraction) => {
      const v = judgeResult(bwResult(measured, { bidirectional }), { portRate: rate(port), thresholds: T });
      expect(v.status).toBe(status);
      const c = v.checks[0] as BandwidthCheck;
      expect(c.kind).toBe('bandwidth');
      expect(c.measuredGbps).toBeCloseTo(measured, 9);
      expect(c.lineRateGbps).toBe(port * (bidirectional ? 2 : 1));
      expect(c.thresholdGbps).toBeCloseTo(0.9 * port * (bidirectional ? 2 : 1), 9);
      expect(c.fractionOfLineRate).toBeCloseTo(fraction, 9);
      expect(c.pass).toBe(status === 'pass');
    },
  );

  it('says why, with measured, threshold and fraction of line rate', () => {
    const v = judgeResult(bwResult(111.71), { portRate: rate(200, 'sysfs mlx5_0'), thresholds: T });
    expect(v.reasons[0]).toBe(
      'bandwidth 111.71 Gb/s at 64 KiB is 55.9% of the 200 Gb/s line rate; below the 90.0% threshold (180 Gb/s)',
    );
    expect(v.reasons[1]).toBe('port rate from sysfs mlx5_0');
  });

  it('bidirectional reasons show the doubled line rate', () => {
    const v = judgeResult(bwResult(760, { bidirectional: true }), { portRate: rate(400), thresholds: T });
    expect(v.reasons[0]).toContain('800 Gb/s line rate (2 × 400 Gb/s port rate, bidirectional)');
  });

  it('no port rate: no verdict, but the measured figure is kept', () => {
    const v = judgeResult(bwResult(111.71), { portRate: null, thresholds: T });
    expect(v.status).toBe('no-verdict');
    expect(v.checks).toEqual([]);
    expect(v.measured).toMatchObject({ kind: 'bandwidth', messageSizeBytes: 65536 });
    expect(v.measured?.kind === 'bandwidth' && v.measured.gbps).toBeCloseTo(111.71, 9);
    expect(v.reasons[0]).toMatch(/no port rate/);
  });

  it('--run_infinitely rows are averaged and the lowest is named', () => {
    const v = judgeResult(bwResult([92.7, 92.68, 92.71]), { portRate: rate(100), thresholds: T });
    const c = v.checks[0] as BandwidthCheck;
    expect(c.rowCount).toBe(3);
    expect(c.measuredGbps).toBeCloseTo((92.7 + 92.68 + 92.71) / 3, 9);
    expect(c.minGbps).toBeCloseTo(92.68, 9);
    expect(v.reasons[0]).toContain('mean of 3 rows, lowest 92.68 Gb/s');
  });

  it('perftest error lines are noted next to the verdict', () => {
    const v = judgeResult(bwResult(390, { extraLines: [' Failed to destroy QP'] }), {
      portRate: rate(400),
      thresholds: T,
    });
    expect(v.status).toBe('pass');
    expect(v.reasons.at(-1)).toMatch(/^note: perftest also printed 1 error line/);
  });

  it('a configurable threshold', () => {
    const strict = makeThresholds({ minBandwidthFraction: 0.975 });
    if (!strict.ok) throw new Error('bad thresholds');
    expect(judgeResult(bwResult(389), { portRate: rate(400), thresholds: strict.value }).status).toBe('fail');
    expect(judgeResult(bwResult(390), { portRate: rate(400), thresholds: strict.value }).status).toBe('pass');
  });

  it('passes exactly when measured ≥ fraction × line rate; more bandwidth never turns a pass into a fail', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 1, max: 80000 }).map((x) => x / 100),
        fc.integer({ min: 0, max: 2000 }).map((x) => x / 100),
        fc.constantFrom(10, 25, 56, 100, 200, 400, 800),
        fc.boolean(),
        (gbps, extra, port, bidirectional) => {
          const lo = judgeResult(bwResult(gbps, { bidirectional }), { portRate: rate(port), thresholds: T });
          const hi = judgeResult(bwResult(gbps + extra, { bidirectional }), {
            portRate: rate(port),
            thresholds: T,
          });
          const measured = Number(gbps.toFixed(2));
          expect(lo.status === 'pass').toBe(measured >= 0.9 * port * (bidirectional ? 2 : 1));
          if (lo.status === 'pass') expect(hi.status).toBe('pass');
        },
      ),
    );
  });
});

describe('latency verdicts', () => {
  it.each([
    ['write', 1.47, 'pass'],
    ['write', 2.5, 'pass'],
    ['write', 2.51, 'fail'],
    ['send', 2.6, 'fail'],
    ['read', 2.6, 'pass'],
    ['read', 4.5, 'pass'],
    ['read', 4.51, 'fail'],
  ] as const)('%s t_avg %d µs -> %s', (verb, avg, status) => {
    const v = judgeResult(latResult(avg, { verb }), { portRate: null, thresholds: T });
    expect(v.status).toBe(status);
    const c = v.checks[0] as LatencyCheck;
    expect(c.measuredUs).toBe(avg);
    expect(c.thresholdUs).toBe(verb === 'read' ? 4.5 : 2.5);
  });

  it('says why', () => {
    const v = judgeResult(latResult(2.6, { verb: 'write' }), { portRate: null, thresholds: T });
    expect(v.reasons[0]).toBe('write latency t_avg 2.6 µs at 2 B exceeds the 2.5 µs limit');
  });
});

describe('pairs', () => {
  it('the slower port bounds the pair, and the reason says which side', () => {
    const pair = measuredPair('a->b', bwResult(180), {
      server: { portRate: rate(400, 'node report of node-a') },
      client: { portRate: rate(200, 'node report of node-b') },
    });
    expect(pairPortRate(pair)).toEqual({
      gbps: 200,
      source: 'given',
      detail: "client: node report of node-b (lower than the server's 400 Gb/s)",
    });
    expect(judgePair(pair, T).status).toBe('pass');
  });

  it('one side known is enough', () => {
    const pair = measuredPair('a->b', bwResult(180), { portGbps: null, server: { portRate: rate(200) } });
    expect(pairPortRate(pair)?.gbps).toBe(200);
  });

  it('a failed run is an error verdict with its reason', () => {
    expect(judgePair(failedPair('a->b', 'server pod failed: ImagePullBackOff'), T)).toEqual({
      status: 'error',
      checks: [],
      reasons: ['server pod failed: ImagePullBackOff'],
      measured: null,
    });
  });
});

import { describe, expect, it } from 'vitest';
import { DEFAULT_THRESHOLDS, latencyLimitUs, makeThresholds } from './thresholds.js';

describe('thresholds', () => {
  it('defaults are the NGC certification values', () => {
    expect(DEFAULT_THRESHOLDS).toEqual({
      minBandwidthFraction: 0.9,
      maxWriteLatencyUs: 2.5,
      maxReadLatencyUs: 4.5,
    });
    expect(Object.isFrozen(DEFAULT_THRESHOLDS)).toBe(true);
  });

  it.each([
    ['write', 2.5],
    ['write_imm', 2.5],
    ['send', 2.5],
    ['send_imm', 2.5],
    ['read', 4.5],
    ['atomic', 4.5],
  ] as const)('%s latency limit is %d µs', (verb, limit) => {
    expect(latencyLimitUs(verb, DEFAULT_THRESHOLDS)).toBe(limit);
  });

  it('overrides are checked, one error per bad field, each naming it', () => {
    expect(makeThresholds({ minBandwidthFraction: 0.95 })).toEqual({
      ok: true,
      value: { minBandwidthFraction: 0.95, maxWriteLatencyUs: 2.5, maxReadLatencyUs: 4.5 },
    });
    const bad = makeThresholds({
      minBandwidthFraction: 90,
      maxWriteLatencyUs: 0,
      maxReadLatencyUs: Number.NaN,
    });
    expect(bad.ok).toBe(false);
    if (!bad.ok) {
      expect(bad.errors).toHaveLength(3);
      expect(bad.errors[0]).toMatch(/^minBandwidthFraction/);
      expect(bad.errors[1]).toMatch(/^maxWriteLatencyUs/);
      expect(bad.errors[2]).toMatch(/^maxReadLatencyUs/);
    }
  });
});

import { describe, expect, it } from 'vitest';
import { distribution, normaliseReason, percentile } from './stats.js';

describe('percentile', () => {
  it.each([
    [[], 50, null],
    [[5], 99, 5],
    [[3, 1, 2], 50, 2],
    [[1, 2, 3, 4, 5, 6, 7, 8, 9, 10], 90, 9],
    [[1, 2, 3, 4, 5, 6, 7, 8, 9, 10], 99, 10],
    [[10, 20], 0, 10],
  ])('%j p%i = %j (nearest rank)', (samples, p, expected) => {
    expect(percentile(samples, p)).toBe(expected);
  });

  it('summarises with rounding', () => {
    expect(distribution([1.23456, 2, 3], 2)).toEqual({ count: 3, p50: 2, p90: 3, p99: 3, max: 3 });
  });
});

describe('normaliseReason', () => {
  it.each([
    [
      '0/24 nodes are available: 3 Insufficient cpu, 21 too few free InfiniBand VFs now.',
      'Insufficient cpu; too few free InfiniBand VFs now',
    ],
    [
      '0/5 nodes are available: 5 tenant ai-train would exceed its InfiniBand VF quota.',
      'tenant ai-train would exceed its InfiniBand VF quota',
    ],
    ['0/0 nodes are available.', 'no nodes'],
    [
      'binding rejected: PROVISIONING_TIMEOUT: agent ...',
      'binding rejected: PROVISIONING_TIMEOUT: agent ...',
    ],
  ])('%s', (message, expected) => {
    expect(normaliseReason(message)).toBe(expected);
  });

  it('groups messages that differ only in counts, whatever their order', () => {
    expect(normaliseReason('0/9 nodes are available: 2 b reason, 7 a reason.')).toBe(
      normaliseReason('0/12 nodes are available: 10 a reason, 2 b reason.'),
    );
  });
});

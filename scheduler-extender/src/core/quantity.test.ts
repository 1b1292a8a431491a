import { describe, expect, it } from 'vitest';
import { parseWholeQuantity } from './quantity.js';

describe('parseWholeQuantity', () => {
  it.each([
    ['2', 2],
    ['0', 0],
    ['+3', 3],
    ['2000m', 2],
    ['1k', 1000],
    ['0.1k', 100],
    ['1Ki', 1024],
    ['1e1', 10],
    ['1E2', 100],
    ['4.0', 4],
    [' 7 ', 7],
    [5, 5],
  ])('%j is %d', (raw, want) => {
    expect(parseWholeQuantity(raw, 1_000_000)).toEqual({ ok: true, value: want });
  });

  it.each([
    ['1500m', /not a whole number/],
    ['-1', /negative/],
    ['abc', /not a Kubernetes quantity/],
    ['', /not a Kubernetes quantity/],
    ['.', /not a Kubernetes quantity/],
    ['1x', /not a Kubernetes quantity/],
    ['5000', /exceeds the maximum of 4096/],
    ['1e40', /too large/],
    [true, /must be a quantity string/],
    [null, /must be a quantity string/],
    [1.5, /not a whole number/],
    [Infinity, /not a quantity/],
  ])('%j is rejected', (raw, message) => {
    const q = parseWholeQuantity(raw, 4096);
    expect(q.ok).toBe(false);
    if (!q.ok) expect(q.message).toMatch(message);
  });
});

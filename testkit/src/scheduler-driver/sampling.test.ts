import { describe, expect, it } from 'vitest';
import { numFeasibleNodesToFind } from './sampling.js';

describe('numFeasibleNodesToFind (upstream formula, anchors.md §4.3)', () => {
  it.each([
    [0, 50, 50],
    [0, 99, 99],
    [0, 100, 100],
    [0, 1000, 420],
    [0, 5000, 500],
    [0, 10000, 500],
    [0, 5625, 281],
    [10, 5000, 500],
    [1, 5000, 100],
    [100, 5000, 5000],
    [150, 5000, 5000],
  ])('percentage %i of %i nodes -> %i', (pct, nodes, expected) => {
    expect(numFeasibleNodesToFind(pct, nodes)).toBe(expected);
  });
});

import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { firstJsonErrorOffset } from './json-position.js';

describe('firstJsonErrorOffset', () => {
  it.each([
    ['{"a": nan}', 6],
    ['{"a": 1,}', 8],
    ['{a: 1}', 1],
    ['{"a": 1', 7],
    ['[1, 2] x', 7],
    ['{"a": "\u0001"}', 7],
    ['{"a": 01}', 7],
  ])('%s fails at %i', (text, offset) => {
    expect(firstJsonErrorOffset(text)).toBe(offset);
  });

  it('accepts everything JSON.stringify writes', () => {
    fc.assert(
      fc.property(fc.jsonValue(), fc.boolean(), (v, pretty) => {
        expect(firstJsonErrorOffset(JSON.stringify(v, null, pretty ? 2 : undefined))).toBeUndefined();
      }),
    );
  });

  it('agrees with JSON.parse on arbitrary text', () => {
    fc.assert(
      fc.property(
        fc.oneof(
          fc.string(),
          fc.json().map((j) => j.slice(0, Math.max(0, j.length - 1))),
        ),
        (text) => {
          let valid = true;
          try {
            JSON.parse(text);
          } catch {
            valid = false;
          }
          expect(firstJsonErrorOffset(text) === undefined).toBe(valid);
        },
      ),
    );
  });
});

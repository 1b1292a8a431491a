/**
 * Keeps the README's catalogues in sync with the code: the error table with errors.ts, the
 * reason table with core/reasons.ts, the configuration table with config.ts.
 */
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { SETTINGS } from '../src/config.js';
import { REASONS } from '../src/core/reasons.js';
import { BIND_FAILURES, ERRORS } from '../src/errors.js';

const readme = readFileSync(new URL('../README.md', import.meta.url), 'utf8');

/** Rows of the first table after `## heading`, as trimmed cells. */
function table(heading: string): string[][] {
  const start = readme.indexOf(`\n## ${heading}\n`);
  if (start < 0) throw new Error(`README has no "## ${heading}" section`);
  const lines = readme.slice(start).split('\n');
  const first = lines.findIndex((l) => l.startsWith('|'));
  const rows: string[][] = [];
  for (const line of lines.slice(first + 2)) {
    if (!line.startsWith('|')) break;
    rows.push(
      line
        .split('|')
        .slice(1, -1)
        .map((c) => c.trim()),
    );
  }
  return rows;
}

const code = (cell: string | undefined) => (cell ?? '').replace(/^`|`$/g, '');

describe('README catalogues', () => {
  it('the Errors table lists every error code with its HTTP status, and nothing else', () => {
    const rows = table('Errors');
    expect(rows.map((r) => code(r[0]))).toEqual(Object.keys(ERRORS));
    for (const r of rows) {
      const e = ERRORS[code(r[0]) as keyof typeof ERRORS];
      expect(r[1]).toBe(e.status === 0 ? '—' : String(e.status));
      expect(r[2]).toBe(e.summary);
    }
  });

  it('the Rejection reasons table lists every reason with where it goes, its text and the action', () => {
    const rows = table('Rejection reasons');
    expect(rows.map((r) => code(r[0]))).toEqual(Object.keys(REASONS));
    for (const r of rows) {
      const spec = REASONS[code(r[0]) as keyof typeof REASONS];
      expect(r[1]).toBe(spec.unresolvable ? 'FailedAndUnresolvableNodes' : 'FailedNodes');
      expect(r[2]).toBe(spec.text);
      expect(r[3]).toBe(spec.action);
    }
  });

  it('the Configuration table lists every setting with its flag, variable and default', () => {
    const rows = table('Configuration');
    expect(rows.map((r) => code(r[1]))).toEqual(Object.values(SETTINGS).map((s) => s.env));
    for (const r of rows) {
      const s = Object.values(SETTINGS).find((x) => x.env === code(r[1]));
      expect(r[0]).toBe(s?.flag === '' ? '(none)' : `\`--${s?.flag ?? ''}\``);
      expect(code(r[2])).toBe(s?.def);
      expect(r[3]).toBe(s?.doc);
    }
  });

  it('the Bind failures table lists every bind failure code with its summary, and nothing else', () => {
    const rows = table('Bind failures');
    expect(rows.map((r) => code(r[0]))).toEqual(Object.keys(BIND_FAILURES));
    for (const r of rows) expect(r[1]).toBe(BIND_FAILURES[code(r[0]) as keyof typeof BIND_FAILURES]);
  });
});

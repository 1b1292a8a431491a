/**
 * The response writers against a plain reference: JSON.stringify of the same answer, built as
 * objects. They copy node names, reasons and fixed fragments four bytes at a time into a
 * growable scratch buffer, so the cases cover names and reasons of every length (shorter than a
 * word included), names the snapshot does not know (escaped), every score, and answers larger
 * than the scratch buffer.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { NameIndex } from '../core/name-index.js';
import type { FilterOutcome, PrioritizeOutcome } from '../core/phases.js';
import { invalidPodRequest, reason, reasonCount, type Reason } from '../core/reasons.js';
import { encodeFilterResult, encodeHostPriorityList, type ExtenderArgs } from './wire.js';

const nodeName = fc.stringMatching(/^[a-z0-9]([-a-z0-9.]{0,60}[a-z0-9])?$/);
/** Names the snapshot does not know: anything, quotes and non-ASCII included. */
const strangerName = fc.string({ maxLength: 12, unit: 'binary' });

const REASONS: Reason[] = [
  reason('UNKNOWN_NODE'),
  reason('STALE_REPORT'),
  invalidPodRequest('rdmasched.io/min-rate-gbps: "fast" is not a number'),
  invalidPodRequest('"é"\n'),
  invalidPodRequest(''),
];

interface Case {
  readonly names: string[];
  readonly slots: Int32Array;
  readonly index: NameIndex;
}

/** Input names: indexed ones (by slot) and strangers, in any order. */
const caseArb = fc
  .record({
    known: fc.uniqueArray(nodeName, { maxLength: 80 }),
    strangers: fc.array(strangerName, { maxLength: 6 }),
    order: fc.array(fc.nat(), { maxLength: 90 }),
  })
  .map(({ known, strangers, order }): Case => {
    const index = new NameIndex();
    known.forEach((n, slot) => index.set(n, slot));
    const pool = [...known.map((n, slot) => ({ n, slot })), ...strangers.map((n) => ({ n, slot: -1 }))];
    const picked =
      pool.length === 0 ? [] : order.map((k) => pool[k % pool.length] as { n: string; slot: number });
    return { names: picked.map((p) => p.n), slots: Int32Array.from(picked.map((p) => p.slot)), index };
  });

function argsOf(names: string[]): ExtenderArgs {
  return { pod: {}, nodeNames: names, namesSent: true, nodeList: undefined };
}

function filterOutcome(c: Case, verdicts: number[]): FilterOutcome {
  const feasibleIndexes: number[] = [];
  const rejectedIndexes: number[] = [];
  const rejectedReasons: Reason[] = [];
  c.names.forEach((_, i) => {
    const v = verdicts[i % Math.max(1, verdicts.length)] ?? 0;
    if (v === 0) feasibleIndexes.push(i);
    else {
      rejectedIndexes.push(i);
      rejectedReasons.push(REASONS[(v - 1) % REASONS.length] as Reason);
    }
  });
  return {
    names: c.names,
    slots: c.slots,
    feasibleIndexes,
    rejectedIndexes,
    rejectedReasons,
    tally: new Uint32Array(reasonCount()),
    invalid: 0,
  };
}

/** A JSON object with these keys in this order (a JS object would put "0"-like keys first). */
function objectJson(entries: [string, string][]): string {
  return `{${entries.map(([k, v]) => `${JSON.stringify(k)}:${JSON.stringify(v)}`).join(',')}}`;
}

function referenceFilter(o: FilterOutcome): string {
  const failed: [string, string][] = [];
  const unresolvable: [string, string][] = [];
  o.rejectedIndexes.forEach((i, k) => {
    const r = o.rejectedReasons[k] as Reason;
    (r.unresolvable ? unresolvable : failed).push([o.names[i] as string, r.text]);
  });
  const names = JSON.stringify(o.feasibleIndexes.map((i) => o.names[i]));
  return `{"Nodes":null,"NodeNames":${names},"FailedNodes":${objectJson(failed)},"FailedAndUnresolvableNodes":${objectJson(unresolvable)},"Error":""}`;
}

describe('wire writers', () => {
  it('the filter answer equals JSON.stringify of the same answer', () => {
    fc.assert(
      fc.property(caseArb, fc.array(fc.nat({ max: REASONS.length }), { minLength: 1 }), (c, verdicts) => {
        const o = filterOutcome(c, verdicts);
        expect(encodeFilterResult(argsOf(c.names), o, c.index).toString('utf8')).toBe(referenceFilter(o));
      }),
      { numRuns: 300 },
    );
  });

  it('the HostPriorityList equals JSON.stringify of the same list, every score 0..10', () => {
    fc.assert(
      fc.property(caseArb, fc.array(fc.integer({ min: 0, max: 10 }), { minLength: 1 }), (c, scoreList) => {
        const scores = Uint8Array.from(c.names.map((_, i) => scoreList[i % scoreList.length] ?? 0));
        const o: PrioritizeOutcome = { names: c.names, slots: c.slots, scores };
        const expected = JSON.stringify(c.names.map((n, i) => ({ Host: n, Score: scores[i] })));
        expect(encodeHostPriorityList(o, c.index).toString('utf8')).toBe(expected);
      }),
      { numRuns: 300 },
    );
  });

  it('answers larger than the scratch buffer come out whole (it grows between entries)', () => {
    const index = new NameIndex();
    const names = Array.from(
      { length: 20_000 },
      (_, i) => `node-${i}-${'x'.repeat(i % 40)}.example.internal`,
    );
    names.forEach((n, slot) => index.set(n, slot));
    const slots = Int32Array.from(names.map((_, i) => i));
    // The scratch buffer starts at 256 KiB and keeps its size: the filter answer (~0.6 MiB)
    // grows it to 1 MiB, the longer list (~1.3 MiB) grows it again.
    const few = { names: names.slice(0, 8000), slots: slots.slice(0, 8000), index };
    const o = filterOutcome(few, [0, 0, 1, 3]);
    const filter = encodeFilterResult(argsOf(few.names), o, index);
    expect(filter.length).toBeGreaterThan(512 * 1024);
    expect(filter.toString('utf8')).toBe(referenceFilter(o));
    const scores = Uint8Array.from(names.map((_, i) => i % 11));
    const list = encodeHostPriorityList({ names, slots, scores }, index);
    expect(list.length).toBeGreaterThan(1024 * 1024);
    expect(list.toString('utf8')).toBe(JSON.stringify(names.map((n, i) => ({ Host: n, Score: scores[i] }))));
  });
});

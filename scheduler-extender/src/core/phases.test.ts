import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { InMemoryReservationView } from '../adapters/memory/in-memory-reservation-view.js';
import { makePod, makeReport } from '../testing/builders.js';
import { requestOf } from '../testing/views.js';
import { feasibleNames, rejectedRecord, SnapshotPhases } from './phases.js';
import { invalidPodRequest } from './reasons.js';
import { Snapshot } from './snapshot.js';

const NOW = Date.parse('2026-11-26T16:00:05.000Z');

function snapshotWith(names: readonly string[]): Snapshot {
  const snapshot = new Snapshot({ reservations: new InMemoryReservationView(), policy: 'pack' });
  for (const n of names) {
    snapshot.applyReport(makeReport(n).reportedAtMs(NOW).pf({ numVfs: 2, configured: 2 }).build(), {
      nowMs: NOW,
    });
  }
  return snapshot;
}

const demand = { kind: 'request' as const, request: requestOf(makePod().vfs('ib', 1).build()) };

describe('SnapshotPhases', () => {
  it('prioritize finds the same nodes whether or not its names follow the last filter', () => {
    const nameArb = fc.constantFrom('a', 'b', 'c', 'd', 'e', 'f', 'g', 'h', 'zz');
    fc.assert(
      fc.property(
        fc.uniqueArray(nameArb, { maxLength: 8 }),
        fc.array(nameArb, { maxLength: 10 }),
        fc.boolean(),
        fc.array(nameArb, { maxLength: 10 }),
        fc.constantFrom('none', 'add', 'remove'),
        (known, filterNames, useSubsequence, otherNames, change) => {
          const snapshot = snapshotWith(known);
          const phases = new SnapshotPhases(snapshot);
          phases.filter(demand, filterNames, NOW);
          if (change === 'add')
            snapshot.applyReport(makeReport('zz').reportedAtMs(NOW).build(), { nowMs: NOW });
          if (change === 'remove' && known[0] !== undefined) snapshot.remove(known[0]);
          const names = useSubsequence ? filterNames.filter((_, i) => i % 2 === 0) : otherNames;
          const out = phases.prioritize(demand, names, NOW);
          expect([...out.slots]).toEqual(names.map((n) => snapshot.slotOf(n)));
          out.slots.forEach((slot, i) => {
            if (slot >= 0) expect(snapshot.viewAtSlot(slot)?.name).toBe(names[i]);
          });
        },
      ),
      { numRuns: 300 },
    );
  });

  it('an invalid request rejects every node, unknown ones included, and scores 0', () => {
    const phases = new SnapshotPhases(snapshotWith(['a']));
    const invalid = { kind: 'invalid' as const, reason: invalidPodRequest('bad') };
    const out = phases.filter(invalid, ['a', 'ghost'], NOW);
    expect(feasibleNames(out)).toEqual([]);
    expect(rejectedRecord(out, true)).toEqual({
      a: 'invalid pod request: bad',
      ghost: 'invalid pod request: bad',
    });
    expect(out.invalid).toBe(2);
    expect([...phases.prioritize(invalid, ['a'], NOW).scores]).toEqual([0]);
  });

  it('counts rejections per reason for metrics', () => {
    const phases = new SnapshotPhases(snapshotWith(['a']));
    const out = phases.filter(demand, ['a', 'x', 'y'], NOW);
    expect(feasibleNames(out)).toEqual(['a']);
    expect([...out.tally].reduce((s, v) => s + v, 0)).toBe(2);
    expect(rejectedRecord(out, false)).toEqual({
      x: 'unknown node (no report from its rdmasched node agent)',
      y: 'unknown node (no report from its rdmasched node agent)',
    });
  });
});

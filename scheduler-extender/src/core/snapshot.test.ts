import { describe, expect, it } from 'vitest';
import { InMemoryReservationView } from '../adapters/memory/in-memory-reservation-view.js';
import { makePod, makeReport } from '../testing/builders.js';
import { requestOf } from '../testing/views.js';
import { Snapshot, type ApplyOutcome } from './snapshot.js';

function setup() {
  const reservations = new InMemoryReservationView();
  const snapshot = new Snapshot({ reservations, policy: 'pack' });
  const outcomes: ApplyOutcome[] = [];
  snapshot.addListener({ onReport: (o) => outcomes.push(o) });
  return { reservations, snapshot, outcomes };
}

const NOW = Date.parse('2026-11-26T16:00:10.000Z');

describe('Snapshot', () => {
  it('accepts a valid report and rejects an invalid one with reasons, never holding it', () => {
    const { snapshot } = setup();
    expect(snapshot.applyReport(makeReport('a').pf().build(), { nowMs: NOW }).kind).toBe('accepted');
    const bad = { ...makeReport('b').pf().build(), generation: 0 };
    const o = snapshot.applyReport(bad, { nowMs: NOW });
    expect(o).toMatchObject({ kind: 'rejected', node: 'b' });
    if (o.kind === 'rejected') expect(o.errors.join()).toMatch(/generation/);
    expect(snapshot.get('b')).toBeUndefined();
    expect(snapshot.size).toBe(1);
    expect(snapshot.applyReport('not a report', { nowMs: NOW })).toMatchObject({
      kind: 'rejected',
      node: undefined,
    });
  });

  it('ignores a report whose generation is not newer, keeping the view and its memo', () => {
    const { snapshot } = setup();
    snapshot.applyReport(makeReport('a').generation(5).pf({ numVfs: 4 }).build(), { nowMs: NOW });
    const view = snapshot.get('a');
    expect(snapshot.applyReport(makeReport('a').generation(5).build(), { nowMs: NOW })).toMatchObject({
      kind: 'not-newer',
      current: 5,
    });
    expect(snapshot.applyReport(makeReport('a').generation(4).build(), { nowMs: NOW }).kind).toBe(
      'not-newer',
    );
    expect(snapshot.get('a')).toBe(view);
    expect(snapshot.applyReport(makeReport('a').generation(6).build(), { nowMs: NOW }).kind).toBe('accepted');
    expect(snapshot.get('a')).not.toBe(view);
    expect(snapshot.get('a')?.pfs).toHaveLength(0);
  });

  it('is stale after the configured number of missed heartbeats, and fresh again after one', () => {
    const snapshot = new Snapshot({
      reservations: new InMemoryReservationView(),
      policy: 'pack',
      staleAfterHeartbeats: 2,
    });
    snapshot.applyReport(makeReport('a').heartbeatIntervalMs(1000).reportedAtMs(NOW).build(), {
      nowMs: NOW,
      heartbeatAtMs: NOW,
    });
    const view = snapshot.get('a');
    expect(view?.isStale(NOW + 2000)).toBe(false);
    expect(view?.isStale(NOW + 2001)).toBe(true);
    expect(snapshot.staleCount(NOW + 2001)).toBe(1);
    expect(snapshot.heartbeat('a', NOW + 2000, NOW + 2001)).toBe(true);
    expect(view?.isStale(NOW + 2001)).toBe(false);
    expect(snapshot.heartbeat('nobody', NOW, NOW)).toBe(false);
  });

  it('clamps heartbeats from the future to the adapter clock', () => {
    const { snapshot } = setup();
    snapshot.applyReport(
      makeReport('a')
        .reportedAtMs(NOW + 3_600_000)
        .build(),
      { nowMs: NOW, heartbeatAtMs: NOW + 3_600_000 },
    );
    expect(snapshot.get('a')?.lastHeartbeatMs).toBe(NOW);
    snapshot.heartbeat('a', NOW + 999_999, NOW + 1);
    expect(snapshot.get('a')?.lastHeartbeatMs).toBe(NOW + 1);
  });

  it('replaceAll drops nodes not listed, keeps a not-newer view, and counts rejections', () => {
    const { snapshot } = setup();
    snapshot.applyReport(makeReport('keep').generation(3).build(), { nowMs: NOW });
    snapshot.applyReport(makeReport('gone').build(), { nowMs: NOW });
    const kept = snapshot.get('keep');
    const result = snapshot.replaceAll(
      [
        { report: makeReport('keep').generation(3).build() },
        { report: makeReport('new').build() },
        { report: { nodeName: 'x' } },
      ],
      NOW,
    );
    expect(result).toEqual({ accepted: 2, rejected: 1 });
    expect([...snapshot.views()].map((v) => v.name).sort()).toEqual(['keep', 'new']);
    expect(snapshot.get('keep')).toBe(kept);
  });

  it('memoises decisions per shape and drops them when the node’s reservations change', () => {
    const { snapshot, reservations } = setup();
    const report = makeReport('a').pf({ numVfs: 2, configured: 2 }).build();
    snapshot.applyReport(report, { nowMs: NOW });
    const view = snapshot.get('a');
    if (view === undefined) throw new Error('no view');
    const shape = snapshot.shapeOf(requestOf(makePod().vfs('ib', 2).build()));
    const first = snapshot.decide(view, shape);
    expect(first.feasible).toBe(true);
    expect(snapshot.decide(view, snapshot.shapeOf(requestOf(makePod().vfs('ib', 2).build())))).toBe(first);
    reservations.reserve({
      podUid: 'p1',
      namespace: 'ns',
      podName: 'p',
      tenant: '',
      node: 'a',
      pfs: [{ pfPciAddress: report.pfs[0]?.pciAddress ?? '', linkType: 'ib', count: 1 }],
      gpus: [],
      state: 'pending',
      createdAtMs: 0,
      expiresAtMs: 1,
    });
    const afterReserve = snapshot.decide(view, shape);
    expect(afterReserve.feasible).toBe(false);
    reservations.release('p1');
    expect(snapshot.decide(view, shape).feasible).toBe(true);
  });

  it('remove drops the node and tells listeners', () => {
    const { snapshot } = setup();
    const removed: string[] = [];
    snapshot.addListener({ onRemoved: (n) => removed.push(n) });
    snapshot.applyReport(makeReport('a').build(), { nowMs: NOW });
    expect(snapshot.remove('a')).toBe(true);
    expect(snapshot.remove('a')).toBe(false);
    expect(removed).toEqual(['a']);
  });
});

import { describe, expect, it } from 'vitest';
import type { Reservation } from '@rdmasched/contracts';
import type { VfAllocation } from '../ports/vf-usage.js';
import { assignVfStates } from './vf-states.js';

const PF = '0000:1a:00.0';
const OTHER_PF = '0000:9e:00.0';
const vfs = [0, 1, 2, 3].map((i) => ({ index: i, pciAddress: `0000:1a:00.${i + 1}`, configured: i !== 3 }));
const reservation = (podUid: string, count: number, pf = PF): Reservation => ({
  podUid,
  namespace: 'n',
  podName: 'p',
  tenant: 't',
  node: 'node-a',
  pfs: [{ pfPciAddress: pf, linkType: 'ib', count }],
  gpus: [],
  state: 'bound',
  createdAtMs: 0,
  expiresAtMs: 0,
});
const use = (i: number, podUid: string | null): [string, VfAllocation] => [
  `0000:1a:00.${i}`,
  { vf: `0000:1a:00.${i}`, pf: PF, podUid },
];

describe('assignVfStates', () => {
  it('marks in-use VFs with their pod, then as many configured free VFs reserved as reservations wait for', () => {
    const out = assignVfStates({
      pf: PF,
      vfs,
      reservedCount: 3,
      inUse: new Map([use(1, 'pod-1')]),
      reservations: new Map([['pod-1', reservation('pod-1', 3)]]),
    });
    expect([...out.states.entries()].map(([vf, s]) => [vf, s.state, s.podUid])).toEqual([
      ['0000:1a:00.1', 'in-use', 'pod-1'],
      ['0000:1a:00.2', 'reserved', null],
      ['0000:1a:00.3', 'reserved', null],
      ['0000:1a:00.4', 'free', null],
    ]);
    expect(out.foreignInUse).toBe(0);
    expect(out.inUseCount).toBe(1);
  });

  // Table: which in-use VFs are foreign (held in addition to the ledger's reservations).
  it.each([
    ['a pod with a reservation on this PF', 'pod-1', [reservation('pod-1', 1)], 0],
    ['a pod whose reservation names another PF of the node', 'pod-1', [reservation('pod-1', 1, OTHER_PF)], 0],
    ['a pod with no reservation on the node', 'pod-x', [], 1],
    ['a VF whose pod is not named (null)', null, [], 1],
    ['a VF whose pod is not named, with reservations waiting on the PF', null, [reservation('pod-1', 2)], 1],
  ] as const)('%s', (_what, podUid, records, foreign) => {
    const out = assignVfStates({
      pf: PF,
      vfs,
      reservedCount: records.reduce((s, r) => s + (r.pfs[0]?.pfPciAddress === PF ? r.pfs[0].count : 0), 0),
      inUse: new Map([use(1, podUid)]),
      reservations: new Map(records.map((r) => [r.podUid, r])),
    });
    expect(out.foreignInUse).toBe(foreign);
    expect(out.states.get('0000:1a:00.1')).toEqual({ state: 'in-use', podUid });
  });

  it('a pod using more VFs of the PF than it reserved there is never foreign, and accounts only for its own', () => {
    const out = assignVfStates({
      pf: PF,
      vfs,
      reservedCount: 2,
      inUse: new Map([use(1, 'pod-1'), use(2, 'pod-1')]),
      reservations: new Map([['pod-1', reservation('pod-1', 1)]]),
    });
    expect(out.foreignInUse).toBe(0);
    // 2 reserved, pod-1 accounts for its 1: one more still waits, and 00.3 is the free configured one.
    expect(out.states.get('0000:1a:00.3')).toEqual({ state: 'reserved', podUid: null });
  });

  it('marks no unconfigured VF reserved', () => {
    const out = assignVfStates({
      pf: PF,
      vfs,
      reservedCount: 5,
      inUse: new Map([use(1, null), use(2, null), use(3, null)]),
      reservations: new Map(),
    });
    expect(out.foreignInUse).toBe(3);
    expect([...out.states.values()].filter((s) => s.state === 'reserved')).toHaveLength(0);
  });
});

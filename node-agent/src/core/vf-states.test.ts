import { describe, expect, it } from 'vitest';
import type { Reservation } from '@rdmasched/contracts';
import { assignVfStates } from './vf-states.js';

const PF = '0000:1a:00.0';
const vfs = [0, 1, 2, 3].map((i) => ({ index: i, pciAddress: `0000:1a:00.${i + 1}`, configured: i !== 3 }));
const reservation = (podUid: string, count: number): Reservation => ({
  podUid,
  namespace: 'n',
  podName: 'p',
  tenant: 't',
  node: 'node-a',
  pfs: [{ pfPciAddress: PF, linkType: 'ib', count }],
  gpus: [],
  state: 'bound',
  createdAtMs: 0,
  expiresAtMs: 0,
});

describe('assignVfStates', () => {
  it("marks in-use VFs, then reserved ones among configured free VFs; an unnamed in-use VF is the reservation's", () => {
    const out = assignVfStates({
      pf: PF,
      vfs,
      reservedCount: 2,
      inUse: new Map([
        ['0000:1a:00.1', { vf: '0000:1a:00.1', pf: PF, podUid: 'pod-1' }],
        ['0000:1a:00.3', { vf: '0000:1a:00.3', pf: PF, podUid: null }],
      ]),
      reservations: new Map([['pod-1', reservation('pod-1', 2)]]),
    });
    expect([...out.states.entries()].map(([vf, s]) => [vf, s.state, s.podUid])).toEqual([
      ['0000:1a:00.1', 'in-use', 'pod-1'],
      ['0000:1a:00.3', 'in-use', null],
      ['0000:1a:00.2', 'free', null],
      ['0000:1a:00.4', 'free', null],
    ]);
    expect(out.foreignInUse).toBe(0);
    expect(out.inUseCount).toBe(2);
  });

  it('an in-use VF without a pod counts against unaccounted reservations first, the rest is foreign', () => {
    const anon = (i: number) => [`0000:1a:00.${i}`, { vf: `0000:1a:00.${i}`, pf: PF, podUid: null }] as const;
    const run = (reservedCount: number) =>
      assignVfStates({
        pf: PF,
        vfs,
        reservedCount,
        inUse: new Map([anon(1), anon(2), anon(3)]),
        reservations: new Map(),
      });
    expect(run(0).foreignInUse).toBe(3);
    expect(run(2).foreignInUse).toBe(1);
    expect(run(5).foreignInUse).toBe(0);
    // 5 reserved, 3 running: 2 still wait, but the only VF left is unconfigured, so none is marked.
    expect([...run(5).states.values()].filter((s) => s.state === 'reserved')).toHaveLength(0);
  });
});

import type { LedgerEvent } from '@rdmasched/contracts';
import { describe, expect, it } from 'vitest';
import { LedgerMirror, RELEASED_GPUS_KEPT } from './ledger-mirror.js';

const PF = '0000:1a:00.0';
const reserved = (podUid: string, count: number, node = 'n1', tenant = 't'): LedgerEvent => ({
  type: 'reserved',
  podUid,
  node,
  tenant,
  pfs: [{ pfPciAddress: PF, linkType: 'ib', count }],
  claims: [],
  atMs: 1,
});
const released = (podUid: string, count: number, node = 'n1', tenant = 't'): LedgerEvent => ({
  type: 'released',
  podUid,
  node,
  tenant,
  pfs: [{ pfPciAddress: PF, linkType: 'ib', count }],
  atMs: 2,
});

describe('LedgerMirror', () => {
  it('replaying events a load already contains converges on the same state', () => {
    const events = [reserved('a', 2), reserved('b', 1), released('a', 2), reserved('c', 3, 'n2', 'u')];
    const straight = new LedgerMirror();
    for (const e of events) straight.apply(e);
    const replayed = new LedgerMirror();
    replayed.replaceAll(
      [
        {
          podUid: 'b',
          node: 'n1',
          tenant: 't',
          pfs: [{ pfPciAddress: PF, linkType: 'ib', count: 1 }],
          state: 'pending',
        },
      ],
      new Map(),
    );
    for (const e of events) replayed.apply(e);
    for (const m of [straight, replayed]) {
      expect(m.forNode('n1').reservedByPf).toEqual(new Map([[PF, 1]]));
      expect(m.forNode('n2').reservedByPf).toEqual(new Map([[PF, 3]]));
      expect(m.tenantUsage('t')).toEqual({ ib: 1, roce: 0, pods: 1 });
      expect(m.tenantUsage('u')).toEqual({ ib: 3, roce: 0, pods: 1 });
    }
  });

  it('a release for another node than the one mirrored is ignored; a claim is removed only by its owner', () => {
    const m = new LedgerMirror();
    m.apply(reserved('a', 2));
    m.apply(released('a', 2, 'elsewhere'));
    expect(m.reservation('a')?.node).toBe('n1');
    m.apply({ type: 'claimed', node: 'n1', pf: PF, owner: 'agent', atMs: 3 });
    m.apply({ type: 'claim-released', node: 'n1', pf: PF, owner: 'someone', atMs: 4 });
    expect(m.forNode('n1').resizeClaims.get(PF)).toBe('agent');
    m.apply({ type: 'claim-released', node: 'n1', pf: PF, owner: 'agent', atMs: 5 });
    expect(m.forNode('n1').resizeClaims.size).toBe(0);
  });

  it('notifies every node and tenant touched, before and after a full reload; unknown nodes read as empty', () => {
    const m = new LedgerMirror();
    const nodes: string[] = [];
    const tenants: string[] = [];
    m.onChange((n) => nodes.push(n));
    m.addListener({ onTenant: (t) => tenants.push(t) });
    m.apply(reserved('a', 1, 'old', 'x'));
    nodes.length = 0;
    tenants.length = 0;
    m.replaceAll(
      [
        {
          podUid: 'b',
          node: 'new',
          tenant: 'y',
          pfs: [{ pfPciAddress: PF, linkType: 'ib', count: 1 }],
          state: 'bound',
        },
      ],
      new Map([['claimed-only', new Map([[PF, 'agent']])]]),
    );
    expect(new Set(nodes)).toEqual(new Set(['old', 'new', 'claimed-only']));
    expect(new Set(tenants)).toEqual(new Set(['x', 'y']));
    expect(m.loaded).toBe(true);
    expect(m.forNode('never-seen').reservedByPf.size).toBe(0);
  });

  it("keeps the GPUs of a released reservation for the node's lagging report, a bounded number, until the pod reserves again", () => {
    const m = new LedgerMirror();
    const withGpus = (podUid: string, gpus: string[]): LedgerEvent => ({
      ...(reserved(podUid, 1) as Extract<LedgerEvent, { type: 'reserved' }>),
      gpus,
    });
    m.apply(withGpus('a', ['0000:18:00.0']));
    m.apply(reserved('no-gpu', 1));
    expect(m.forNode('n1').releasedGpus?.size).toBe(0);
    m.apply(released('a', 1));
    m.apply(released('no-gpu', 1));
    expect(m.forNode('n1').reservedGpus?.size).toBe(0);
    expect(m.forNode('n1').releasedGpus).toEqual(new Map([['a', ['0000:18:00.0']]]));
    // A release on another node, or of a pod never mirrored, records nothing.
    m.apply(released('unknown', 1));
    expect(m.forNode('n1').releasedGpus?.size).toBe(1);
    // Reserved again (same UID): promised, not freed.
    m.apply(withGpus('a', ['0000:19:00.0']));
    expect(m.forNode('n1').releasedGpus?.size).toBe(0);
    for (let i = 0; i < RELEASED_GPUS_KEPT + 5; i++) {
      m.apply(withGpus(`p${i}`, ['0000:18:00.0']));
      m.apply(released(`p${i}`, 1));
    }
    const kept = [...(m.forNode('n1').releasedGpus?.keys() ?? [])];
    expect(kept).toHaveLength(RELEASED_GPUS_KEPT);
    // The oldest go first.
    expect(kept[0]).toBe('p5');
    expect(kept.at(-1)).toBe(`p${RELEASED_GPUS_KEPT + 4}`);
  });
});

import { ANNOTATIONS, type Reservation } from '@rdmasched/contracts';
import { describe, expect, it } from 'vitest';
import { makePod } from '../testing/builders.js';
import type { PodSummary } from '../ports/pod-api.js';
import { planReconcile } from './reconcile-plan.js';

const PF = '0000:1a:00.0';
const NOW = 1_000_000;

function res(uid: string, over: Partial<Reservation> = {}): Reservation {
  return {
    podUid: uid,
    namespace: 'ns',
    podName: uid,
    tenant: 't',
    node: 'n1',
    pfs: [{ pfPciAddress: PF, linkType: 'ib', count: 1 }],
    gpus: [],
    state: 'pending',
    createdAtMs: NOW - 100,
    expiresAtMs: NOW + 100,
    ...over,
  };
}

function pod(uid: string, over: Partial<PodSummary> = {}): PodSummary {
  return {
    uid,
    namespace: 'ns',
    name: uid,
    nodeName: undefined,
    phase: 'Pending',
    deleting: false,
    schedulerName: 'rdma-scheduler',
    annotations: {},
    object: makePod().name(uid).namespace('ns').uid(uid).vfs('ib', 1).build(),
    ...over,
  };
}

describe('planReconcile', () => {
  it('sorts every case into its repair', () => {
    const plan = planReconcile({
      reservations: [
        res('gone'),
        res('ended', { state: 'bound' }),
        res('moved', { state: 'bound' }),
        res('bound-by-crash'),
        res('expired', { expiresAtMs: NOW }),
        res('waiting'),
        res('running', { state: 'bound' }),
      ],
      pods: [
        pod('ended', { nodeName: 'n1', phase: 'Succeeded' }),
        pod('moved', { nodeName: 'n2', phase: 'Running' }),
        pod('bound-by-crash', { nodeName: 'n1' }),
        pod('expired'),
        pod('waiting'),
        pod('running', { nodeName: 'n1', phase: 'Running' }),
      ],
      nowMs: NOW,
      inUseBy: () => [],
      tenantOf: () => 't',
    });
    expect(plan.release.map((r) => [r.reservation.podUid, r.why])).toEqual([
      ['gone', 'pod no longer exists'],
      ['ended', 'pod Succeeded'],
      ['moved', 'pod runs on n2, not n1'],
    ]);
    expect(plan.markBound.map((r) => r.podUid)).toEqual(['bound-by-crash']);
    expect(plan.expire.map((r) => r.podUid)).toEqual(['expired']);
    expect(plan.record).toEqual([]);
  });

  it('records a bound pod without a reservation: from its annotation, else from the VFs in use; else waits', () => {
    const annotated = res('a', { node: 'n1', state: 'bound' });
    const plan = planReconcile({
      reservations: [],
      pods: [
        pod('a', {
          nodeName: 'n1',
          phase: 'Running',
          annotations: { [ANNOTATIONS.reservation]: JSON.stringify(annotated) },
        }),
        pod('b', { nodeName: 'n1', phase: 'Running' }),
        pod('c', { nodeName: 'n2', phase: 'Running' }),
        pod('no-vfs', { nodeName: 'n1', object: makePod().uid('no-vfs').build() }),
      ],
      nowMs: NOW,
      inUseBy: (node, uid) =>
        node === 'n1' && uid === 'b' ? [{ pfPciAddress: PF, linkType: 'ib', count: 2 }] : [],
      tenantOf: (ns) => (ns === 'ns' ? 'tenant-of-ns' : ''),
    });
    expect(plan.record).toEqual([
      annotated,
      expect.objectContaining({
        podUid: 'b',
        node: 'n1',
        tenant: 'tenant-of-ns',
        state: 'bound',
        pfs: [{ pfPciAddress: PF, linkType: 'ib', count: 2 }],
      }),
    ]);
    expect(plan.unattributed.map((p) => p.uid)).toEqual(['c']);
  });
});

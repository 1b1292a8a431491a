import { describe, expect, it } from 'vitest';
import { makePod, makeReport } from '../testing/builders.js';
import { requestOf, viewOf } from '../testing/views.js';
import type { NodeReservations } from '../ports/reservation-view.js';
import { judgeNode, mayEvict, type Preemptor, type Victim } from './preempt.js';

const report = makeReport('n1')
  .pf({ numVfs: 4, configured: 4, maxVfs: 4, inUse: ['a', 'b', 'c', 'x'] })
  .build();
const PF = report.pfs[0]?.pciAddress ?? '';
const one = (count: number) => [{ pfPciAddress: PF, linkType: 'ib' as const, count }];
// a, b, c hold reservations of one VF each (and use them); x uses a VF without a reservation.
const reservations: NodeReservations = {
  reservedByPf: new Map([[PF, 3]]),
  resizeClaims: new Map(),
  podUids: new Set(['a', 'b', 'c']),
};
const victim = (uid: string, tenant: string | undefined, held = true, priority = 0): Victim => ({
  uid,
  reservation: held ? one(1) : undefined,
  tenant,
  tenantPriority: priority,
});
const preemptor = (
  vfs: number,
  tenant = 't',
  policy: Preemptor['policy'] = 'Never',
  priority = 10,
): Preemptor => ({
  request: requestOf(makePod().vfs('ib', vfs).build()),
  tenant,
  tenantPriority: priority,
  policy,
});

describe('judgeNode', () => {
  it('keeps the fewest VF-holding victims that free the VFs, and every victim without VFs', () => {
    const v = judgeNode({
      view: viewOf(report),
      reservations,
      preemptor: preemptor(2),
      victims: [victim('a', 't'), victim('b', 't'), victim('c', 't'), victim('cpu-hog', 't', false)],
      policy: 'pack',
    });
    // No VF is free (3 reserved + 1 used by x, not a victim): two must go. a is reprieved; b and c
    // cannot be; the victim holding no VF stays as kube-scheduler proposed it.
    expect(v).toEqual({ keep: true, victims: ['b', 'c', 'cpu-hog'], trimmed: true });
  });

  it('drops a node where the victims would not free enough VFs', () => {
    const v = judgeNode({
      view: viewOf(report),
      reservations,
      preemptor: preemptor(4),
      victims: [victim('a', 't'), victim('b', 't'), victim('c', 't')],
      policy: 'pack',
    });
    expect(v).toEqual({ keep: false, why: 'evicting the victims would not free enough VFs' });
  });

  it('drops victims of another tenant the policy protects; the node goes when the rest do not free enough', () => {
    const victims = [victim('a', 'other', true, 5), victim('b', 't')];
    const never = judgeNode({
      view: viewOf(report),
      reservations,
      preemptor: preemptor(2),
      victims,
      policy: 'pack',
    });
    expect(never).toEqual({ keep: false, why: 'the victims tenancy allows would not free enough VFs' });
    const lower = judgeNode({
      view: viewOf(report),
      reservations,
      preemptor: preemptor(2, 't', 'LowerPriority', 10),
      victims,
      policy: 'pack',
    });
    expect(lower).toEqual({ keep: true, victims: ['a', 'b'], trimmed: false });
  });
});

describe('mayEvict', () => {
  it.each([
    ['same tenant', preemptor(1), victim('v', 't'), true],
    ['Never, other tenant', preemptor(1), victim('v', 'o', true, 0), false],
    ['LowerPriority, lower', preemptor(1, 't', 'LowerPriority', 10), victim('v', 'o', true, 9), true],
    ['LowerPriority, equal', preemptor(1, 't', 'LowerPriority', 10), victim('v', 'o', true, 10), false],
    [
      'LowerPriority, no tenant ranks lowest',
      preemptor(1, 't', 'LowerPriority', 0),
      victim('v', '', true, -1),
      true,
    ],
    [
      'LowerPriority, unknown pod',
      preemptor(1, 't', 'LowerPriority', 10),
      victim('v', undefined, true, -1),
      false,
    ],
    ['Any', preemptor(1, 't', 'Any'), victim('v', undefined), true],
    ['no tenant evicts only no tenant', preemptor(1, '', 'Never', -1), victim('v', '', true, -1), true],
    ['no tenant, tenant victim', preemptor(1, '', 'Never', -1), victim('v', 't'), false],
  ] as const)('%s', (_name, p, v, allowed) => {
    expect(mayEvict(p, v)).toBe(allowed);
  });
});

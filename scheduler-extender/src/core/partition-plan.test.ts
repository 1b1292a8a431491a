import { describe, expect, it } from 'vitest';
import { makeReport } from '../testing/builders.js';
import { planPartitions, type PartitionInput } from './partition-plan.js';

// Builder GUIDs: 02:00:00:00:<pf>:00:00:<vf>, inside the default pool range.
const report = makeReport('n1')
  .pf({ numVfs: 3, inUse: ['pod-a', 'pod-b', null] })
  .pf({ linkType: 'roce', numVfs: 2, inUse: ['pod-a'] })
  .build();
const g = (vf: number) => `02:00:00:00:00:00:00:0${vf}`;
const POOL = { start: 0x0200000000000000n, size: 1n << 40n };
const tenants: Record<string, string> = { 'pod-a': 'alpha', 'pod-b': 'beta' };
const pkeys: Record<string, number> = { alpha: 0x0a01, beta: 0x0b02 };

function input(actual: PartitionInput['actual'], over: Partial<PartitionInput> = {}): PartitionInput {
  return {
    reports: [report],
    tenantOfPod: (uid) => tenants[uid],
    pkeyOfTenant: (t) => pkeys[t],
    managedPkeys: [0x0a01, 0x0b02],
    actual,
    pool: POOL,
    ...over,
  };
}

describe('planPartitions', () => {
  it("adds each in-use IB VF's GUID to its pod's tenant PKey (RoCE and unnamed pods take no part)", () => {
    const plan = planPartitions(input(new Map()));
    expect(plan.add).toEqual(
      new Map([
        [0x0a01, [g(0)]],
        [0x0b02, [g(1)]],
      ]),
    );
    expect(plan.remove.size).toBe(0);
  });

  it('removes leaked GUIDs it owns (pool range or reported VFs), never foreign ones, and moves a reused VF', () => {
    const actual = new Map([
      // g(0) is pod-a's (alpha): in beta it is a leftover of an earlier pod; a destroyed VF's GUID
      // from the pool leaked too; an admin's host GUID outside the pool stays.
      [0x0b02, new Set([g(0), g(1), '02:00:00:00:09:00:00:07', 'a0:88:c2:03:00:00:00:01'])],
      [0x0a01, new Set([g(0)])],
    ]);
    const plan = planPartitions(input(actual));
    expect(plan.add.size).toBe(0);
    expect(plan.remove).toEqual(new Map([[0x0b02, ['02:00:00:00:09:00:00:07', g(0)].sort()]]));
  });

  it('a subnet manager that cannot list only ever adds', () => {
    const plan = planPartitions(input(undefined));
    expect(plan.remove.size).toBe(0);
    expect([...plan.add.keys()]).toEqual([0x0a01, 0x0b02]);
  });

  it('a released reservation (no tenant for the pod any more) takes the GUID out', () => {
    const plan = planPartitions(
      input(new Map([[0x0a01, new Set([g(0)])]]), {
        tenantOfPod: (uid) => (uid === 'pod-a' ? undefined : tenants[uid]),
      }),
    );
    expect(plan.remove).toEqual(new Map([[0x0a01, [g(0)]]]));
  });
});

import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { ProvisionRequest } from '@rdmasched/contracts';
import { planProvisioning, type PlanInput, type PlanPf } from './provision-plan.js';

const pf = (numVfs: number, configured: number, inUse = 0, totalVfs = 16): PlanPf => ({
  pciAddress: '0000:1a:00.0',
  linkType: 'ib',
  netdev: 'ibp26s0',
  sriov: { totalVfs, numVfs },
  vfs: Array.from({ length: numVfs }, (_, i) => ({
    index: i,
    pciAddress: `0000:1a:00.${i + 1}`,
    configured: i < configured,
    inUse: i < inUse,
  })),
});
type ReqOverrides = { [K in keyof ProvisionRequest]?: ProvisionRequest[K] | undefined };
const req = (o: ReqOverrides = {}): ProvisionRequest => {
  const r: Record<string, unknown> = {
    id: 'r1',
    node: 'node-a',
    pfPciAddress: '0000:1a:00.0',
    minReadyVfs: 2,
    reason: 'reservation',
    podUid: 'pod-1',
    requestedAtMs: 0,
    deadlineMs: 1,
    ...o,
  };
  if (r['podUid'] === undefined) delete r['podUid'];
  return r as ProvisionRequest;
};
const input = (o: Partial<PlanInput> = {}): PlanInput => ({
  nodeName: 'node-a',
  request: req(),
  pf: pf(0, 0),
  maxVfs: 16,
  claimOwner: 'pod-1',
  reservedCount: 2,
  podReservedCount: 2,
  eswitchMode: 'legacy',
  ...o,
});

describe('planProvisioning (docs/adr/0003)', () => {
  it.each([
    ['another node', { request: req({ node: 'node-b' }) }, 'reject', 'WRONG_NODE'],
    ['an unknown PF', { pf: undefined }, 'reject', 'UNKNOWN_PF'],
    ['SR-IOV off in firmware', { pf: { ...pf(0, 0), sriov: null } }, 'reject', 'SRIOV_DISABLED'],
    ['more than sriov_totalvfs', { request: req({ minReadyVfs: 17 }) }, 'reject', 'EXCEEDS_TOTALVFS'],
    [
      'more than the policy maximum',
      { maxVfs: 8, request: req({ minReadyVfs: 9 }) },
      'reject',
      'EXCEEDS_MAX_VFS',
    ],
    ['a reservation without podUid', { request: req({ podUid: undefined }) }, 'reject', 'MISSING_POD_UID'],
    ['a podUid with a brace', { request: req({ podUid: 'a}{b' }) }, 'reject', 'MISSING_POD_UID'],
    ['a VF in use', { pf: pf(2, 1, 1), request: req({ minReadyVfs: 3 }) }, 'fail', 'PF_BUSY'],
    ['a claim held by another pod', { claimOwner: 'pod-2' }, 'fail', 'PF_CLAIMED'],
    ['reservations of others', { reservedCount: 5 }, 'fail', 'PF_HELD'],
    ['a reservation that is gone', { podReservedCount: 0, reservedCount: 0 }, 'fail', 'RESERVATION_GONE'],
    ['switchdev', { eswitchMode: 'switchdev' as const }, 'fail', 'UNSUPPORTED_ESWITCH_MODE'],
    ['no netdev', { pf: { ...pf(0, 0), netdev: null } }, 'fail', 'NO_PF_NETDEV'],
  ])('%s -> %s %s', (_name, o, kind, code) => {
    const p = planProvisioning(input(o));
    expect(p).toMatchObject({ kind, code });
  });

  it('enough ready VFs: ready without a write, and the pod claim is released', () => {
    expect(planProvisioning(input({ pf: pf(4, 3) }))).toEqual({ kind: 'ready', releaseClaimOf: 'pod-1' });
  });
  it('VFs exist but are not configured: configure those nobody uses', () => {
    expect(planProvisioning(input({ pf: pf(4, 1, 1), request: req({ minReadyVfs: 3 }) }))).toEqual({
      kind: 'configure',
      vfs: [1, 2, 3],
      releaseClaimOf: 'pod-1',
    });
  });
  it('too few VFs on an idle PF: resize to maxVfs under the pod claim', () => {
    expect(planProvisioning(input({ pf: pf(2, 2), request: req({ minReadyVfs: 4 }), maxVfs: 8 }))).toEqual({
      kind: 'resize',
      owner: 'pod-1',
      fromVfs: 2,
      targetVfs: 8,
      takeClaim: false,
    });
  });
  it('warm-pool requests resize under the agent claim, only when nothing is reserved', () => {
    const warm = req({ reason: 'warm-pool', podUid: undefined });
    expect(planProvisioning(input({ request: warm, claimOwner: undefined, reservedCount: 0 }))).toMatchObject(
      {
        kind: 'resize',
        owner: 'agent',
        takeClaim: true,
      },
    );
    expect(planProvisioning(input({ request: warm, claimOwner: undefined, reservedCount: 1 }))).toMatchObject(
      { code: 'PF_HELD' },
    );
  });

  it('property: a resize is only planned for an idle PF nobody else holds, and never above the limits', () => {
    fc.assert(
      fc.property(
        fc.record({
          totalVfs: fc.integer({ min: 0, max: 64 }),
          numVfs: fc.integer({ min: 0, max: 64 }),
          configured: fc.integer({ min: 0, max: 64 }),
          inUse: fc.integer({ min: 0, max: 64 }),
          maxVfsPerPf: fc.integer({ min: 0, max: 64 }),
          minReady: fc.integer({ min: 1, max: 4096 }),
          reserved: fc.integer({ min: 0, max: 64 }),
          podReserved: fc.integer({ min: 0, max: 64 }),
          claim: fc.constantFrom(undefined, 'pod-1', 'pod-2', 'agent'),
          reason: fc.constantFrom('reservation' as const, 'warm-pool' as const),
        }),
        (x) => {
          const numVfs = Math.min(x.numVfs, x.totalVfs);
          const p = pf(numVfs, Math.min(x.configured, numVfs), Math.min(x.inUse, numVfs), x.totalVfs);
          const maxVfs = x.maxVfsPerPf > 0 ? Math.min(x.totalVfs, x.maxVfsPerPf) : x.totalVfs;
          const plan = planProvisioning(
            input({
              pf: p,
              maxVfs,
              request: req({
                minReadyVfs: x.minReady,
                reason: x.reason,
                ...(x.reason === 'warm-pool' ? { podUid: undefined } : {}),
              }),
              claimOwner: x.claim,
              reservedCount: x.reserved,
              podReservedCount: x.podReserved,
            }),
          );
          if (plan.kind !== 'resize') return;
          expect(p.vfs.some((v) => v.inUse)).toBe(false);
          expect(plan.targetVfs).toBeLessThanOrEqual(maxVfs);
          expect(plan.targetVfs).toBeLessThanOrEqual(x.totalVfs);
          expect(plan.targetVfs).toBeGreaterThanOrEqual(x.minReady);
          if (plan.owner === 'agent') expect(x.reserved).toBe(0);
          else expect(x.reserved).toBeLessThanOrEqual(x.podReserved);
          expect(x.claim === undefined || x.claim === plan.owner).toBe(true);
        },
      ),
      { numRuns: 2000 },
    );
  });
});

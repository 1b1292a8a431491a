import type { PodRequest } from '@rdmasched/scheduler-extender';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestFleet, type TestFleet } from '../../test/support/reports.js';
import { AlignmentOracle, achievedClass, type OracleNodeState } from './oracle.js';

// The reference host (reference/sysfs-sriov-rdma.md §7): IB PF 1a:00.0 shares a PCIe switch with
// GPUs 18:00.0 and 19:00.0 (PIX); RoCE PF 9e:00.0 sits on the other socket, PXB from GPUs
// 9c:00.0 and 9d:00.0 and SYS from the first two.
const ROCE_PF = '0000:9e:00.0';
const IB_PF = '0000:1a:00.0';

const request = (over: Partial<PodRequest> = {}): PodRequest => ({
  vfs: { ib: 0, roce: 1 },
  totalVfs: 1,
  gpus: 1,
  minRateGbps: 0,
  gpuLocality: 'preferred',
  ...over,
});

let t: TestFleet;
beforeAll(async () => {
  t = await startTestFleet([
    ['a', 'reference-host'],
    ['b', 'reference-host'],
  ]);
});
afterAll(() => t.stop());

function state(node: string, over: Partial<OracleNodeState> = {}): OracleNodeState {
  return {
    report: t.report(node),
    vfsInUse: new Map(),
    gpusInUse: new Set(),
    reservations: undefined,
    version: 0,
    ...over,
  };
}

describe('achievedClass', () => {
  it.each([
    [[ROCE_PF], ['0000:9c:00.0'], 'PXB'],
    [[ROCE_PF], ['0000:18:00.0'], 'SYS'],
    [[IB_PF], ['0000:19:00.0'], 'PIX'],
    [[IB_PF, ROCE_PF], ['0000:18:00.0', '0000:9d:00.0'], 'PXB'],
    [[IB_PF, ROCE_PF], ['0000:18:00.0'], 'SYS'],
  ])('VFs on %j with GPUs %j: %s (worst VF to its nearest GPU)', (pfs, gpus, expected) => {
    expect(achievedClass(t.report('a'), pfs, gpus)).toBe(expected);
  });

  it('is undefined without GPUs or VFs', () => {
    expect(achievedClass(t.report('a'), [], ['0000:18:00.0'])).toBeUndefined();
    expect(achievedClass(t.report('a'), [ROCE_PF], [])).toBeUndefined();
  });
});

describe('AlignmentOracle', () => {
  const oracle = () => new AlignmentOracle({ policy: 'pack', onDemandProvisioning: true });

  it('finds an aligned placement on a free node', () => {
    expect(oracle().alignedPlacementExisted(request(), 'p', 'a', ['a'], (n) => state(n))).toBe(true);
  });

  it('has none when the GPUs near the NIC are taken, and finds one on another node', () => {
    const busy = new Set(['0000:9c:00.0', '0000:9d:00.0']);
    const o = oracle();
    const lookup = (n: string) => state(n, n === 'a' ? { gpusInUse: busy, version: 1 } : {});
    expect(o.alignedPlacementExisted(request(), 'p', 'a', ['a'], lookup)).toBe(false);
    expect(o.alignedPlacementExisted(request(), 'p', 'a', ['a', 'b'], lookup)).toBe(true);
    // GPUs free again (a new version): the node is judged again, not from the memo.
    expect(o.alignedPlacementExisted(request(), 'p', 'a', ['a'], (n) => state(n, { version: 2 }))).toBe(true);
  });

  it('counts VFs allocated to other pods', () => {
    const report = t.report('a');
    const roce = report.pfs.find((p) => p.pciAddress === ROCE_PF);
    const all = new Map((roce?.vfs ?? []).map((v) => [v.pciAddress, 'someone'] as const));
    expect(all.size).toBeGreaterThan(0);
    // Every existing VF of the RoCE PF is in use, and a held PF is never grown.
    expect(
      oracle().alignedPlacementExisted(request(), 'p', 'a', ['a'], (n) => state(n, { vfsInUse: all })),
    ).toBe(false);
  });

  it("judges the pod's node without the pod's own reservation", () => {
    const reservations = {
      reservedByPf: new Map([[ROCE_PF, 4]]),
      resizeClaims: new Map<string, string>(),
      podUids: new Set(['p']),
    };
    const o = new AlignmentOracle({
      policy: 'pack',
      onDemandProvisioning: true,
      ownReservation: (uid) => (uid === 'p' ? new Map([[ROCE_PF, 4]]) : undefined),
    });
    const lookup = (n: string) => state(n, { reservations });
    expect(
      o.alignedPlacementExisted(request({ vfs: { ib: 0, roce: 4 }, totalVfs: 4 }), 'p', 'a', ['a'], lookup),
    ).toBe(true);
    expect(o.alignedPlacementExisted(request(), 'q', 'a', ['a'], lookup)).toBe(false);
  });

  it("on the pod's own node, other pods' promised GPUs stay taken", () => {
    // 9c and 9d (PXB to the RoCE PF) are promised to `q`, which the kubelet has not admitted yet;
    // `p` (judged) holds a reservation on the node too, naming 18 (SYS).
    const reservations = {
      reservedByPf: new Map([[ROCE_PF, 2]]),
      resizeClaims: new Map<string, string>(),
      podUids: new Set(['p', 'q']),
      reservedGpus: new Map([
        ['q', ['0000:9c:00.0', '0000:9d:00.0']],
        ['p', ['0000:18:00.0']],
      ]),
    };
    const o = new AlignmentOracle({
      policy: 'pack',
      onDemandProvisioning: true,
      ownReservation: (uid) => (uid === 'p' ? new Map([[ROCE_PF, 1]]) : undefined),
    });
    expect(o.alignedPlacementExisted(request(), 'p', 'a', ['a'], (n) => state(n, { reservations }))).toBe(
      false,
    );
    // Without q's promise an aligned placement exists.
    const mine = { ...reservations, reservedGpus: new Map([['p', ['0000:18:00.0']]]) };
    expect(
      o.alignedPlacementExisted(request(), 'p', 'a', ['a'], (n) => state(n, { reservations: mine })),
    ).toBe(true);
  });

  it('offers only configured VFs without on-demand provisioning', () => {
    // The reference host's VFs exist but are not configured: a static cluster has none to give.
    const o = new AlignmentOracle({ policy: 'pack', onDemandProvisioning: false });
    expect(o.alignedPlacementExisted(request(), 'p', 'a', ['a'], (n) => state(n))).toBe(false);
  });

  it('judges only GPU pods that care about locality', () => {
    const o = oracle();
    expect(o.alignedPlacementExisted(request({ gpus: 0 }), 'p', 'a', ['a'], (n) => state(n))).toBeUndefined();
    expect(
      o.alignedPlacementExisted(request({ gpuLocality: 'none' }), 'p', 'a', ['a'], (n) => state(n)),
    ).toBeUndefined();
  });
});

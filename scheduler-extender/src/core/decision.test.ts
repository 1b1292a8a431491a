import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { validateNodeReport, type NodeReport } from '@rdmasched/contracts';
import { makePod, makeReport } from '../testing/builders.js';
import { decide, requestOf } from '../testing/views.js';
import type { ReasonCode } from './reasons.js';
import type { NodeDecision } from './decision.js';

const exampleHost = JSON.parse(
  readFileSync(new URL('../../../contracts/test/fixtures/example-host.report.json', import.meta.url), 'utf8'),
) as NodeReport;

function reasonOf(
  d: NodeDecision,
): { code: ReasonCode; unresolvable: boolean; linkType: string | null } | 'feasible' {
  return d.feasible
    ? 'feasible'
    : { code: d.reason.code, unresolvable: d.reason.unresolvable, linkType: d.reason.linkType };
}

describe('decideNode: rejections', () => {
  const cases: {
    name: string;
    report: NodeReport;
    pod: ReturnType<typeof makePod>;
    code: ReasonCode;
    unresolvable: boolean;
    linkType?: string | null;
  }[] = [
    {
      name: 'no PF of the link type',
      report: makeReport().pf({ linkType: 'roce' }).build(),
      pod: makePod().vfs('ib', 1),
      code: 'NO_LINK_TYPE',
      unresolvable: true,
      linkType: 'ib',
    },
    {
      name: 'every PF below the minimum rate',
      report: makeReport().pf({ rateGbps: 100 }).pf({ rateGbps: 200 }).build(),
      pod: makePod().vfs('ib', 1).minRateGbps(400),
      code: 'RATE_TOO_LOW',
      unresolvable: true,
    },
    {
      name: 'SR-IOV disabled on every fast-enough PF',
      report: makeReport().pf({ sriov: false }).pf({ rateGbps: 100, numVfs: 4 }).build(),
      pod: makePod().vfs('ib', 1).minRateGbps(400),
      code: 'SRIOV_DISABLED',
      unresolvable: true,
    },
    {
      name: 'more VFs than the node could ever supply',
      report: makeReport().pf({ totalVfs: 16, maxVfs: 8 }).pf({ totalVfs: 8 }).build(),
      pod: makePod().vfs('ib', 17),
      code: 'NEVER_ENOUGH_VFS',
      unresolvable: true,
    },
    {
      name: 'the second link type is missing',
      report: makeReport().pf({ linkType: 'ib' }).build(),
      pod: makePod().vfs('ib', 1).vfs('roce', 1),
      code: 'NO_LINK_TYPE',
      unresolvable: true,
      linkType: 'roce',
    },
    {
      name: 'fewer GPUs than requested',
      report: makeReport().gpus(2).pf().build(),
      pod: makePod().vfs('ib', 1).gpus(4),
      code: 'NOT_ENOUGH_GPUS',
      unresolvable: true,
    },
    {
      name: 'required locality impossible even on an idle node',
      report: makeReport()
        .gpus(2, { numa: 0, switch: 'a' })
        .pf({ at: { numa: 1, switch: 'b' } })
        .build(),
      pod: makePod().vfs('ib', 1).gpus(1).locality('required'),
      code: 'LOCALITY_UNREACHABLE',
      unresolvable: true,
    },
    {
      name: 'GPUs allocated now',
      report: makeReport().gpus(2, undefined, 1).pf().build(),
      pod: makePod().vfs('ib', 1).gpus(2),
      code: 'NOT_ENOUGH_FREE_GPUS',
      unresolvable: false,
    },
    {
      name: 'port down',
      report: makeReport().pf({ portState: 'DOWN', numVfs: 4 }).build(),
      pod: makePod().vfs('ib', 1),
      code: 'PORT_DOWN',
      unresolvable: false,
    },
    {
      name: 'a held PF never grows beyond its numVfs',
      report: makeReport().pf({ numVfs: 4, inUse: 4 }).build(),
      pod: makePod().vfs('ib', 1),
      code: 'NOT_ENOUGH_VFS',
      unresolvable: false,
    },
    {
      name: 'a PF being resized takes nothing',
      report: makeReport().pf({ resizing: true }).build(),
      pod: makePod().vfs('ib', 1),
      code: 'NOT_ENOUGH_VFS',
      unresolvable: false,
    },
    {
      name: 'reserved VFs count as used',
      report: makeReport().pf({ numVfs: 2, reserved: 1, inUse: 1 }).build(),
      pod: makePod().vfs('ib', 1),
      code: 'NOT_ENOUGH_VFS',
      unresolvable: false,
    },
    {
      name: 'required locality not possible now (aligned GPU taken)',
      report: makeReport()
        .gpu({ at: { switch: 'a' }, allocated: true })
        .gpu({ at: { switch: 'b' } })
        .pf({ at: { switch: 'a' } })
        .pf({ at: { switch: 'b' }, numVfs: 2, inUse: 2 })
        .build(),
      pod: makePod().vfs('ib', 1).gpus(1).locality('required'),
      code: 'LOCALITY_NOT_NOW',
      unresolvable: false,
    },
  ];

  it.each(cases)('$name -> $code', ({ report, pod, code, unresolvable, linkType }) => {
    expect(validateNodeReport(report).ok).toBe(true);
    const got = reasonOf(decide(report, requestOf(pod.build())));
    expect(got).toMatchObject({ code, unresolvable, ...(linkType === undefined ? {} : { linkType }) });
  });

  it('a resize claim in the ledger blocks the PF', () => {
    const report = makeReport().pf({ numVfs: 4 }).build();
    const pf = report.pfs[0]?.pciAddress ?? '';
    const d = decide(report, requestOf(makePod().vfs('ib', 1).build()), {
      reservations: { reservedByPf: new Map(), resizeClaims: new Map([[pf, 'pod-x']]), podUids: new Set() },
    });
    expect(reasonOf(d)).toMatchObject({ code: 'NOT_ENOUGH_VFS' });
  });
});

describe('decideNode: plans', () => {
  it('provisions an idle PF up to maxVfs', () => {
    const d = decide(
      makeReport().pf({ numVfs: 0, maxVfs: 16 }).build(),
      requestOf(makePod().vfs('ib', 4).build()),
    );
    expect(d.feasible).toBe(true);
    if (d.feasible) {
      expect(d.placement.plan.needsProvisioning).toBe(true);
      expect(d.placement.plan.pfs).toMatchObject([{ count: 4, provision: true, linkType: 'ib' }]);
    }
  });

  it('uses ready VFs without provisioning when there are enough', () => {
    const d = decide(
      makeReport().pf({ numVfs: 8, configured: 8 }).build(),
      requestOf(makePod().vfs('ib', 4).build()),
    );
    expect(d.feasible && d.placement.plan.needsProvisioning).toBe(false);
  });

  it('unconfigured VFs need provisioning (configuring), on a held PF too', () => {
    const d = decide(
      makeReport().pf({ numVfs: 4, configured: 1, inUse: 1 }).build(),
      requestOf(makePod().vfs('ib', 2).build()),
    );
    expect(d.feasible).toBe(true);
    if (d.feasible) expect(d.placement.plan.pfs).toMatchObject([{ count: 2, provision: true }]);
  });

  it('prefers the PF on the GPU switch (PIX) over a far one (SYS)', () => {
    const report = makeReport()
      .gpus(2, { numa: 0, switch: 'a' })
      .pf({ numVfs: 8, at: { numa: 1, switch: 'far' } })
      .pf({ numVfs: 8, at: { numa: 0, switch: 'a' } })
      .build();
    const d = decide(report, requestOf(makePod().vfs('ib', 2).gpus(1).build()));
    expect(d.feasible).toBe(true);
    if (d.feasible) {
      expect(d.placement.plan.distance).toBe('PIX');
      expect(d.placement.plan.pfs.map((p) => p.pciAddress)).toEqual([report.pfs[1]?.pciAddress]);
      expect(d.placement.plan.gpus).toHaveLength(1);
    }
  });

  it('falls back to a worse class under preferred locality', () => {
    const report = makeReport()
      .gpus(1, { numa: 0, switch: 'a' })
      .pf({ numVfs: 4, at: { numa: 1, switch: 'b' } })
      .build();
    const d = decide(report, requestOf(makePod().vfs('ib', 1).gpus(1).build()));
    expect(d.feasible && d.placement.plan.distance).toBe('SYS');
  });

  it('chooses the GPUs so that both NICs are covered (two switches, two GPUs)', () => {
    const report = makeReport()
      .gpus(2, { switch: 'a' })
      .gpus(2, { switch: 'b' })
      .pf({ numVfs: 1, at: { switch: 'a' } })
      .pf({ numVfs: 1, at: { switch: 'b' } })
      .build();
    const d = decide(report, requestOf(makePod().vfs('ib', 2).gpus(2).locality('required').build()));
    expect(d.feasible).toBe(true);
    if (d.feasible) {
      expect(d.placement.plan.distance).toBe('PIX');
      const gpuSwitch = (addr: string) => report.gpus.findIndex((g) => g.pciAddress === addr) < 2;
      expect(d.placement.plan.gpus.map(gpuSwitch).sort()).toEqual([false, true]);
    }
  });

  it('best fit on rate: the slowest port that meets the minimum', () => {
    const report = makeReport()
      .pf({ rateGbps: 400, numVfs: 4 })
      .pf({ rateGbps: 200, numVfs: 4 })
      .pf({ rateGbps: 100, numVfs: 4 })
      .build();
    const d = decide(report, requestOf(makePod().vfs('ib', 1).minRateGbps(150).build()));
    expect(d.feasible && d.placement.plan.fastestRateGbps).toBe(200);
  });

  it('pack prefers a PF already held; spread prefers the emptiest', () => {
    const report = makeReport().pf({ numVfs: 8, inUse: 2 }).pf({ numVfs: 8 }).build();
    const pod = requestOf(makePod().vfs('ib', 1).build());
    const packed = decide(report, pod, { policy: 'pack' });
    const spread = decide(report, pod, { policy: 'spread' });
    expect(packed.feasible && packed.placement.plan.pfs[0]?.pfIndex).toBe(0);
    expect(spread.feasible && spread.placement.plan.pfs[0]?.pfIndex).toBe(1);
  });

  it('the reference example host: 1 IB VF next to a free GPU is PIX and ready now', () => {
    expect(validateNodeReport(exampleHost).ok).toBe(true);
    const d = decide(exampleHost, requestOf(makePod().vfs('ib', 1).gpus(1).locality('required').build()));
    expect(d.feasible).toBe(true);
    if (d.feasible) {
      expect(d.placement.plan).toMatchObject({
        distance: 'PIX',
        needsProvisioning: false,
        pfs: [{ pciAddress: '0000:1a:00.0', count: 1, provision: false }],
      });
      expect(['0000:18:00.0', '0000:19:00.0']).toContain(d.placement.plan.gpus[0]);
      // L 6 + R 0.5 + P 1 + K 2.5 * (0.5 * (1+1)/4 + 0.5 * 1) = 9.375
      expect(d.placement.breakdown.total).toBeCloseTo(9.375);
      expect(d.score).toBe(9);
    }
  });

  it('the example host: RoCE VFs sit PXB from GPU2 (GPU3 is allocated)', () => {
    const d = decide(exampleHost, requestOf(makePod().vfs('roce', 1).gpus(1).build()));
    expect(d.feasible && d.placement.plan).toMatchObject({ distance: 'PXB', gpus: ['0000:9c:00.0'] });
  });

  it('the example host: the held IB PF cannot give more than its 4 VFs now', () => {
    expect(reasonOf(decide(exampleHost, requestOf(makePod().vfs('ib', 4).build())))).toMatchObject({
      code: 'NOT_ENOUGH_VFS',
    });
  });
});

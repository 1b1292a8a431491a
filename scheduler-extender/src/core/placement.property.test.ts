/**
 * Property tests of the filter/score core over random nodes and requests, checked against an
 * independent brute-force oracle written from the rules (not from the implementation).
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  classifyDistance,
  distanceRank,
  GPU_LOCALITY_MODES,
  LINK_TYPES,
  validateNodeReport,
  type DistanceClass,
  type LinkType,
  type NodeReport,
} from '@rdmasched/contracts';
import { makeReport, type PfSpec, type PciePlacementSpec } from '../testing/builders.js';
import { decide } from '../testing/views.js';
import type { PodRequest } from './pod-request.js';
import type { NodeDecision } from './decision.js';
import { PACKING_POLICIES, type PackingPolicy } from './score.js';

const placementArb: fc.Arbitrary<PciePlacementSpec> = fc.record({
  numa: fc.integer({ min: 0, max: 1 }),
  // Host bridges take the NUMA node of their first device, so two bridges may share one (NODE).
  hostBridge: fc.constantFrom('h0', 'h1', 'h2'),
  rootPort: fc.constantFrom('r0', 'r1'),
  switch: fc.constantFrom('a', 'b', 'c'),
});

const pfArb: fc.Arbitrary<PfSpec> = fc
  .record({
    linkType: fc.constantFrom<LinkType>('ib', 'ib', 'roce'),
    rateGbps: fc.constantFrom(100, 200, 400),
    portActive: fc.constantFrom(true, true, true, false),
    sriov: fc.constantFrom(true, true, true, true, false),
    totalVfs: fc.integer({ min: 1, max: 12 }),
    maxVfs: fc.integer({ min: 0, max: 12 }),
    numVfs: fc.integer({ min: 0, max: 12 }),
    configured: fc.integer({ min: 0, max: 12 }),
    inUse: fc.integer({ min: 0, max: 4 }),
    reserved: fc.integer({ min: 0, max: 3 }),
    resizing: fc.constantFrom(false, false, false, false, false, false, false, false, false, true),
    at: placementArb,
  })
  .map((r) => {
    const numVfs = Math.min(r.numVfs, r.totalVfs);
    const inUse = Math.min(r.inUse, numVfs);
    return {
      linkType: r.linkType,
      rateGbps: r.rateGbps,
      portState: r.portActive ? 'ACTIVE' : 'DOWN',
      sriov: r.sriov,
      totalVfs: r.totalVfs,
      maxVfs: Math.min(Math.max(r.maxVfs, r.totalVfs >> 1), r.totalVfs),
      numVfs,
      configured: Math.min(r.configured, numVfs),
      inUse,
      reserved: Math.min(r.reserved, numVfs - inUse),
      resizing: r.resizing,
      at: r.at,
    } satisfies PfSpec;
  });

interface NodeSpec {
  readonly gpus: readonly { at: PciePlacementSpec; allocated: boolean }[];
  readonly pfs: readonly PfSpec[];
}

const nodeSpecArb: fc.Arbitrary<NodeSpec> = fc.record({
  gpus: fc.array(fc.record({ at: placementArb, allocated: fc.constantFrom(false, false, false, true) }), {
    minLength: 0,
    maxLength: 6,
  }),
  pfs: fc.array(pfArb, { minLength: 1, maxLength: 5 }),
});

function buildNode(spec: NodeSpec): NodeReport {
  const b = makeReport('prop-node');
  for (const g of spec.gpus) b.gpu({ at: g.at, allocated: g.allocated });
  for (const pf of spec.pfs) b.pf(pf);
  return b.build();
}

const reportArb: fc.Arbitrary<NodeReport> = nodeSpecArb.map(buildNode);

/** Reports with at least one VF reserved or in use (so there is one to free). */
const heldReportArb: fc.Arbitrary<NodeReport> = fc.tuple(nodeSpecArb, pfArb).map(([spec, extra]) => {
  const held = spec.pfs.some(
    (pf) => pf.sriov !== false && ((pf.inUse as number) > 0 || (pf.reserved as number) > 0),
  );
  if (held) return buildNode(spec);
  const total = Math.max(extra.totalVfs ?? 1, 1);
  return buildNode({
    ...spec,
    pfs: [...spec.pfs, { ...extra, sriov: true, totalVfs: total, numVfs: total, inUse: 1 }],
  });
});

/** Reports with at least one VF that exists but is not configured. */
const unconfiguredReportArb: fc.Arbitrary<NodeReport> = fc.tuple(nodeSpecArb, pfArb).map(([spec, extra]) => {
  const total = Math.max(extra.totalVfs ?? 1, 1);
  return buildNode({
    ...spec,
    pfs: [
      ...spec.pfs,
      { ...extra, sriov: true, totalVfs: total, numVfs: total, configured: 0, inUse: 0, reserved: 0 },
    ],
  });
});

const requestArb: fc.Arbitrary<PodRequest> = fc
  .record({
    ib: fc.oneof(
      fc.integer({ min: 1, max: 4 }),
      fc.integer({ min: 1, max: 4 }),
      fc.integer({ min: 0, max: 12 }),
    ),
    roce: fc.oneof(fc.constant(0), fc.constant(0), fc.constant(0), fc.integer({ min: 1, max: 3 })),
    gpus: fc.oneof(fc.constant(0), fc.integer({ min: 1, max: 3 })),
    minRateGbps: fc.constantFrom(0, 0, 0, 100, 200, 400),
    gpuLocality: fc.constantFrom(...GPU_LOCALITY_MODES),
  })
  .filter((r) => r.ib + r.roce > 0)
  .map((r) => ({
    vfs: { ib: r.ib, roce: r.roce },
    totalVfs: r.ib + r.roce,
    gpus: r.gpus,
    minRateGbps: r.minRateGbps,
    gpuLocality: r.gpuLocality,
  }));

/** Nodes and requests where GPU alignment matters: many feasible cases across every class. */
const gpuNodeArb: fc.Arbitrary<NodeReport> = fc
  .record({
    gpus: fc.array(fc.record({ at: placementArb, allocated: fc.constantFrom(false, false, false, true) }), {
      minLength: 2,
      maxLength: 6,
    }),
    pfs: fc.array(pfArb, { minLength: 2, maxLength: 5 }),
  })
  .map((spec) =>
    buildNode({
      gpus: spec.gpus,
      pfs: spec.pfs.map((pf) => ({
        ...pf,
        linkType: 'ib' as const,
        sriov: true,
        portState: 'ACTIVE' as const,
        resizing: false,
      })),
    }),
  );

const gpuRequestArb: fc.Arbitrary<PodRequest> = fc
  .record({
    ib: fc.integer({ min: 1, max: 6 }),
    gpus: fc.integer({ min: 1, max: 3 }),
    gpuLocality: fc.constantFrom<PodRequest['gpuLocality']>('required', 'preferred'),
  })
  .map((r) => ({
    vfs: { ib: r.ib, roce: 0 },
    totalVfs: r.ib,
    gpus: r.gpus,
    minRateGbps: 0,
    gpuLocality: r.gpuLocality,
  }));

const policyArb = fc.constantFrom<PackingPolicy>(...PACKING_POLICIES);

// ---------- the oracle: the rules, written out independently ----------

interface OraclePf {
  readonly linkType: LinkType;
  readonly usable: boolean;
  readonly avail: number;
  readonly readyFree: number;
}

function oraclePfs(report: NodeReport, request: PodRequest): OraclePf[] {
  return report.pfs.map((pf) => {
    const held = pf.vfs.filter((v) => v.state !== 'free').length;
    const configured = pf.vfs.filter((v) => v.configured).length;
    const s = pf.sriov;
    const usable =
      s !== null &&
      !s.resizing &&
      pf.portState === 'ACTIVE' &&
      pf.rateGbps >= request.minRateGbps &&
      request.vfs[pf.linkType] > 0;
    const capacity =
      s === null
        ? 0
        : held > 0
          ? Math.max(configured, Math.min(s.numVfs, s.maxVfs))
          : Math.max(s.maxVfs, configured);
    const avail = usable ? Math.max(0, capacity - held) : 0;
    return {
      linkType: pf.linkType,
      usable,
      avail,
      readyFree: Math.min(avail, Math.max(0, configured - held)),
    };
  });
}

function subsets<T>(items: readonly T[], k: number): T[][] {
  if (k === 0) return [[]];
  if (items.length < k) return [];
  const [head, ...rest] = items as [T, ...T[]];
  return [...subsets(rest, k - 1).map((s) => [head, ...s]), ...subsets(rest, k)];
}

/** Lowest class (rank) reachable now, or undefined when the pod cannot be placed at all. */
function oracleBestClass(report: NodeReport, request: PodRequest): number | undefined {
  const pfs = oraclePfs(report, request);
  const free = report.gpus.filter((g) => !g.allocated);
  if (free.length < request.gpus) return undefined;
  const locality = request.gpus > 0 && request.gpuLocality !== 'none';
  const limit = request.gpuLocality === 'required' ? distanceRank('PXB') : 4;
  let best: number | undefined;
  for (const chosen of locality ? subsets(free, request.gpus) : [[]]) {
    for (let c = 0; c <= (locality ? limit : 0); c++) {
      const fits = LINK_TYPES.every((t) => {
        let sum = 0;
        report.pfs.forEach((pf, i) => {
          const o = pfs[i];
          if (o === undefined || o.linkType !== t) return;
          const cls = locality ? Math.min(...chosen.map((g) => distanceRank(classifyDistance(g, pf)))) : 0;
          if (cls <= c) sum += o.avail;
        });
        return sum >= request.vfs[t];
      });
      if (fits) {
        best = Math.min(best ?? c, c);
        break;
      }
    }
  }
  return best;
}

/** Checks a feasible decision's plan against the rules; returns the problems found. */
function planProblems(report: NodeReport, request: PodRequest, d: NodeDecision): string[] {
  if (!d.feasible) return [];
  const problems: string[] = [];
  const pfs = oraclePfs(report, request);
  const plan = d.placement.plan;
  const perType: Record<LinkType, number> = { ib: 0, roce: 0 };
  for (const p of plan.pfs) {
    const o = pfs[p.pfIndex];
    const pf = report.pfs[p.pfIndex];
    if (o === undefined || pf === undefined || pf.pciAddress !== p.pciAddress) {
      problems.push(`unknown PF ${p.pciAddress}`);
      continue;
    }
    if (!o.usable) problems.push(`PF ${p.pciAddress} is not usable`);
    if (p.count > o.avail) problems.push(`PF ${p.pciAddress}: ${p.count} > avail ${o.avail}`);
    if (p.provision !== p.count > o.readyFree) problems.push(`PF ${p.pciAddress}: wrong provision flag`);
    perType[pf.linkType] += p.count;
  }
  for (const t of LINK_TYPES)
    if (perType[t] !== request.vfs[t]) problems.push(`${t}: ${perType[t]} != ${request.vfs[t]}`);
  if (plan.gpus.length !== request.gpus || new Set(plan.gpus).size !== request.gpus)
    problems.push('wrong GPU count');
  for (const g of plan.gpus) {
    const gpu = report.gpus.find((x) => x.pciAddress === g);
    if (gpu === undefined || gpu.allocated) problems.push(`GPU ${g} is not free`);
  }
  if (request.gpus > 0 && request.gpuLocality !== 'none') {
    let worst = 0;
    for (const p of plan.pfs) {
      const pf = report.pfs[p.pfIndex];
      if (pf === undefined) continue;
      const near = Math.min(
        ...plan.gpus.map((g) =>
          distanceRank(classifyDistance(report.gpus.find((x) => x.pciAddress === g) ?? pf, pf)),
        ),
      );
      worst = Math.max(worst, near);
    }
    const cls = ['PIX', 'PXB', 'PHB', 'NODE', 'SYS'][worst] as DistanceClass;
    if (plan.distance !== cls) problems.push(`plan says ${plan.distance} but is ${cls}`);
    if (request.gpuLocality === 'required' && worst > distanceRank('PXB'))
      problems.push('required locality violated');
  } else if (plan.distance !== null) {
    problems.push('distance given although locality does not apply');
  }
  return problems;
}

/** The report with one held VF (reserved or in use) set free. */
function freeOneVf(report: NodeReport, pick: number): NodeReport | undefined {
  const held: [number, number][] = [];
  report.pfs.forEach((pf, i) => pf.vfs.forEach((v, j) => v.state !== 'free' && held.push([i, j])));
  if (held.length === 0) return undefined;
  const [i, j] = held[pick % held.length] ?? [0, 0];
  const copy = structuredClone(report);
  const vf = copy.pfs[i]?.vfs[j];
  if (vf === undefined) return undefined;
  vf.state = 'free';
  delete vf.podUid;
  return copy;
}

const runs = { numRuns: 500 };

describe('core properties', () => {
  it('generated reports are valid (the generator itself is sound)', () => {
    fc.assert(
      fc.property(reportArb, (r) => validateNodeReport(r).ok),
      { numRuns: 200 },
    );
  });

  it('scores are integers within 0..10', () => {
    fc.assert(
      fc.property(reportArb, requestArb, policyArb, (report, request, policy) => {
        const d = decide(report, request, { policy });
        if (d.feasible) {
          expect(Number.isInteger(d.score)).toBe(true);
          expect(d.score).toBeGreaterThanOrEqual(0);
          expect(d.score).toBeLessThanOrEqual(10);
        }
      }),
      runs,
    );
  });

  it('a node that cannot host the pod is never feasible, and every plan obeys the rules', () => {
    fc.assert(
      fc.property(reportArb, requestArb, policyArb, (report, request, policy) => {
        const d = decide(report, request, { policy });
        expect(planProblems(report, request, d)).toEqual([]);
        if (d.feasible) expect(oracleBestClass(report, request)).toBeDefined();
      }),
      runs,
    );
  });

  it('a node that can host the pod is never rejected, and gets the best class the oracle finds', () => {
    fc.assert(
      fc.property(reportArb, requestArb, policyArb, (report, request, policy) => {
        const best = oracleBestClass(report, request);
        const d = decide(report, request, { policy });
        expect(d.feasible).toBe(best !== undefined);
        if (d.feasible && request.gpus > 0 && request.gpuLocality !== 'none') {
          expect(distanceRank(d.placement.plan.distance ?? 'SYS')).toBe(best);
        }
        if (!d.feasible && best === undefined && d.reason.unresolvable) {
          // Unresolvable means impossible even when every VF and GPU is free.
          const idle = structuredClone(report);
          for (const pf of idle.pfs) for (const v of pf.vfs) v.state = 'free';
          for (const g of idle.gpus) g.allocated = false;
          for (const pf of idle.pfs) pf.portState = 'ACTIVE';
          expect(decide(idle, request, { policy }).feasible).toBe(false);
        }
      }),
      runs,
    );
  });

  it('GPU-aligned requests: feasible exactly when the oracle finds a plan, at the class it finds', () => {
    fc.assert(
      fc.property(gpuNodeArb, gpuRequestArb, policyArb, (report, request, policy) => {
        const best = oracleBestClass(report, request);
        const d = decide(report, request, { policy });
        expect(d.feasible).toBe(best !== undefined);
        expect(planProblems(report, request, d)).toEqual([]);
        if (d.feasible) expect(distanceRank(d.placement.plan.distance ?? 'SYS')).toBe(best);
      }),
      { numRuns: 1000 },
    );
  });

  it('freeing a VF never makes a feasible node infeasible', () => {
    fc.assert(
      fc.property(heldReportArb, requestArb, policyArb, fc.nat(), (report, request, policy, pick) => {
        const freed = freeOneVf(report, pick);
        expect(freed).toBeDefined();
        if (freed === undefined) return;
        const before = decide(report, request, { policy });
        const after = decide(freed, request, { policy });
        if (before.feasible) expect(after.feasible).toBe(true);
      }),
      runs,
    );
  });

  it('under spread, more free VFs never lower a score', () => {
    fc.assert(
      fc.property(heldReportArb, requestArb, fc.nat(), (report, request, pick) => {
        const freed = freeOneVf(report, pick);
        expect(freed).toBeDefined();
        if (freed === undefined) return;
        const before = decide(report, request, { policy: 'spread' });
        const after = decide(freed, request, { policy: 'spread' });
        if (before.feasible && after.feasible) {
          expect(after.placement.breakdown.total).toBeGreaterThanOrEqual(
            before.placement.breakdown.total - 1e-9,
          );
          expect(after.score).toBeGreaterThanOrEqual(before.score);
        }
      }),
      runs,
    );
  });

  it('under spread, more free VFs never lower a score, GPU-aligned requests', () => {
    fc.assert(
      fc.property(gpuNodeArb, gpuRequestArb, fc.nat(), (report, request, pick) => {
        const freed = freeOneVf(report, pick);
        fc.pre(freed !== undefined);
        if (freed === undefined) return;
        const before = decide(report, request, { policy: 'spread' });
        const after = decide(freed, request, { policy: 'spread' });
        if (before.feasible) {
          expect(after.feasible).toBe(true);
          if (after.feasible) expect(after.score).toBeGreaterThanOrEqual(before.score);
        }
      }),
      { numRuns: 1000 },
    );
  });

  it('under spread, more configured (ready) VFs never lower a score', () => {
    fc.assert(
      fc.property(unconfiguredReportArb, requestArb, fc.nat(), (report, request, pick) => {
        const unconfigured: [number, number][] = [];
        report.pfs.forEach((pf, i) => pf.vfs.forEach((v, j) => !v.configured && unconfigured.push([i, j])));
        expect(unconfigured.length).toBeGreaterThan(0);
        const [i, j] = unconfigured[pick % unconfigured.length] ?? [0, 0];
        const more = structuredClone(report);
        const pf = more.pfs[i];
        const vf = pf?.vfs[j];
        if (pf === undefined || vf === undefined) return;
        vf.configured = true;
        if (pf.linkType === 'ib') vf.guid = '02:00:00:00:00:ff:ff:ff';
        else vf.mac = '02:00:00:ff:ff:ff';
        const before = decide(report, request, { policy: 'spread' });
        const after = decide(more, request, { policy: 'spread' });
        if (before.feasible) {
          expect(after.feasible).toBe(true);
          if (after.feasible) expect(after.score).toBeGreaterThanOrEqual(before.score);
        }
      }),
      runs,
    );
  });
});

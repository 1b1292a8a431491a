/**
 * GetPreferredAllocation: which of the available VFs a container should get. Pure and
 * deterministic (the same question always gets the same answer, whatever the order of the
 * kubelet's lists).
 *
 * Why the pod is not known here: the kubelet's device manager asks with nothing but device IDs
 * (`available_deviceIDs`, `must_include_deviceIDs`, `allocation_size`); neither the pod's UID nor
 * its name is in the request (nor in Allocate). So the plugin cannot look up "the" reservation of
 * the pod being admitted. The heuristic works on counts instead, which is what the ledger keeps
 * anyway (reservations count VFs per PF, docs/adr/0003):
 *
 * 1. `must_include_deviceIDs` are always in the answer.
 * 2. Reserved first: PFs with VFs reserved for pods on this node that the kubelet has not
 *    allocated yet (`outstanding`). A PF whose outstanding count equals what is still needed is
 *    most likely the reservation of the pod being admitted, so it goes first; then PFs with more
 *    (smallest first), then PFs with fewer (largest first). At most `outstanding` VFs are taken
 *    from a PF in this step.
 * 3. Then VFs that no reservation counts on: on a PF already chosen; else on the NUMA node of
 *    what was chosen (a container split across sockets loses more than one split across PFs);
 *    else on one PF that can hold everything still needed (a busy PF, with VFs in use, before an
 *    idle one, so idle PFs stay resizable; then the smallest that fits); else on a NUMA node that
 *    can hold everything still needed; the largest PFs first (fewest PFs).
 * 4. Then, only if still short, VFs other pods' reservations count on, in the same order.
 * 5. Then IDs the plugin does not know (stale lists), by address.
 * Ties are broken by PCI address.
 *
 * When several pods with reservations on different PFs are admitted at once, a pod may get the
 * other pod's PF; the counts still add up (each PF's reserved VFs are all used), and the extender
 * checked both placements, so the cost is at most a less aligned pair, never a VF given twice.
 */
import { cmp } from './inventory.js';

export interface PreferenceVf {
  readonly id: string;
  readonly pf: string;
  /** -1 when unknown (never counted as "the same NUMA node"). */
  readonly numaNode: number;
}

export interface PreferenceInput {
  readonly available: readonly string[];
  readonly mustInclude: readonly string[];
  readonly size: number;
  /** The VFs the plugin knows for this resource, by ID. */
  readonly vfs: ReadonlyMap<string, PreferenceVf>;
  /** PF -> VFs reserved there for pods whose VFs the kubelet has not allocated yet. */
  readonly outstandingByPf: ReadonlyMap<string, number>;
  /** PF -> VFs in use there now. */
  readonly inUseByPf: ReadonlyMap<string, number>;
}

interface PfPool {
  readonly pf: string;
  readonly numaNode: number;
  /** Available VFs on the PF not chosen yet, ascending. */
  readonly free: string[];
  outstanding: number;
  readonly busy: boolean;
}

export function preferAllocation(input: PreferenceInput): string[] {
  const size = Number.isFinite(input.size) ? Math.max(0, Math.floor(input.size)) : 0;
  const chosen: string[] = [];
  const taken = new Set<string>();
  for (const id of input.mustInclude) {
    if (taken.has(id)) continue;
    taken.add(id);
    chosen.push(id);
  }
  const anchorPfs = new Set<string>();
  const anchorNumas = new Set<number>();
  const anchor = (id: string) => {
    const vf = input.vfs.get(id);
    if (vf === undefined) return;
    anchorPfs.add(vf.pf);
    if (vf.numaNode >= 0) anchorNumas.add(vf.numaNode);
  };
  chosen.forEach(anchor);

  const pools = new Map<string, PfPool>();
  const unknown: string[] = [];
  for (const id of [...new Set(input.available)].sort(cmp)) {
    if (taken.has(id)) continue;
    const vf = input.vfs.get(id);
    if (vf === undefined) {
      unknown.push(id);
      continue;
    }
    let pool = pools.get(vf.pf);
    if (pool === undefined) {
      pool = {
        pf: vf.pf,
        numaNode: vf.numaNode,
        free: [],
        outstanding: Math.max(0, Math.floor(input.outstandingByPf.get(vf.pf) ?? 0)),
        busy: (input.inUseByPf.get(vf.pf) ?? 0) > 0,
      };
      pools.set(vf.pf, pool);
    }
    pool.free.push(id);
  }

  let need = size - chosen.length;
  /** Takes `n` VFs of the PF; `reserved`: they are VFs a reservation counts on. */
  const take = (pool: PfPool, n: number, reserved: boolean) => {
    for (const id of pool.free.splice(0, n)) {
      chosen.push(id);
      taken.add(id);
      anchor(id);
    }
    if (reserved) pool.outstanding = Math.max(0, pool.outstanding - n);
    need -= n;
  };

  // 2. Reserved VFs.
  while (need > 0) {
    const candidates = [...pools.values()].filter((p) => p.free.length > 0 && p.outstanding > 0);
    const best = candidates.sort((a, b) => compareReserved(a, b, need, anchorPfs, anchorNumas))[0];
    if (best === undefined) break;
    take(best, Math.min(best.outstanding, best.free.length, need), true);
  }
  // 3. VFs nobody's reservation counts on, then 4. the rest.
  const phases = [
    { reserved: false, countOf: (p: PfPool) => Math.max(0, p.free.length - p.outstanding) },
    { reserved: true, countOf: (p: PfPool) => p.free.length },
  ];
  for (const { reserved, countOf } of phases) {
    while (need > 0) {
      const candidates = [...pools.values()].filter((p) => countOf(p) > 0);
      if (candidates.length === 0) break;
      const numaCapacity = new Map<number, number>();
      for (const p of candidates)
        if (p.numaNode >= 0) numaCapacity.set(p.numaNode, (numaCapacity.get(p.numaNode) ?? 0) + countOf(p));
      const best = candidates.sort((a, b) =>
        comparePacking(a, b, { need, countOf, anchorPfs, anchorNumas, numaCapacity }),
      )[0];
      if (best === undefined) break;
      take(best, Math.min(countOf(best), need), reserved);
    }
  }
  // 5. IDs the plugin does not know.
  for (const id of unknown) {
    if (need <= 0) break;
    chosen.push(id);
    need--;
  }
  return chosen;
}

/** Lower sorts first. `first(x, y)` orders true before false. */
const first = (x: boolean, y: boolean): number => (x === y ? 0 : x ? -1 : 1);

function compareReserved(
  a: PfPool,
  b: PfPool,
  need: number,
  anchorPfs: ReadonlySet<string>,
  anchorNumas: ReadonlySet<number>,
): number {
  const fa = Math.min(a.outstanding, a.free.length);
  const fb = Math.min(b.outstanding, b.free.length);
  const tier = (f: number) => (f === need ? 0 : f > need ? 1 : 2);
  return (
    tier(fa) - tier(fb) ||
    first(anchorPfs.has(a.pf), anchorPfs.has(b.pf)) ||
    first(anchorNumas.has(a.numaNode), anchorNumas.has(b.numaNode)) ||
    (tier(fa) === 1 ? fa - fb : fb - fa) ||
    cmp(a.pf, b.pf)
  );
}

function comparePacking(
  a: PfPool,
  b: PfPool,
  ctx: {
    readonly need: number;
    readonly countOf: (p: PfPool) => number;
    readonly anchorPfs: ReadonlySet<string>;
    readonly anchorNumas: ReadonlySet<number>;
    readonly numaCapacity: ReadonlyMap<number, number>;
  },
): number {
  const ca = ctx.countOf(a);
  const cb = ctx.countOf(b);
  const holdsAll = (c: number) => c >= ctx.need;
  const numaHolds = (p: PfPool) => p.numaNode >= 0 && (ctx.numaCapacity.get(p.numaNode) ?? 0) >= ctx.need;
  return (
    first(ctx.anchorPfs.has(a.pf), ctx.anchorPfs.has(b.pf)) ||
    first(ctx.anchorNumas.has(a.numaNode), ctx.anchorNumas.has(b.numaNode)) ||
    first(holdsAll(ca), holdsAll(cb)) ||
    first(numaHolds(a), numaHolds(b)) ||
    (holdsAll(ca) && holdsAll(cb) ? first(a.busy, b.busy) || ca - cb : cb - ca || first(a.busy, b.busy)) ||
    cmp(a.pf, b.pf)
  );
}

/**
 * The bind rules of the ledger (docs/adr/0003 rule 2 and its amendment), as a pure function: the
 * in-memory ledger runs it, and the Redis bind script (adapters/redis/ledger-scripts.ts) is the
 * same rules in Lua; the ledger contract tests run the same cases against both.
 *
 * Per PF, with held = ledger reserved + PfCapacity.foreignInUse and ready = PfCapacity.configured,
 * a PF takes n VFs when it has no resize claim, is not being resized, its port is ACTIVE, and
 *   held + n <= ready                                -> no provisioning
 *   held > 0 and held + n <= min(numVfs, maxVfs)     -> configure-only request, minReadyVfs = held + n
 *   held == 0 and n <= maxVfs                        -> resize claim (owner: the pod), request minReadyVfs = n
 * The tenant's quota holds per link type: usage + requested <= quota (when it has one).
 */
import { LINK_TYPES, type LinkType, type PfCapacity, type ReservedPf } from '@rdmasched/contracts';
import type { ProvisionNeed, ReserveRejectCode, TenantQuota } from '../ports/ledger.js';

export interface LedgerPfState {
  /** VFs reserved on the PF by every reservation of the node. */
  readonly reserved: number;
  /** The agent's summary; undefined when the agent published none for the PF. */
  readonly capacity: PfCapacity | undefined;
  /** Owner of the PF's resize claim, if any. */
  readonly claim: string | undefined;
}

export type ReserveCheck =
  | { readonly ok: true; readonly claims: readonly string[]; readonly provision: readonly ProvisionNeed[] }
  | { readonly ok: false; readonly code: ReserveRejectCode; readonly message: string };

/** VFs per link type of a reservation's PFs. */
export function countsByLinkType(pfs: readonly ReservedPf[]): Record<LinkType, number> {
  const out: Record<LinkType, number> = { ib: 0, roce: 0 };
  for (const p of pfs) out[p.linkType] += p.count;
  return out;
}

/** The same PF twice in one reservation is summed (the Lua script does the same). */
export function mergePfs(pfs: readonly ReservedPf[]): ReservedPf[] {
  const out: ReservedPf[] = [];
  for (const p of pfs) {
    const same = out.findIndex((q) => q.pfPciAddress === p.pfPciAddress);
    if (same < 0) out.push({ ...p });
    else {
      const q = out[same] as ReservedPf;
      out[same] = { ...q, count: q.count + p.count };
    }
  }
  return out;
}

export function checkQuota(
  requested: Readonly<Record<LinkType, number>>,
  usage: Readonly<Record<LinkType, number>>,
  quota: TenantQuota,
): ReserveCheck | undefined {
  for (const t of LINK_TYPES) {
    const q = quota[t];
    if (q === undefined || requested[t] === 0) continue;
    if (usage[t] + requested[t] > q) {
      return {
        ok: false,
        code: 'QUOTA',
        message: `tenant quota for ${t} VFs exceeded: ${usage[t]} in use + ${requested[t]} requested > quota ${q}`,
      };
    }
  }
  return undefined;
}

/** Checks one reservation against the node's PFs and the tenant's usage. Pure. */
export function checkReservation(input: {
  readonly pfs: readonly ReservedPf[];
  readonly usage: Readonly<Record<LinkType, number>>;
  readonly quota: TenantQuota;
  readonly pf: (pfPciAddress: string) => LedgerPfState;
}): ReserveCheck {
  const pfs = mergePfs(input.pfs);
  const quota = checkQuota(countsByLinkType(pfs), input.usage, input.quota);
  if (quota !== undefined) return quota;
  const claims: string[] = [];
  const provision: ProvisionNeed[] = [];
  for (const p of pfs) {
    const s = input.pf(p.pfPciAddress);
    const c = s.capacity;
    const pf = p.pfPciAddress;
    if (c === undefined)
      return { ok: false, code: 'NO_SUMMARY', message: `node agent published no capacity for PF ${pf}` };
    if (c.linkType !== p.linkType)
      return {
        ok: false,
        code: 'LINK_TYPE',
        message: `PF ${pf} is ${c.linkType}, not the requested link type`,
      };
    if (s.claim !== undefined)
      return { ok: false, code: 'CLAIMED', message: `PF ${pf} has a resize claim (${s.claim})` };
    if (c.resizing) return { ok: false, code: 'RESIZING', message: `PF ${pf} is being resized` };
    if (!c.portActive) return { ok: false, code: 'PORT_DOWN', message: `PF ${pf} port is not ACTIVE` };
    const held = s.reserved + c.foreignInUse;
    const n = p.count;
    if (held + n <= c.configured) continue;
    if (held > 0) {
      const cap = Math.min(c.numVfs, c.maxVfs);
      if (held + n <= cap) {
        provision.push({ pfPciAddress: pf, minReadyVfs: held + n });
        continue;
      }
      return {
        ok: false,
        code: 'CAPACITY',
        message: `PF ${pf} has ${held} VFs held, ${c.configured} ready and ${cap} at most without a resize; ${n} more do not fit`,
      };
    }
    if (n <= c.maxVfs) {
      claims.push(pf);
      provision.push({ pfPciAddress: pf, minReadyVfs: n });
      continue;
    }
    return {
      ok: false,
      code: 'CAPACITY',
      message: `PF ${pf} can hold at most ${Math.max(c.maxVfs, c.configured)} VFs; ${n} requested`,
    };
  }
  return { ok: true, claims, provision };
}

/**
 * GPU exclusivity (docs/adr/0073), checked after the PF rules: a GPU the reservation names whose
 * promise belongs to another pod with a live reservation on the node refuses it. `liveOwner`
 * answers the GPU's owner only when that pod still holds a reservation on the node (a stale entry
 * does not count), and never the reserving pod itself. Pure.
 */
export function checkGpus(
  gpus: readonly string[],
  liveOwner: (gpu: string) => string | undefined,
):
  | { readonly ok: true }
  | {
      readonly ok: false;
      readonly code: 'GPU_TAKEN';
      readonly message: string;
      readonly gpu: { readonly pciAddress: string; readonly owner: string };
    } {
  for (const g of gpus) {
    const owner = liveOwner(g);
    if (owner !== undefined)
      return {
        ok: false,
        code: 'GPU_TAKEN',
        message: `GPU ${g} is promised to pod ${owner}`,
        gpu: { pciAddress: g, owner },
      };
  }
  return { ok: true };
}

/**
 * What a reservation that is already in the ledger still needs: PFs whose ready VFs are fewer
 * than the VFs held on them (its own included). A retried bind re-sends these requests; the agent
 * answers `ready` at once for a PF that has enough.
 */
export function pendingProvisioning(
  pfs: readonly ReservedPf[],
  pf: (pfPciAddress: string) => LedgerPfState,
): ProvisionNeed[] {
  const out: ProvisionNeed[] = [];
  for (const p of mergePfs(pfs)) {
    const s = pf(p.pfPciAddress);
    if (s.capacity === undefined) continue;
    const held = s.reserved + s.capacity.foreignInUse;
    if (s.capacity.configured < held) out.push({ pfPciAddress: p.pfPciAddress, minReadyVfs: held });
  }
  return out;
}

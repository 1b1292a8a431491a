/**
 * Which provisioning settings apply to this node and to each of its PFs: from the RdmaNodePolicy
 * objects that select the node (issue 4 §1, crds helpers `policiesForNode`, `policyForPf`,
 * `warmPoolForNode`), or from the agent's configuration. Pure.
 *
 * Precedence (README "RdmaNodePolicy"):
 * 1. no Kubernetes API configured, or no policy selects the node: the configuration applies to
 *    every SR-IOV PF (RDMASCHED_MAX_VFS_PER_PF, RDMASCHED_WARM_POOL_*);
 * 2. a Kubernetes API is configured but the policies or the node are not read yet: nothing is
 *    managed (no PF is written) until they are, so a policy can never be overtaken by config;
 * 3. policies select the node: they alone decide. A PF governed by one (the first of
 *    `policiesForNode` whose linkType and nicSelector accept it) gets its maxVfsPerPf (left out:
 *    sriov_totalvfs) and MTU; a PF no policy governs is reported with maxVfs 0 and never written;
 *    the warm pool per link type comes from `warmPoolForNode`.
 * Never above sriov_totalvfs; a PF with SR-IOV disabled in firmware is never managed.
 */
import type { LinkType } from '@rdmasched/contracts';
import {
  policiesForNode,
  policyForPf,
  warmPoolForNode,
  type Labels,
  type RdmaNodePolicy,
} from '@rdmasched/crds';
import { LINK_TYPE_LABEL } from '@rdmasched/contracts';
import type { WarmPoolPolicy } from './warm-pool.js';

/** What the policy source knows now. */
export type PolicyView =
  | { readonly state: 'off' }
  | { readonly state: 'waiting'; readonly reason: string }
  | {
      readonly state: 'synced';
      readonly policies: readonly RdmaNodePolicy[];
      readonly nodeLabels: Labels;
    };

/** The PF as discovery read it (only what the rules look at). */
export interface PolicyPf {
  readonly pciAddress: string;
  readonly netdev: string | null;
  readonly deviceId: string;
  readonly linkType: LinkType;
  /** null: SR-IOV disabled in firmware. */
  readonly totalVfs: number | null;
}

export interface PfSettings {
  /** The agent may write this PF (sriov_numvfs) and configure its VFs. */
  readonly managed: boolean;
  /** Most VFs the agent enables on it (0 when not managed). */
  readonly maxVfs: number;
  /** MTU for its VF netdevs; null: leave the driver's default. */
  readonly mtu: number | null;
  /** The policy that governs it; null under config or when none does. */
  readonly policy: string | null;
  /** Why the PF is not managed, for a person (link type mismatch, no policy, ...); null when managed. */
  readonly note: string | null;
}

export interface EffectiveSettings {
  readonly source: 'config' | 'policy' | 'waiting';
  readonly pfs: ReadonlyMap<string, PfSettings>;
  readonly warmPool: WarmPoolPolicy;
  /** Policies that select the node, winner first (each gets this node's status entry). */
  readonly selecting: readonly RdmaNodePolicy[];
  /**
   * Problems to report in a policy's status (`lastError`), by policy name: a PF it names
   * explicitly whose link type differs from the policy's (firmware is never changed).
   */
  readonly problems: ReadonlyMap<string, readonly string[]>;
}

export interface ConfigSettings {
  /** 0: sriov_totalvfs. */
  readonly maxVfsPerPf: number;
  readonly warmPool: WarmPoolPolicy;
}

const NO_WARM_POOL: WarmPoolPolicy = {
  minReady: { ib: 0, roce: 0 },
  maxReady: { ib: undefined, roce: undefined },
};

const capped = (total: number, max: number | undefined): number =>
  max !== undefined && max > 0 ? Math.min(total, max) : total;

export function effectiveSettings(
  pfs: readonly PolicyPf[],
  config: ConfigSettings,
  view: PolicyView,
): EffectiveSettings {
  const out = new Map<string, PfSettings>();
  const noSriov = (_pf: PolicyPf): PfSettings => ({
    managed: false,
    maxVfs: 0,
    mtu: null,
    policy: null,
    note: 'SR-IOV is disabled in firmware',
  });
  const selecting = view.state === 'synced' ? policiesForNode(view.policies, view.nodeLabels) : [];
  if (view.state === 'off' || (view.state === 'synced' && selecting.length === 0)) {
    for (const pf of pfs)
      out.set(
        pf.pciAddress,
        pf.totalVfs === null
          ? noSriov(pf)
          : {
              managed: true,
              maxVfs: capped(pf.totalVfs, config.maxVfsPerPf),
              mtu: null,
              policy: null,
              note: null,
            },
      );
    return { source: 'config', pfs: out, warmPool: config.warmPool, selecting: [], problems: new Map() };
  }
  if (view.state === 'waiting') {
    for (const pf of pfs)
      out.set(pf.pciAddress, {
        managed: false,
        maxVfs: 0,
        mtu: null,
        policy: null,
        note: `waiting for the RdmaNodePolicies and the node's labels: ${view.reason}`,
      });
    return { source: 'waiting', pfs: out, warmPool: NO_WARM_POOL, selecting: [], problems: new Map() };
  }
  const problems = new Map<string, string[]>();
  for (const pf of pfs) {
    if (pf.totalVfs === null) {
      out.set(pf.pciAddress, noSriov(pf));
      continue;
    }
    const identity = {
      pciAddress: pf.pciAddress,
      netdev: pf.netdev,
      deviceId: pf.deviceId,
      linkType: pf.linkType,
    };
    const p = policyForPf(view.policies, view.nodeLabels, identity);
    if (p !== undefined) {
      out.set(pf.pciAddress, {
        managed: true,
        maxVfs: capped(pf.totalVfs, p.spec.maxVfsPerPf),
        mtu: p.spec.mtu ?? null,
        policy: p.metadata.name ?? null,
        note: null,
      });
      continue;
    }
    // Not governed. A policy that names this PF explicitly but expects the other link type is
    // told: the port's link type is a firmware setting the agent never changes.
    const notes: string[] = [];
    for (const s of selecting) {
      const sel = s.spec.nicSelector;
      const named =
        (sel?.pciAddresses?.includes(pf.pciAddress) ?? false) ||
        (pf.netdev !== null && (sel?.pfNames?.includes(pf.netdev) ?? false));
      if (!named || s.spec.linkType === undefined || s.spec.linkType === pf.linkType) continue;
      const msg =
        `LinkTypeMismatch: PF ${pf.pciAddress}${pf.netdev === null ? '' : ` (${pf.netdev})`} is ` +
        `${LINK_TYPE_LABEL[pf.linkType]} but policy ${s.metadata.name ?? '?'} expects ${LINK_TYPE_LABEL[s.spec.linkType]}; ` +
        'rdmasched never changes a port link type (firmware), so the PF is left alone';
      notes.push(msg);
      const name = s.metadata.name ?? '';
      problems.set(name, [...(problems.get(name) ?? []), msg]);
    }
    out.set(pf.pciAddress, {
      managed: false,
      maxVfs: 0,
      mtu: null,
      policy: null,
      note: notes[0] ?? 'no RdmaNodePolicy that selects this node governs this PF',
    });
  }
  const bounds = (lt: LinkType) => warmPoolForNode(view.policies, view.nodeLabels, lt);
  const ib = bounds('ib');
  const roce = bounds('roce');
  return {
    source: 'policy',
    pfs: out,
    warmPool: {
      minReady: { ib: ib?.minReady ?? 0, roce: roce?.minReady ?? 0 },
      maxReady: { ib: ib?.maxReady, roce: roce?.maxReady },
    },
    selecting,
    problems,
  };
}

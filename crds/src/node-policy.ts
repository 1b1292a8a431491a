/**
 * Which RdmaNodePolicy applies to a node and to each of its PFs. Pure functions; the node agent
 * calls them with the policies its informer holds and its own node's labels.
 */
import type { LinkType } from '@rdmasched/contracts';
import type { RdmaNodePolicy, WarmPoolBounds } from './generated/types.js';
import { type Labels, matchesLabelSelector } from './label-selector.js';

/** The sriov-network-operator convention: 0 is the highest priority; left out it is 99. */
export const DEFAULT_POLICY_PRIORITY = 99;

function byPolicyOrder(a: RdmaNodePolicy, b: RdmaNodePolicy): number {
  const p = (a.spec.priority ?? DEFAULT_POLICY_PRIORITY) - (b.spec.priority ?? DEFAULT_POLICY_PRIORITY);
  if (p !== 0) return p;
  const an = a.metadata.name ?? '';
  const bn = b.metadata.name ?? '';
  return an < bn ? -1 : an > bn ? 1 : 0;
}

/**
 * The policies whose nodeSelector selects a node with `nodeLabels`, winner first: lowest
 * spec.priority number, then lexically smallest name. Independent of the input order.
 */
export function policiesForNode(policies: readonly RdmaNodePolicy[], nodeLabels: Labels): RdmaNodePolicy[] {
  return policies.filter((p) => matchesLabelSelector(p.spec.nodeSelector, nodeLabels)).sort(byPolicyOrder);
}

/** The policy that wins a node (see policiesForNode), or undefined when none selects it. */
export function policyForNode(
  policies: readonly RdmaNodePolicy[],
  nodeLabels: Labels,
): RdmaNodePolicy | undefined {
  return policiesForNode(policies, nodeLabels)[0];
}

/** What the agent knows about a PF that the nicSelector and linkType can test. */
export interface PfIdentity {
  readonly pciAddress: string;
  /** PF netdev name; null when it has none. */
  readonly netdev: string | null;
  /** PCI device id as in the node report, e.g. `0x1021`. */
  readonly deviceId: string;
  readonly linkType: LinkType;
}

/** True when the policy's linkType and nicSelector (all given criteria, AND) accept the PF. */
export function policyMatchesPf(policy: RdmaNodePolicy, pf: PfIdentity): boolean {
  const { linkType, nicSelector } = policy.spec;
  if (linkType !== undefined && linkType !== pf.linkType) return false;
  if (nicSelector === undefined) return true;
  const { pciAddresses, pfNames, deviceIds } = nicSelector;
  if (pciAddresses !== undefined && pciAddresses.length > 0 && !pciAddresses.includes(pf.pciAddress))
    return false;
  if (pfNames !== undefined && pfNames.length > 0 && (pf.netdev === null || !pfNames.includes(pf.netdev)))
    return false;
  if (deviceIds !== undefined && deviceIds.length > 0 && !deviceIds.includes(pf.deviceId)) return false;
  return true;
}

/**
 * The policy that governs one PF: the first of policiesForNode whose linkType and nicSelector
 * accept it. A PF no policy accepts is left alone by the agent (no VFs are created on it).
 */
export function policyForPf(
  policies: readonly RdmaNodePolicy[],
  nodeLabels: Labels,
  pf: PfIdentity,
): RdmaNodePolicy | undefined {
  return policiesForNode(policies, nodeLabels).find((p) => policyMatchesPf(p, pf));
}

/**
 * The warm-pool bounds for one link type on a node: from the first of policiesForNode whose
 * linkType is that type or unset and that sets warmPool for it. Undefined: no warm pool (0..no max).
 */
export function warmPoolForNode(
  policies: readonly RdmaNodePolicy[],
  nodeLabels: Labels,
  linkType: LinkType,
): WarmPoolBounds | undefined {
  for (const p of policiesForNode(policies, nodeLabels)) {
    if (p.spec.linkType !== undefined && p.spec.linkType !== linkType) continue;
    const bounds = p.spec.warmPool?.[linkType];
    if (bounds !== undefined) return bounds;
  }
  return undefined;
}

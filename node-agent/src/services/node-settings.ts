/**
 * The provisioning settings in force on this node, per PF: recomputed after every discovery and
 * every policy change (core/node-policy.ts). Everything that decides or guards a host change asks
 * here: how many VFs a PF may have, whether the agent may touch it at all, the warm pool, the MTU.
 */
import {
  effectiveSettings,
  type ConfigSettings,
  type EffectiveSettings,
  type PfSettings,
  type PolicyPf,
} from '../core/node-policy.js';
import type { WarmPoolPolicy } from '../core/warm-pool.js';
import type { Discovery } from '../discovery/types.js';
import type { PolicySource } from '../ports/policy-source.js';

export class NodeSettings {
  #pfs: readonly PolicyPf[] = [];
  #current: EffectiveSettings;

  constructor(
    private readonly config: ConfigSettings,
    private readonly source: PolicySource | undefined,
  ) {
    this.#current = this.#compute();
  }

  get current(): EffectiveSettings {
    return this.#current;
  }

  /** After a discovery pass. */
  update(d: Discovery): EffectiveSettings {
    this.#pfs = d.pfs.map((p) => ({
      pciAddress: p.pciAddress,
      netdev: p.netdev,
      deviceId: p.deviceId,
      linkType: p.linkType,
      totalVfs: p.sriov?.totalVfs ?? null,
    }));
    this.#current = this.#compute();
    return this.#current;
  }

  /** After a policy change (same PFs). */
  recompute(): EffectiveSettings {
    this.#current = this.#compute();
    return this.#current;
  }

  #compute(): EffectiveSettings {
    return effectiveSettings(this.#pfs, this.config, this.source?.current() ?? { state: 'off' });
  }

  pf(address: string): PfSettings | undefined {
    return this.#current.pfs.get(address);
  }

  /** The agent may write this PF and configure its VFs (false for a PF it does not know). */
  managed(pf: string): boolean {
    return this.pf(pf)?.managed === true;
  }

  /** Most VFs the agent may enable on the PF (0 for an unmanaged or unknown PF). */
  maxVfs(pf: string): number {
    return this.pf(pf)?.maxVfs ?? 0;
  }

  get warmPool(): WarmPoolPolicy {
    return this.#current.warmPool;
  }
}

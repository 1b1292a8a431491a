/**
 * Gives one VF its identity and makes it ready (reference §4.1): IB VFs get node and port GUID
 * from the cluster-wide pool, RoCE VFs an admin MAC derived from their pool identity; then the VF's
 * driver is unbound and bound again so the VF picks them up (the node GUID in sysfs changes only
 * then). Everything goes through the (guarded) HostControl.
 */
import { macFromIdentity } from '../core/identity.js';
import type { DiscoveredPf, DiscoveredVf } from '../discovery/types.js';
import type { AgentCode } from '../errors.js';
import type { GuidPool } from '../ports/guid-pool.js';
import type { HostControl } from '../ports/host-control.js';

export type ConfigureOutcome = { ok: true } | { ok: false; code: AgentCode; message: string };

export class VfConfigurator {
  constructor(
    private readonly deps: {
      readonly nodeName: string;
      readonly host: HostControl;
      readonly pool: GuidPool;
      readonly vfDriver: string;
    },
  ) {}

  async configure(pf: DiscoveredPf, vf: DiscoveredVf): Promise<ConfigureOutcome> {
    if (pf.netdev === null)
      return { ok: false, code: 'NO_PF_NETDEV', message: `${pf.pciAddress} has no netdev` };
    let identity: string;
    try {
      const a = await this.deps.pool.allocate(this.deps.nodeName, vf.pciAddress);
      if (!a.ok) return { ok: false, code: 'GUID_POOL_EXHAUSTED', message: 'the GUID pool is exhausted' };
      identity = a.guid;
    } catch (err: unknown) {
      return { ok: false, code: 'STORE_UNAVAILABLE', message: `GUID pool: ${(err as Error).message}` };
    }
    const set =
      pf.linkType === 'ib'
        ? await this.deps.host.setVfGuids(pf.netdev, vf.index, { nodeGuid: identity, portGuid: identity })
        : await this.deps.host.setVfMac(pf.netdev, vf.index, macFromIdentity(identity));
    if (!set.ok)
      return {
        ok: false,
        code: set.errno === 'UNSAFE' ? 'UNSAFE_WRITE' : 'CONFIGURE_FAILED',
        message: set.message,
      };
    if (vf.driver !== null) {
      const un = await this.deps.host.unbindDriver(vf.pciAddress, vf.driver);
      if (!un.ok)
        return {
          ok: false,
          code: un.errno === 'UNSAFE' ? 'UNSAFE_WRITE' : 'CONFIGURE_FAILED',
          message: un.message,
        };
    }
    const bind = await this.deps.host.bindDriver(vf.pciAddress, this.deps.vfDriver);
    if (!bind.ok)
      return {
        ok: false,
        code: bind.errno === 'UNSAFE' ? 'UNSAFE_WRITE' : 'CONFIGURE_FAILED',
        message: bind.message,
      };
    return { ok: true };
  }
}

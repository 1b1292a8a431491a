/**
 * The agent's last line of defence in front of any HostControl (docs/adr/0003, issue 3 §6). Every
 * change is checked against what discovery found and what is in use, right before it happens:
 *
 * - `sriov_numvfs` only on a discovered SR-IOV PF that the agent holds the resize claim for and has
 *   locked against allocations, with no VF in use, and never above `sriov_totalvfs` (read again
 *   now) nor the policy maximum;
 * - driver bind/unbind/override/probe only for discovered VFs that are not in use, and only with
 *   the VF driver;
 * - `ip link set <pf> vf N ...` only on a discovered PF's netdev, for an existing VF not in use.
 *
 * A refused change answers `UNSAFE` and writes nothing; the refusal is counted and logged.
 */
import type { Discovery, DiscoveredPf, DiscoveredVf } from '../discovery/types.js';
import { parseUnsigned } from '../core/sysfs-values.js';
import type {
  EswitchMode,
  HostControl,
  HostFailure,
  HostOutcome,
  VfAdminConfig,
} from '../ports/host-control.js';
import type { SysfsReader } from '../ports/sysfs-reader.js';
import type { VfUsage } from '../ports/vf-usage.js';

export interface GuardContext {
  /** The latest discovery. */
  readonly discovery: () => Discovery | undefined;
  /** Reads `sriov_totalvfs` again right before a resize. */
  readonly reader: SysfsReader;
  readonly usage: VfUsage;
  /** PFs whose resize claim the agent holds now. */
  readonly claimed: () => ReadonlySet<string>;
  /** Per PF: may the agent change it at all, and how many VFs at most (configuration or policy). */
  readonly limits: { managed(pf: string): boolean; maxVfs(pf: string): number };
  /** The driver VFs are bound to (mlx5_core). */
  readonly vfDriver: string;
  /** Told about every refusal. */
  readonly onRefused?: (what: string, reason: string) => void;
}

export class GuardedHost implements HostControl {
  constructor(
    private readonly inner: HostControl,
    private readonly ctx: GuardContext,
  ) {}

  #refuse(what: string, reason: string): HostFailure {
    this.ctx.onRefused?.(what, reason);
    return { ok: false, errno: 'UNSAFE', message: `refused ${what}: ${reason}` };
  }

  #pf(address: string): DiscoveredPf | undefined {
    return this.ctx.discovery()?.pfs.find((p) => p.pciAddress === address);
  }

  #vf(address: string): { pf: DiscoveredPf; vf: DiscoveredVf } | undefined {
    for (const pf of this.ctx.discovery()?.pfs ?? []) {
      const vf = pf.vfs.find((v) => v.pciAddress === address);
      if (vf !== undefined) return { pf, vf };
    }
    return undefined;
  }

  #vfCheck(device: string, what: string): HostFailure | undefined {
    const found = this.#vf(device);
    if (found === undefined) return this.#refuse(what, `${device} is not a discovered VF`);
    if (!this.ctx.limits.managed(found.pf.pciAddress))
      return this.#refuse(what, `the PF ${found.pf.pciAddress} of ${device} is not managed by the agent`);
    if (this.ctx.usage.inUse().has(device)) return this.#refuse(what, `VF ${device} is in use`);
    return undefined;
  }

  async setNumVfs(pf: string, numVfs: number): Promise<HostOutcome> {
    const what = `sriov_numvfs=${String(numVfs)} on ${pf}`;
    const d = this.#pf(pf);
    if (d === undefined) return this.#refuse(what, `${pf} is not a discovered PF`);
    if (d.sriov === null) return this.#refuse(what, `${pf} has SR-IOV disabled in firmware`);
    if (!this.ctx.limits.managed(pf))
      return this.#refuse(
        what,
        `${pf} is not managed by the agent (no RdmaNodePolicy that selects the node governs it)`,
      );
    if (!Number.isInteger(numVfs) || numVfs < 0) return this.#refuse(what, 'not a VF count');
    const total = parseUnsigned(await this.ctx.reader.read(`bus/pci/devices/${pf}/sriov_totalvfs`));
    if (total === undefined) return this.#refuse(what, 'sriov_totalvfs is unreadable');
    const max = Math.min(total, this.ctx.limits.maxVfs(pf));
    if (numVfs > max) return this.#refuse(what, `above the maximum ${max} (sriov_totalvfs ${total})`);
    if (!this.ctx.claimed().has(pf)) return this.#refuse(what, 'the agent does not hold the resize claim');
    if (!this.ctx.usage.isLocked(pf)) return this.#refuse(what, 'the PF is not locked against allocations');
    for (const a of this.ctx.usage.inUse().values())
      if (a.pf === pf) return this.#refuse(what, `VF ${a.vf} is in use`);
    return this.inner.setNumVfs(pf, numVfs);
  }

  unbindDriver(device: string, driver: string): Promise<HostOutcome> {
    const what = `unbind ${device} from ${driver}`;
    const bad = this.#vfCheck(device, what);
    if (bad !== undefined) return Promise.resolve(bad);
    if (driver !== this.ctx.vfDriver)
      return Promise.resolve(this.#refuse(what, `driver must be ${this.ctx.vfDriver}`));
    return this.inner.unbindDriver(device, driver);
  }

  bindDriver(device: string, driver: string): Promise<HostOutcome> {
    const what = `bind ${device} to ${driver}`;
    const bad = this.#vfCheck(device, what);
    if (bad !== undefined) return Promise.resolve(bad);
    if (driver !== this.ctx.vfDriver)
      return Promise.resolve(this.#refuse(what, `driver must be ${this.ctx.vfDriver}`));
    return this.inner.bindDriver(device, driver);
  }

  setDriverOverride(device: string, driver: string | null): Promise<HostOutcome> {
    const what = `driver_override=${String(driver)} on ${device}`;
    const bad = this.#vfCheck(device, what);
    if (bad !== undefined) return Promise.resolve(bad);
    if (driver !== null && driver !== this.ctx.vfDriver)
      return Promise.resolve(this.#refuse(what, `driver must be ${this.ctx.vfDriver}`));
    return this.inner.setDriverOverride(device, driver);
  }

  probeDriver(device: string): Promise<HostOutcome> {
    const bad = this.#vfCheck(device, `probe ${device}`);
    return bad !== undefined ? Promise.resolve(bad) : this.inner.probeDriver(device);
  }

  #vfOfNetdev(pfNetdev: string, vf: number, what: string): HostFailure | undefined {
    const pf = this.ctx.discovery()?.pfs.find((p) => p.netdev === pfNetdev);
    if (pf === undefined) return this.#refuse(what, `${pfNetdev} is not the netdev of a discovered PF`);
    if (!this.ctx.limits.managed(pf.pciAddress))
      return this.#refuse(what, `${pf.pciAddress} is not managed by the agent`);
    const v = pf.vfs.find((x) => x.index === vf);
    if (v === undefined) return this.#refuse(what, `${pfNetdev} has no VF ${vf}`);
    if (this.ctx.usage.inUse().has(v.pciAddress)) return this.#refuse(what, `VF ${v.pciAddress} is in use`);
    return undefined;
  }

  setVfGuids(
    pfNetdev: string,
    vf: number,
    guids: { readonly nodeGuid: string; readonly portGuid: string },
  ): Promise<HostOutcome> {
    const bad = this.#vfOfNetdev(pfNetdev, vf, `GUIDs of VF ${vf} of ${pfNetdev}`);
    return bad !== undefined ? Promise.resolve(bad) : this.inner.setVfGuids(pfNetdev, vf, guids);
  }

  setVfMac(pfNetdev: string, vf: number, mac: string): Promise<HostOutcome> {
    const bad = this.#vfOfNetdev(pfNetdev, vf, `MAC of VF ${vf} of ${pfNetdev}`);
    return bad !== undefined ? Promise.resolve(bad) : this.inner.setVfMac(pfNetdev, vf, mac);
  }

  setMtu(netdev: string, mtu: number): Promise<HostOutcome> {
    const what = `MTU ${String(mtu)} on ${netdev}`;
    if (!Number.isInteger(mtu) || mtu < 68 || mtu > 65535)
      return Promise.resolve(this.#refuse(what, 'not an MTU'));
    for (const pf of this.ctx.discovery()?.pfs ?? []) {
      const vf = pf.vfs.find((v) => v.netdev === netdev);
      if (vf === undefined) continue;
      if (!this.ctx.limits.managed(pf.pciAddress))
        return Promise.resolve(this.#refuse(what, `${pf.pciAddress} is not managed by the agent`));
      if (this.ctx.usage.inUse().has(vf.pciAddress))
        return Promise.resolve(this.#refuse(what, `VF ${vf.pciAddress} is in use`));
      return this.inner.setMtu(netdev, mtu);
    }
    return Promise.resolve(this.#refuse(what, `${netdev} is not the netdev of a discovered VF`));
  }

  vfAdminConfig(pfNetdev: string): Promise<{ ok: true; vfs: readonly VfAdminConfig[] } | HostFailure> {
    if (this.ctx.discovery()?.pfs.some((p) => p.netdev === pfNetdev) !== true)
      return Promise.resolve(this.#refuse(`ip link show ${pfNetdev}`, 'not the netdev of a discovered PF'));
    return this.inner.vfAdminConfig(pfNetdev);
  }

  eswitchMode(pf: string): Promise<EswitchMode> {
    return this.inner.eswitchMode(pf);
  }
}

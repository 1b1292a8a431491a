/**
 * Every change the agent makes to the host goes through this port. Two adapters implement it:
 * `SysfsHost` (Linux: writes sysfs files under the root, runs `ip`/`devlink` through a
 * `CommandExecutor`) and `SimulatedHost` (applies the kernel's write semantics to a simulated
 * sysfs tree). `GuardedHost` wraps either one with the agent's safety rules.
 *
 * Contract for every method: arguments are checked for well-formedness first (a malformed PCI
 * address, driver or interface name is refused with `UNSAFE` and nothing is written); kernel errors
 * come back as data (`{ ok: false, errno }`), never as exceptions; nothing is retried.
 */
import type { CommandResult } from './command-executor.js';

/** Kernel errno names the adapters report, plus `UNSAFE` (refused by a guard, nothing written)
 * and `ECMD` (a tool failed without an errno we recognise). */
export type HostErrno =
  | 'EINVAL'
  | 'ERANGE'
  | 'ENOENT'
  | 'EBUSY'
  | 'ENODEV'
  | 'EACCES'
  | 'EPERM'
  | 'EOPNOTSUPP'
  | 'ENOMEM'
  | 'ENOSPC'
  | 'EIO'
  | 'ETIMEDOUT'
  | 'UNSAFE'
  | 'ECMD';

export type HostOutcome = { readonly ok: true } | HostFailure;
export interface HostFailure {
  readonly ok: false;
  readonly errno: HostErrno;
  readonly message: string;
}

/** One element of `ip -j link show <pf>`'s `vfinfo_list`, reduced to what the agent sets. */
export interface VfAdminConfig {
  readonly vf: number;
  /** Admin MAC (`address` on Ethernet PFs); null when all zeros or absent. */
  readonly mac: string | null;
  /** `"node guid"`; null when absent or all zeros. */
  readonly nodeGuid: string | null;
  /** `"port guid"`; null when absent or all zeros. */
  readonly portGuid: string | null;
}

export type EswitchMode = 'legacy' | 'switchdev' | 'switchdev_inactive';

export interface HostControl {
  /** `echo <numVfs> > /sys/bus/pci/devices/<pf>/sriov_numvfs` */
  setNumVfs(pf: string, numVfs: number): Promise<HostOutcome>;
  /** `echo <device> > /sys/bus/pci/drivers/<driver>/unbind` */
  unbindDriver(device: string, driver: string): Promise<HostOutcome>;
  /** `echo <device> > /sys/bus/pci/drivers/<driver>/bind` */
  bindDriver(device: string, driver: string): Promise<HostOutcome>;
  /** `echo <driver> > /sys/bus/pci/devices/<device>/driver_override` (null: `echo > ...`, clears it) */
  setDriverOverride(device: string, driver: string | null): Promise<HostOutcome>;
  /** `echo <device> > /sys/bus/pci/drivers_probe` (binds `driver_override` or the default driver) */
  probeDriver(device: string): Promise<HostOutcome>;
  /**
   * `ip link set <pfNetdev> vf <vf> node_guid <guid>` then `ip link set <pfNetdev> vf <vf> port_guid <guid>`.
   * The VF's sysfs `node_guid` changes only after its driver is unbound and bound again.
   */
  setVfGuids(
    pfNetdev: string,
    vf: number,
    guids: { readonly nodeGuid: string; readonly portGuid: string },
  ): Promise<HostOutcome>;
  /** `ip link set <pfNetdev> vf <vf> mac <mac>` (applies to the VF at its next bind). */
  setVfMac(pfNetdev: string, vf: number, mac: string): Promise<HostOutcome>;
  /** `ip link set dev <netdev> mtu <mtu>` (a VF's netdev; the kernel refuses what the port cannot take). */
  setMtu(netdev: string, mtu: number): Promise<HostOutcome>;
  /** `ip -j link show dev <pfNetdev>`, its `vfinfo_list`. */
  vfAdminConfig(pfNetdev: string): Promise<{ ok: true; vfs: readonly VfAdminConfig[] } | HostFailure>;
  /** `devlink -j dev eswitch show pci/<pf>`; any error reads as `legacy` (IB ports have no eswitch). */
  eswitchMode(pf: string): Promise<EswitchMode>;
}

/** Maps a failed command to a HostFailure, recognising the errno text `ip` prints. */
export function failureFromCommand(what: string, r: CommandResult): HostFailure {
  const text = `${r.stderr}\n${r.stdout}`;
  const known: [RegExp, HostErrno][] = [
    [/Invalid argument/i, 'EINVAL'],
    [/Operation not supported/i, 'EOPNOTSUPP'],
    [/Operation not permitted/i, 'EPERM'],
    [/Device or resource busy/i, 'EBUSY'],
    [/No such device/i, 'ENODEV'],
    [/Cannot find device|does not exist/i, 'ENODEV'],
    [/Permission denied/i, 'EACCES'],
  ];
  const errno =
    r.exitCode === 124 ? 'ETIMEDOUT' : (known.find(([re]) => re.test(text))?.[1] ?? ('ECMD' as const));
  const detail = r.stderr.trim().split('\n')[0]?.slice(0, 200) ?? '';
  return { ok: false, errno, message: `${what}: exit ${r.exitCode}${detail ? `: ${detail}` : ''}` };
}

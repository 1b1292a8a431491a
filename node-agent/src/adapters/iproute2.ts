/**
 * Argument vectors for `ip` and `devlink`, and parsers for their JSON output (reference:
 * sysfs-sriov-rdma.md §4.1, §4.3, §4.4). Shared by `SysfsHost` (which runs them) and
 * `SimulatedHost` (which emulates them), so both speak the same command lines.
 */
import { ZERO_GUID, isGuid, isMac } from '@rdmasched/contracts';
import type { EswitchMode, VfAdminConfig } from '../ports/host-control.js';

export const ipArgv = {
  /** `ip link set dev <pf> vf <n> node_guid <guid>` */
  setVfNodeGuid: (pf: string, vf: number, guid: string) => [
    'link',
    'set',
    'dev',
    pf,
    'vf',
    String(vf),
    'node_guid',
    guid,
  ],
  /** `ip link set dev <pf> vf <n> port_guid <guid>` */
  setVfPortGuid: (pf: string, vf: number, guid: string) => [
    'link',
    'set',
    'dev',
    pf,
    'vf',
    String(vf),
    'port_guid',
    guid,
  ],
  /** `ip link set dev <pf> vf <n> mac <mac>` */
  setVfMac: (pf: string, vf: number, mac: string) => ['link', 'set', 'dev', pf, 'vf', String(vf), 'mac', mac],
  /** `ip link set dev <netdev> mtu <mtu>` */
  setMtu: (netdev: string, mtu: number) => ['link', 'set', 'dev', netdev, 'mtu', String(mtu)],
  /** `ip -j link show dev <pf>` */
  show: (pf: string) => ['-j', 'link', 'show', 'dev', pf],
};

export const devlinkArgv = {
  /** `devlink -j dev eswitch show pci/<pf>` */
  eswitchShow: (pf: string) => ['-j', 'dev', 'eswitch', 'show', `pci/${pf}`],
};

const nonZero = (v: unknown, ok: (s: string) => boolean): string | null => {
  if (typeof v !== 'string') return null;
  const s = v.toLowerCase();
  return ok(s) && s !== ZERO_GUID && s !== '00:00:00:00:00:00' ? s : null;
};

/**
 * Parses `ip -j link show dev <pf>` into its VFs' admin settings. Keys `"node guid"` and
 * `"port guid"` contain a space; an Ethernet VF's admin MAC is its `address`. Undefined when the
 * output is not the expected JSON.
 */
export function parseVfInfoList(stdout: string): VfAdminConfig[] | undefined {
  let v: unknown;
  try {
    v = JSON.parse(stdout);
  } catch {
    return undefined;
  }
  if (!Array.isArray(v) || v.length === 0) return undefined;
  const link = v[0] as { vfinfo_list?: unknown };
  const list = Array.isArray(link.vfinfo_list) ? (link.vfinfo_list as Record<string, unknown>[]) : [];
  const out: VfAdminConfig[] = [];
  for (const e of list) {
    if (typeof e['vf'] !== 'number' || !Number.isInteger(e['vf'])) continue;
    out.push({
      vf: e['vf'],
      mac: e['link_type'] === 'infiniband' ? null : nonZero(e['address'], isMac),
      nodeGuid: nonZero(e['node guid'], isGuid),
      portGuid: nonZero(e['port guid'], isGuid),
    });
  }
  return out.sort((a, b) => a.vf - b.vf);
}

/** Parses `devlink -j dev eswitch show pci/<pf>`; anything unexpected reads as legacy (as the operator does). */
export function parseEswitchMode(stdout: string, pf: string): EswitchMode {
  try {
    const v = JSON.parse(stdout) as { dev?: Record<string, { mode?: unknown }> };
    const mode = v.dev?.[`pci/${pf}`]?.mode;
    return mode === 'switchdev' || mode === 'switchdev_inactive' ? mode : 'legacy';
  } catch {
    return 'legacy';
  }
}

/**
 * RDMA devices of this host, read from sysfs under a configurable root (reference:
 * sysfs-sriov-rdma.md §3.1). Reads only; names are checked before they are used in a path or a
 * command line.
 *
 *   <sysRoot>/class/infiniband/<dev>                 one entry per RDMA device
 *   <sysRoot>/class/infiniband/<dev>/ports/<n>/rate  "400 Gb/sec (4X NDR)"
 *   <sysRoot>/class/infiniband/<dev>/ports/<n>/state "4: ACTIVE"
 *   <sysRoot>/class/infiniband/<dev>/ports/<n>/link_layer  InfiniBand | Ethernet
 *   <sysRoot>/class/infiniband/<dev>/device          -> the PCI function (its name is the address)
 *   <sysRoot>/class/infiniband/<dev>/device/physfn   -> the PF, when the device is a VF
 *   <sysRoot>/class/infiniband/<dev>/device/numa_node  -1 when unknown
 */
import { readdir, readFile, realpath } from 'node:fs/promises';
import { basename, join } from 'node:path';
import { isPciAddress, isRdmaDeviceName } from '@rdmasched/contracts';
import { parseSysfsRate, type PortRate } from '../verdict/port-rate.js';

export interface RdmaDevice {
  readonly name: string;
  /** The port read (`-i` of perftest), 1 by default. */
  readonly port: number;
  /** `ACTIVE`, `DOWN`, ... from `ports/<n>/state`; null when unreadable. */
  readonly state: string | null;
  readonly linkLayer: string | null;
  readonly rate: PortRate | null;
  /** The rate file as read, or why it could not be used. */
  readonly rateText: string | null;
  readonly rateProblem: string | null;
  /** PCI address of the device's function. */
  readonly pciAddress: string | null;
  /** The PF's address when the device is a VF (`device/physfn`), else null. */
  readonly physfn: string | null;
  readonly numaNode: number | null;
  /** Path of the rate file, for reports. */
  readonly ratePath: string;
}

export interface DeviceScan {
  readonly classDir: string;
  /** False when `<sysRoot>/class/infiniband` does not exist (no RDMA stack, or not Linux). */
  readonly classDirExists: boolean;
  readonly devices: readonly RdmaDevice[];
  /** Entries skipped, with why (a name that is not a safe device name). */
  readonly skipped: readonly string[];
}

async function readTrimmed(path: string): Promise<string | null> {
  try {
    return (await readFile(path, 'utf8')).trim();
  } catch {
    return null;
  }
}

async function pciOf(path: string): Promise<string | null> {
  try {
    const name = basename(await realpath(path));
    return isPciAddress(name) ? name : null;
  } catch {
    return null;
  }
}

/** Lists the RDMA devices under `<sysRoot>/class/infiniband`, sorted by name. Never throws. */
export async function scanRdmaDevices(sysRoot: string, opts: { port?: number } = {}): Promise<DeviceScan> {
  const port = opts.port ?? 1;
  const classDir = join(sysRoot, 'class', 'infiniband');
  let names: string[];
  try {
    names = (await readdir(classDir)).sort();
  } catch {
    return { classDir, classDirExists: false, devices: [], skipped: [] };
  }
  const skipped: string[] = [];
  const devices: RdmaDevice[] = [];
  for (const name of names) {
    if (!isRdmaDeviceName(name)) {
      skipped.push(`${JSON.stringify(name)}: not a valid RDMA device name`);
      continue;
    }
    const dir = join(classDir, name);
    const portDir = join(dir, 'ports', String(port));
    const ratePath = join(portDir, 'rate');
    const rateText = await readTrimmed(ratePath);
    const parsedRate = rateText === null ? null : parseSysfsRate(rateText);
    const stateText = await readTrimmed(join(portDir, 'state'));
    const numaText = await readTrimmed(join(dir, 'device', 'numa_node'));
    const numa = numaText !== null && /^-?\d+$/.test(numaText) ? Number(numaText) : -1;
    devices.push({
      name,
      port,
      // "4: ACTIVE" -> ACTIVE
      state: stateText === null ? null : (/^\d+:\s*(\S.*)$/.exec(stateText)?.[1] ?? stateText),
      linkLayer: await readTrimmed(join(portDir, 'link_layer')),
      rate: parsedRate?.ok === true && parsedRate.value.gbps > 0 ? parsedRate.value : null,
      rateText,
      rateProblem:
        rateText === null
          ? `${ratePath} is not readable`
          : parsedRate?.ok === false
            ? parsedRate.error
            : parsedRate?.ok === true && parsedRate.value.gbps <= 0
              ? `${ratePath} says ${rateText}`
              : null,
      pciAddress: await pciOf(join(dir, 'device')),
      physfn: await pciOf(join(dir, 'device', 'physfn')),
      numaNode: numa >= 0 ? numa : null,
      ratePath,
    });
  }
  return { classDir, classDirExists: true, devices, skipped };
}

/** `mlx5_0 ACTIVE InfiniBand 400 Gb/sec (4X NDR) 0000:1a:00.0 NUMA 0` for messages. */
export function describeDevice(d: RdmaDevice): string {
  return [
    d.name,
    d.state ?? 'state?',
    d.linkLayer ?? 'link?',
    d.rateText ?? 'rate?',
    d.pciAddress ?? '',
    d.physfn !== null ? `(VF of ${d.physfn})` : '',
    d.numaNode !== null ? `NUMA ${d.numaNode}` : '',
  ]
    .filter((s) => s !== '')
    .join(' ');
}

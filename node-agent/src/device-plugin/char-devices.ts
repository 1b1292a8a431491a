/**
 * The character devices a container needs to use an RDMA device, found from sysfs the way rdmamap
 * (`GetRdmaCharDevices`, used by both the SR-IOV and the RDMA shared device plugins) finds them
 * (reference: sysfs-sriov-rdma.md §3.2):
 *
 *   for c in /sys/class/infiniband_verbs/uverbs* /sys/class/infiniband_mad/{umad,issm}* \
 *            /sys/class/infiniband_cm/ucm*; do
 *     [ "$(cat $c/ibdev)" = mlx5_2 ] && echo /dev/infiniband/$(basename $c)
 *   done
 *   [ -e /dev/infiniband/rdma_cm ] && echo /dev/infiniband/rdma_cm
 *
 * Paths are only ever built from names that match the kernel's patterns (`uverbs<N>`, ...), so
 * nothing read from sysfs can point a container at another device node.
 */
import { access } from 'node:fs/promises';
import { join } from 'node:path';
import { isRdmaDeviceName } from '@rdmasched/contracts';
import type { SysfsReader } from '../ports/sysfs-reader.js';

/** Host (and container) directory of the RDMA device nodes. */
export const DEV_INFINIBAND = '/dev/infiniband';

const CLASSES: readonly { readonly dir: string; readonly name: RegExp }[] = [
  { dir: 'class/infiniband_verbs', name: /^uverbs[0-9]{1,5}$/ },
  { dir: 'class/infiniband_mad', name: /^umad[0-9]{1,5}$/ },
  { dir: 'class/infiniband_mad', name: /^issm[0-9]{1,5}$/ },
  { dir: 'class/infiniband_cm', name: /^ucm[0-9]{1,5}$/ },
];

/** RDMA device name -> its char device paths under /dev/infiniband (uverbs, umad, issm, ucm order). */
export type CharDeviceIndex = ReadonlyMap<string, readonly string[]>;

/** One pass over the char-device classes; unreadable entries are skipped (treated as absent). */
export async function readCharDeviceIndex(reader: SysfsReader): Promise<CharDeviceIndex> {
  const index = new Map<string, string[]>();
  for (const cls of CLASSES) {
    const names = (await reader.list(cls.dir)).filter((n) => cls.name.test(n)).sort(byNumber);
    const owners = await Promise.all(names.map((n) => reader.read(`${cls.dir}/${n}/ibdev`)));
    names.forEach((name, i) => {
      const ibdev = owners[i]?.trim();
      if (ibdev === undefined || !isRdmaDeviceName(ibdev)) return;
      let list = index.get(ibdev);
      if (list === undefined) index.set(ibdev, (list = []));
      list.push(`${DEV_INFINIBAND}/${name}`);
    });
  }
  return index;
}

/** `uverbs2` before `uverbs10`. */
function byNumber(a: string, b: string): number {
  const na = Number(/[0-9]+$/.exec(a)?.[0] ?? '0');
  const nb = Number(/[0-9]+$/.exec(b)?.[0] ?? '0');
  return na - nb || (a < b ? -1 : a > b ? 1 : 0);
}

/** The VF's RDMA device now: the first well-formed entry of `<vf>/infiniband/`. */
export async function rdmaDeviceOf(reader: SysfsReader, vf: string): Promise<string | undefined> {
  return (await reader.list(`bus/pci/devices/${vf}/infiniband`)).find(isRdmaDeviceName);
}

/**
 * `[ -e <devRoot>/infiniband/rdma_cm ]`. `devRoot` is where this process sees the host's /dev
 * (`/dev`, or `/host/dev` in a container); the path handed to the kubelet is always the host's.
 */
export async function hasRdmaCm(devRoot: string): Promise<boolean> {
  try {
    await access(join(devRoot, 'infiniband', 'rdma_cm'));
    return true;
  } catch {
    return false;
  }
}

export const RDMA_CM_PATH = `${DEV_INFINIBAND}/rdma_cm`;

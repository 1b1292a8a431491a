/**
 * GPU–NIC distance classes, as `nvidia-smi topo -m` names them, computed from PCIe paths.
 *
 * A PCIe path is the chain of sysfs components from the host bridge down to the device, read
 * from the realpath of `/sys/bus/pci/devices/<BDF>`:
 *   `/sys/devices/pci0000:15/0000:15:01.0/0000:16:00.0/0000:17:02.0/0000:1a:00.0`
 *   -> ['pci0000:15', '0000:15:01.0', '0000:16:00.0', '0000:17:02.0', '0000:1a:00.0']
 * The first element is the host bridge, the last one the device itself, everything in between a
 * bridge (root port, switch upstream port, switch downstream port, ...).
 */

export const DISTANCE_CLASSES = ['PIX', 'PXB', 'PHB', 'NODE', 'SYS'] as const;
/**
 * - PIX: at most one PCIe switch between the two (same switch)
 * - PXB: several bridges, without crossing the host bridge
 * - PHB: through the host bridge (same root complex, different root ports)
 * - NODE: different host bridges within one NUMA node
 * - SYS: across the inter-socket link (different NUMA nodes, or unknown)
 */
export type DistanceClass = (typeof DISTANCE_CLASSES)[number];

/** 0 (PIX, best) .. 4 (SYS, worst). Lower is closer. */
export function distanceRank(c: DistanceClass): number {
  return DISTANCE_CLASSES.indexOf(c);
}

/** GPUDirect RDMA is used by NCCL by default up to this class (NCCL_NET_GDR_LEVEL default). */
export const GDR_MAX_CLASS: DistanceClass = 'PXB';

export interface PciePlacement {
  /** Path from the host bridge to the device, device last. */
  readonly pciePath: readonly string[];
  /** NUMA node of the device; -1 when the kernel does not know. */
  readonly numaNode: number;
}

/**
 * Classifies the distance between two PCI devices (reference: sysfs-sriov-rdma.md §2.4).
 * 1. different host bridges: NODE if both NUMA nodes are equal and known, else SYS;
 * 2. same host bridge, paths diverge right below it (different root ports): PHB;
 * 3. otherwise count the bridges strictly below the lowest common ancestor on both sides,
 *    endpoints excluded: at most 2 (one downstream port each side of one switch) is PIX, else PXB.
 * Pure; never throws. Paths that are empty are treated as unknown placement (SYS).
 */
export function classifyDistance(a: PciePlacement, b: PciePlacement): DistanceClass {
  const pa = a.pciePath;
  const pb = b.pciePath;
  if (pa.length < 2 || pb.length < 2) return 'SYS';
  if (pa[0] !== pb[0]) return a.numaNode === b.numaNode && a.numaNode >= 0 ? 'NODE' : 'SYS';
  // Length of the common prefix (the host bridge always matches here).
  let common = 1;
  const max = Math.min(pa.length, pb.length);
  while (common < max && pa[common] === pb[common]) common++;
  if (common === 1) return 'PHB';
  // Bridges strictly below the LCA, endpoints excluded, on each side.
  const below = Math.max(0, pa.length - common - 1) + Math.max(0, pb.length - common - 1);
  return below <= 2 ? 'PIX' : 'PXB';
}

/** Parses a sysfs realpath (`/sys/devices/pci0000:15/.../0000:1a:00.0`) into a PCIe path. */
export function pciePathFromRealpath(realpath: string): string[] {
  const parts = realpath.split('/').filter((p) => p !== '');
  const start = parts.findIndex((p) => /^pci[0-9a-f]{4}:[0-9a-f]{2}$/.test(p));
  if (start < 0) return [];
  const out: string[] = [];
  for (const p of parts.slice(start)) {
    if (out.length === 0 || /^[0-9a-f]{4}:[0-9a-f]{2}:[01][0-9a-f]\.[0-7]$/.test(p)) out.push(p);
    else break;
  }
  return out;
}

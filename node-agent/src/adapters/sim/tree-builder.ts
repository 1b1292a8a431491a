/**
 * Writes a simulated host's sysfs tree from a validated spec (reference: sysfs-sriov-rdma.md §7.2
 * for the layout). PCI functions are created in enumeration order and bound like at boot (bridges
 * to pcieport, GPUs to nvidia, ConnectX PFs to mlx5_core); then the spec's initial VFs are enabled.
 */
import { basename, join, resolve } from 'node:path';
import { gpuInformation, nvidiaGpuInfoPath, simulatedGpuUuid } from '../../core/nvidia-proc.js';
import { CONNECTX_PFS, NVIDIA_GPU_MODELS, PCI_CLASS } from '../../core/pci-ids.js';
import { vfPciAddress } from '../../core/pci-address.js';
import { parseIdList } from '../../core/sysfs-values.js';
import { cpuMask } from './device-files.js';
import { KNOWN_DRIVERS, SimKernel } from './kernel.js';
import { MemoryFs } from '../fs/memory-fs.js';
import { NODE_FS, type SimFs } from '../fs/sim-fs.js';
import type { SimState } from './sim-state.js';
import type { DeviceSpecT, HostSpec, NicSpecT } from './spec.js';

export interface CreateTreeOptions {
  /** Host name shown in RDMA `node_desc`; default: the directory's name. */
  readonly hostname?: string;
  /** Told after each step of a long creation (e.g. `0000:1a:00.0: 128 VFs`). */
  readonly onProgress?: (line: string) => void;
  /** The filesystem to write into (default: the host's). */
  readonly fs?: SimFs;
  /** Keep `<dir>/sim/state.json` (default true; false for in-memory hosts). */
  readonly persist?: boolean;
}

const busNumber = (address: string) => parseInt(address.slice(5, 7), 16);

/** Highest bus number used in a subtree, VFs (at totalVfs) included. */
function subordinateBus(d: DeviceSpecT): number {
  let max = busNumber(d.address);
  if (d.type === 'bridge') for (const c of d.children) max = Math.max(max, subordinateBus(c));
  if (d.type === 'nic' && d.sriov !== null) {
    const last = vfPciAddress(d.address, d.sriov.offset ?? 1, d.sriov.stride ?? 1, d.sriov.totalVfs - 1);
    if (last !== undefined) max = Math.max(max, busNumber(last));
  }
  return max;
}

/**
 * Creates `<dir>/sys` (and `<dir>/sim/state.json`) for the spec. `dir` must be absent or empty.
 * On the host's disk the tree is built in memory first and then written out in one pass (the
 * simulated kernel reads back and lists directories a lot while it builds; a disk makes that
 * slow), so the result is the same tree, written about twice as fast.
 */
export function createSimulatedTree(dir: string, spec: HostSpec, opts: CreateTreeOptions = {}): SimKernel {
  if (opts.fs === undefined || opts.fs === NODE_FS) {
    const root = resolve(dir);
    NODE_FS.mkdirSync(root, { recursive: true });
    if (NODE_FS.readdirSync(root).length > 0)
      throw new Error(`${root} is not empty; choose a new directory for the simulated host`);
    const mem = new MemoryFs();
    const built = buildTree(root, spec, { ...opts, fs: mem, persist: false });
    let n = 0;
    for (const e of mem.entries(root)) {
      if (e.path === root) continue;
      if (e.kind === 'dir') NODE_FS.mkdirSync(e.path);
      else if (e.kind === 'link') NODE_FS.symlinkSync(e.target, e.path);
      else {
        NODE_FS.writeFileSync(e.path, e.data);
        if (e.mode !== 0o644) NODE_FS.chmodSync(e.path, e.mode);
      }
      if (++n % 20_000 === 0) opts.onProgress?.(`${n} entries written`);
    }
    const k = new SimKernel(root, built.state, {
      ...(opts.persist === undefined ? {} : { persist: opts.persist }),
    });
    k.save();
    return k;
  }
  return buildTree(dir, spec, opts);
}

function buildTree(dir: string, spec: HostSpec, opts: CreateTreeOptions): SimKernel {
  const fs = opts.fs ?? NODE_FS;
  const root = resolve(dir);
  fs.mkdirSync(root, { recursive: true });
  if (fs.readdirSync(root).length > 0)
    throw new Error(`${root} is not empty; choose a new directory for the simulated host`);
  const cpus = spec.numaNodes.flatMap((n) => parseIdList(n.cpuList) ?? []);
  const totalCpus = cpus.length === 0 ? 1 : Math.max(...cpus) + 1;
  const state: SimState = {
    version: 1,
    hostname: opts.hostname ?? basename(root),
    totalCpus,
    nextIfindex: 2,
    nextIommuGroup: 0,
    nextAux: 0,
    nics: {},
    vports: {},
    dynamicIds: {},
  };
  const k = new SimKernel(root, state, {
    fs,
    ...(opts.persist === undefined ? {} : { persist: opts.persist }),
  });
  const sys = k.sys;
  const { writeAttr, writeAttrs, writeOnlyAttr } = {
    writeAttr: k.kfs.writeAttr.bind(k.kfs),
    writeAttrs: k.kfs.writeAttrs.bind(k.kfs),
    writeOnlyAttr: k.kfs.writeOnlyAttr.bind(k.kfs),
  };
  for (const d of [
    'devices',
    'bus/pci/devices',
    'bus/pci/slots',
    'class/net',
    'class/infiniband',
    'class/pci_bus',
    'kernel/iommu_groups',
  ])
    fs.mkdirSync(join(sys, d), { recursive: true });
  writeAttrs(join(sys, 'class/infiniband_verbs'), { abi_version: 6 });
  writeAttrs(join(sys, 'class/infiniband_mad'), { abi_version: 5 });
  writeAttrs(join(sys, 'module/ib_core/parameters'), { netns_mode: 'Y' });
  writeAttr(join(sys, 'bus/pci/drivers_autoprobe'), 1);
  writeOnlyAttr(join(sys, 'bus/pci/drivers_probe'));
  writeOnlyAttr(join(sys, 'bus/pci/rescan'));
  for (const drv of KNOWN_DRIVERS) {
    const dd = join(sys, 'bus/pci/drivers', drv);
    fs.mkdirSync(dd, { recursive: true });
    for (const f of ['bind', 'unbind', 'new_id', 'remove_id']) writeOnlyAttr(join(dd, f));
    writeAttr(join(dd, 'uevent'), '');
  }
  // NUMA nodes
  const nodeDir = join(sys, 'devices/system/node');
  const ids = spec.numaNodes.map((n) => n.id).sort((a, b) => a - b);
  const list = ids.join(',');
  writeAttrs(nodeDir, { online: list, possible: list, has_cpu: list, has_memory: list });
  for (const n of spec.numaNodes) {
    writeAttrs(join(nodeDir, `node${n.id}`), {
      cpulist: n.cpuList,
      cpumap: cpuMask(n.cpuList, totalCpus),
      distance: ids.map((o) => (o === n.id ? 10 : 21)).join(' '),
    });
  }
  const cpuListOf = (numa: number) =>
    spec.numaNodes.find((n) => n.id === numa)?.cpuList ?? spec.numaNodes.map((n) => n.cpuList).join(',');

  const nics: NicSpecT[] = [];
  const toBind: { bdf: string; driver: string }[] = [];
  const create = (parentDir: string, d: DeviceSpecT, numa: number, isRootPort: boolean) => {
    const cpuList = cpuListOf(numa);
    if (d.type === 'bridge') {
      const under = d.children[0];
      const secondary = under === undefined ? busNumber(d.address) + 1 : busNumber(under.address);
      const vendorId = d.vendorId ?? (isRootPort ? '0x8086' : '0x1000');
      const deviceId = d.deviceId ?? (isRootPort ? '0x352a' : '0xc030');
      const dirPath = k.createPciFunction(parentDir, {
        bdf: d.address,
        vendorId,
        deviceId,
        subsystemVendor: '0x0000',
        subsystemDevice: '0x0000',
        classCode: PCI_CLASS.bridge,
        revision: 0,
        numaNode: numa,
        cpuList,
        currentLinkSpeed: d.linkSpeed ?? '32.0 GT/s PCIe',
        currentLinkWidth: 16,
        maxLinkSpeed: d.linkSpeed ?? '32.0 GT/s PCIe',
        maxLinkWidth: 16,
        bridge: { secondary, subordinate: subordinateBus(d) },
      });
      toBind.push({ bdf: d.address, driver: 'pcieport' });
      for (const c of d.children) create(dirPath, c, numa, false);
    } else if (d.type === 'gpu') {
      k.createPciFunction(parentDir, {
        bdf: d.address,
        vendorId: '0x10de',
        deviceId: d.deviceId ?? '0x2330',
        subsystemVendor: '0x10de',
        subsystemDevice: '0x16c1',
        classCode: d.classCode ?? PCI_CLASS.display3d,
        revision: 0xa1,
        numaNode: numa,
        cpuList,
        // Idle GPUs downtrain their link (reference §2.1); topology uses max_link_*.
        currentLinkSpeed: '2.5 GT/s PCIe',
        currentLinkWidth: 16,
        maxLinkSpeed: d.maxLinkSpeed ?? '32.0 GT/s PCIe',
        maxLinkWidth: 16,
      });
      toBind.push({ bdf: d.address, driver: 'nvidia' });
    } else {
      const deviceId = d.deviceId ?? '0x1021';
      const pfDir = k.createPciFunction(parentDir, {
        bdf: d.address,
        vendorId: '0x15b3',
        deviceId,
        subsystemVendor: '0x15b3',
        subsystemDevice: '0x0040',
        classCode: d.linkType === 'ib' ? PCI_CLASS.infiniband : PCI_CLASS.ethernet,
        revision: 0,
        numaNode: numa,
        cpuList,
        currentLinkSpeed: '32.0 GT/s PCIe',
        currentLinkWidth: 16,
        maxLinkSpeed: '32.0 GT/s PCIe',
        maxLinkWidth: 16,
      });
      if (d.sriov !== null) {
        writeAttrs(pfDir, {
          sriov_totalvfs: d.sriov.totalVfs,
          sriov_numvfs: 0,
          sriov_offset: d.sriov.offset ?? 1,
          sriov_stride: d.sriov.stride ?? 1,
          sriov_vf_device: (CONNECTX_PFS[deviceId]?.vfDeviceId ?? '0x101e').slice(2).replace(/^0+/, ''),
          sriov_drivers_autoprobe: 1,
          sriov_vf_total_msix: 0,
        });
      }
      const mac = d.mac ?? null;
      state.nics[d.address] = {
        linkType: d.linkType,
        netdev: d.netdev,
        nodeGuid: d.nodeGuid ?? macToGuid(mac ?? '00:00:00:00:00:00'),
        mac,
        portState: d.portState ?? 'ACTIVE',
        rate: d.rate ?? '400 Gb/sec (4X NDR)',
        mtu: d.mtu ?? (d.linkType === 'ib' ? 4092 : 9000),
        firmwareVersion: d.firmwareVersion ?? '28.39.1002',
        gidTableLength: d.gidTableLength ?? 16,
        lid: d.linkType === 'ib' ? 0x10 + nics.length : 0,
      };
      nics.push(d);
      toBind.push({ bdf: d.address, driver: 'mlx5_core' });
    }
  };
  for (const hb of spec.hostBridges) {
    const hbDir = join(sys, 'devices', hb.name);
    writeAttrs(hbDir, { uevent: '' });
    k.createPciBus(hbDir, hb.name.slice(3), cpuListOf(hb.numaNode));
    for (const d of hb.children) create(hbDir, d, hb.numaNode, true);
  }
  // The NVIDIA driver's procfs (GPU UUIDs), in minor-number order = address order.
  writeGpuProcInfo(k);
  // Boot: drivers bind in address order, so PFs get mlx5_0.. before any VF.
  for (const { bdf, driver } of toBind.sort((a, b) => a.bdf.localeCompare(b.bdf)))
    k.attachDriver(bdf, driver);
  opts.onProgress?.(`${toBind.length} PCI functions created and bound`);
  for (const nic of nics.sort((a, b) => a.address.localeCompare(b.address))) {
    const n = nic.sriov?.numVfs ?? 0;
    if (nic.sriov === null || n === 0) continue;
    k.enableVfs(nic.address, n, (vf) => k.attachDriver(vf, 'mlx5_core'));
    opts.onProgress?.(`${nic.address} (${nic.netdev}): ${n} VFs enabled`);
    for (let i = 0; i < (nic.sriov.configuredVfs ?? 0); i++) {
      const vp = k.vport(nic.address, i);
      if (nic.linkType === 'ib') {
        const g = initialVfGuid(state.nics[nic.address]?.nodeGuid ?? '', i);
        vp.nodeGuid = g;
        vp.portGuid = g;
      } else {
        vp.mac = initialVfMac(nic.mac ?? '00:00:00:00:00:00', i);
      }
      const vf = k.vfsOf(nic.address).find((v) => v.index === i)?.bdf;
      if (vf !== undefined) {
        k.detachDriver(vf, 'mlx5_core');
        k.attachDriver(vf, 'mlx5_core');
      }
    }
  }
  k.save();
  return k;
}

function macToGuid(mac: string): string {
  const b = mac.split(':');
  return [b[0], b[1], b[2], '03', '00', b[3], b[4], b[5]].join(':');
}

/** A pre-configured VF's GUID: its PF's, with the last two bytes `8<idx>` (unique within the host). */
function initialVfGuid(pfGuid: string, index: number): string {
  const b = pfGuid.split(':').slice(0, 6);
  return [
    ...b,
    (0x80 | (index >> 8)).toString(16).padStart(2, '0'),
    (index & 0xff).toString(16).padStart(2, '0'),
  ].join(':');
}

function initialVfMac(pfMac: string, index: number): string {
  const b = pfMac.split(':');
  return [
    '02',
    b[1],
    b[2],
    b[3],
    (index >> 8).toString(16).padStart(2, '0'),
    (index & 0xff).toString(16).padStart(2, '0'),
  ].join(':');
}

/**
 * Writes `<dir>/proc/driver/nvidia/gpus/<bdf>/information` for every NVIDIA GPU of the tree, with a
 * UUID derived from the host name and address (unique per simulated host). Rewritten when a host
 * is made from a template under another name.
 */
export function writeGpuProcInfo(k: SimKernel): void {
  const gpus = k.kfs
    .listDir(join(k.sys, 'bus/pci/devices'))
    .filter((bdf) => k.attr(bdf, 'vendor') === '0x10de' && (k.attr(bdf, 'class') ?? '').startsWith('0x03'));
  gpus.forEach((bdf, minor) => {
    const path = join(k.dir, 'proc', nvidiaGpuInfoPath(bdf));
    k.fs.mkdirSync(join(path, '..'), { recursive: true });
    k.fs.writeFileSync(
      path,
      gpuInformation({
        model: NVIDIA_GPU_MODELS[k.attr(bdf, 'device') ?? ''] ?? 'Graphics Device',
        uuid: simulatedGpuUuid(k.state.hostname, bdf),
        bdf,
        minor,
      }),
    );
  });
}

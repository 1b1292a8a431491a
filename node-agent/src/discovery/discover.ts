/**
 * Discovery: reads the host's RDMA topology from sysfs through a `SysfsReader` (reference:
 * sysfs-sriov-rdma.md §1–§3). Every read that fails is "no value": a missing or unreadable
 * attribute never makes discovery throw, it only leaves a field null (or the thing out, with a
 * warning, when it cannot be used at all).
 */
import {
  classifyDistance,
  guidFromSysfs,
  isNetdevName,
  isPciAddress,
  isRdmaDeviceName,
  pciePathFromRealpath,
  type LinkType,
} from '@rdmasched/contracts';
import {
  CONNECTX_PFS,
  NVIDIA_GPU_MODELS,
  VENDOR_MELLANOX,
  VENDOR_NVIDIA,
  isConnectXPf,
  isNvidiaGpu,
} from '../core/pci-ids.js';
import {
  isZeroSysfsGuid,
  parseCpuList,
  parseIdList,
  parseLinkLayer,
  parseMac,
  parseNumaNode,
  parsePciClass,
  parsePciId,
  parsePortState,
  parseRateGbps,
  parseUnsigned,
} from '../core/sysfs-values.js';
import type { SysfsReader } from '../ports/sysfs-reader.js';
import type {
  DiscoveredGpu,
  DiscoveredNumaNode,
  DiscoveredPf,
  DiscoveredSriov,
  DiscoveredVf,
  Discovery,
  DistanceEntry,
} from './types.js';

const basename = (p: string): string => p.slice(p.lastIndexOf('/') + 1);
const dev = (bdf: string, attr = ''): string => `bus/pci/devices/${bdf}${attr === '' ? '' : `/${attr}`}`;

/** Options for one discovery pass. */
export interface DiscoverOptions {
  /** Only these PFs are read in full (others are skipped); all when absent. */
  readonly onlyPfs?: ReadonlySet<string>;
}

/** Reads the whole topology. Never throws for host data; only a broken reader (a bug) can throw. */
export async function discover(reader: SysfsReader, opts: DiscoverOptions = {}): Promise<Discovery> {
  const warnings: string[] = [];
  const names = (await reader.list('bus/pci/devices')).filter(isPciAddress);
  const kinds = await Promise.all(names.map((bdf) => classify(reader, bdf)));
  const pfNames = names.filter((_, i) => kinds[i] === 'pf' && (opts.onlyPfs?.has(names[i] ?? '') ?? true));
  const gpuNames = names.filter((_, i) => kinds[i] === 'gpu');
  const [pfs, gpus, numaNodes] = await Promise.all([
    Promise.all(pfNames.map((bdf) => readPf(reader, bdf, warnings))),
    Promise.all(gpuNames.map((bdf) => readGpu(reader, bdf))),
    readNumaNodes(reader),
  ]);
  const presentPfs = pfs.filter((p): p is DiscoveredPf => p !== undefined);
  const distances: DistanceEntry[] = [];
  for (const g of gpus)
    for (const p of presentPfs)
      distances.push({ gpu: g.pciAddress, pf: p.pciAddress, class: classifyDistance(g, p) });
  return { numaNodes, gpus, pfs: presentPfs, distances, warnings };
}

type Kind = 'pf' | 'gpu' | 'other';

async function classify(reader: SysfsReader, bdf: string): Promise<Kind> {
  const vendor = parsePciId(await reader.read(dev(bdf, 'vendor')));
  if (vendor === VENDOR_MELLANOX) {
    const [device, physfn] = await Promise.all([
      reader.read(dev(bdf, 'device')),
      reader.readLink(dev(bdf, 'physfn')),
    ]);
    const id = parsePciId(device);
    // A VF has a `physfn` link (the device plugin's IsSriovVF); VFs are read through their PF.
    return id !== undefined && physfn === undefined && isConnectXPf(vendor, id) ? 'pf' : 'other';
  }
  if (vendor === VENDOR_NVIDIA) {
    const cls = parsePciClass(await reader.read(dev(bdf, 'class')));
    return cls !== undefined && isNvidiaGpu(vendor, cls) ? 'gpu' : 'other';
  }
  return 'other';
}

async function pciePathOf(reader: SysfsReader, bdf: string): Promise<string[]> {
  const real = await reader.realPath(dev(bdf));
  if (real === undefined) return [];
  const path = pciePathFromRealpath(real);
  // A path that does not end at the device itself is not a PCIe path (a plain directory fixture).
  return path[path.length - 1] === bdf ? path : [];
}

async function readGpu(reader: SysfsReader, bdf: string): Promise<DiscoveredGpu> {
  const [device, numa, pciePath] = await Promise.all([
    reader.read(dev(bdf, 'device')),
    reader.read(dev(bdf, 'numa_node')),
    pciePathOf(reader, bdf),
  ]);
  const deviceId = parsePciId(device) ?? '0x0000';
  return {
    pciAddress: bdf,
    vendorId: VENDOR_NVIDIA,
    deviceId,
    model: NVIDIA_GPU_MODELS[deviceId] ?? null,
    numaNode: parseNumaNode(numa),
    pciePath,
  };
}

async function driverOf(reader: SysfsReader, bdf: string): Promise<string | null> {
  const link = await reader.readLink(dev(bdf, 'driver'));
  if (link === undefined) return null;
  const name = basename(link);
  return /^[A-Za-z0-9_.-]{1,64}$/.test(name) ? name : null;
}

/** The PF's netdev: the only one, or (switchdev) the one whose phys_port_name is `p<N>`. */
async function netdevOf(reader: SysfsReader, bdf: string): Promise<string | null> {
  const names = (await reader.list(dev(bdf, 'net'))).filter(isNetdevName);
  if (names.length <= 1) return names[0] ?? null;
  for (const n of names) {
    const ppn = await reader.read(dev(bdf, `net/${n}/phys_port_name`));
    if (ppn !== undefined && /^p\d+$/.test(ppn.trim())) return n;
  }
  return names[0] ?? null;
}

async function rdmaDeviceOf(reader: SysfsReader, bdf: string): Promise<string | null> {
  return (await reader.list(dev(bdf, 'infiniband'))).find(isRdmaDeviceName) ?? null;
}

function linkLayerFromClass(cls: string | undefined): 'InfiniBand' | 'Ethernet' | undefined {
  if (cls?.startsWith('0x0207') === true) return 'InfiniBand';
  if (cls?.startsWith('0x0200') === true) return 'Ethernet';
  return undefined;
}

async function readPf(
  reader: SysfsReader,
  bdf: string,
  warnings: string[],
): Promise<DiscoveredPf | undefined> {
  const [device, cls, numa, driver, netdev, rdmaDevice, pciePath] = await Promise.all([
    reader.read(dev(bdf, 'device')),
    reader.read(dev(bdf, 'class')),
    reader.read(dev(bdf, 'numa_node')),
    driverOf(reader, bdf),
    netdevOf(reader, bdf),
    rdmaDeviceOf(reader, bdf),
    pciePathOf(reader, bdf),
  ]);
  const deviceId = parsePciId(device) ?? '0x0000';
  if (pciePath.length === 0)
    warnings.push(`${bdf}: no PCIe path (bus/pci/devices entry is not a link into devices/)`);
  const ibdev = rdmaDevice === null ? undefined : `${dev(bdf)}/infiniband/${rdmaDevice}`;
  const ports =
    ibdev === undefined ? [] : (await reader.list(`${ibdev}/ports`)).filter((p) => /^[0-9]{1,3}$/.test(p));
  const port = ports.map(Number).sort((a, b) => a - b)[0] ?? null;
  const portDir = ibdev !== undefined && port !== null ? `${ibdev}/ports/${port}` : undefined;
  const [state, rate, layer, fw, netType, mtu] = await Promise.all([
    portDir === undefined ? undefined : reader.read(`${portDir}/state`),
    portDir === undefined ? undefined : reader.read(`${portDir}/rate`),
    portDir === undefined ? undefined : reader.read(`${portDir}/link_layer`),
    ibdev === undefined ? undefined : reader.read(`${ibdev}/fw_ver`),
    netdev === null ? undefined : reader.read(dev(bdf, `net/${netdev}/type`)),
    netdev === null ? undefined : reader.read(dev(bdf, `net/${netdev}/mtu`)),
  ]);
  const linkLayer =
    parseLinkLayer(layer) ??
    linkLayerFromClass(parsePciClass(cls)) ??
    (netType?.trim() === '32' ? 'InfiniBand' : netType?.trim() === '1' ? 'Ethernet' : undefined);
  if (linkLayer === undefined) {
    warnings.push(`${bdf}: link layer unknown (no RDMA port, class or netdev type); PF skipped`);
    return undefined;
  }
  const linkType: LinkType = linkLayer === 'InfiniBand' ? 'ib' : 'roce';
  const numaNode = parseNumaNode(numa);
  const sriov = await readSriov(reader, bdf);
  const vfs = sriov === null ? [] : await readVfs(reader, bdf, sriov, linkType, numaNode, warnings);
  const fwText = fw?.trim();
  return {
    pciAddress: bdf,
    vendorId: VENDOR_MELLANOX,
    deviceId,
    model: CONNECTX_PFS[deviceId]?.model ?? null,
    driver,
    netdev,
    rdmaDevice,
    port,
    linkType,
    linkLayer,
    portState: parsePortState(state),
    rateGbps: parseRateGbps(rate),
    mtu: mtuOf(mtu),
    numaNode,
    pciePath,
    firmwareVersion: fwText !== undefined && fwText !== '' && fwText.length <= 64 ? fwText : null,
    sriov,
    vfs,
  };
}

function mtuOf(text: string | undefined): number | null {
  const n = parseUnsigned(text);
  return n !== undefined && n <= 65535 ? n : null;
}

async function readSriov(reader: SysfsReader, bdf: string): Promise<DiscoveredSriov | null> {
  const [total, num, offset, stride, vfDevice] = await Promise.all([
    reader.read(dev(bdf, 'sriov_totalvfs')),
    reader.read(dev(bdf, 'sriov_numvfs')),
    reader.read(dev(bdf, 'sriov_offset')),
    reader.read(dev(bdf, 'sriov_stride')),
    reader.read(dev(bdf, 'sriov_vf_device')),
  ]);
  const totalVfs = parseUnsigned(total);
  // No readable sriov_totalvfs: SR-IOV is off in firmware (the device plugin's IsSriovPF is stat()).
  if (totalVfs === undefined || totalVfs > 65535) return null;
  const numVfs = Math.min(parseUnsigned(num) ?? 0, 65535);
  const vfHex = vfDevice?.trim().toLowerCase();
  return {
    totalVfs,
    numVfs,
    offset: parseUnsigned(offset) ?? null,
    stride: parseUnsigned(stride) ?? null,
    vfDeviceId: vfHex !== undefined && /^[0-9a-f]{1,4}$/.test(vfHex) ? `0x${vfHex.padStart(4, '0')}` : null,
  };
}

async function readVfs(
  reader: SysfsReader,
  pf: string,
  sriov: DiscoveredSriov,
  linkType: LinkType,
  numaNode: number,
  warnings: string[],
): Promise<DiscoveredVf[]> {
  const links = (await reader.list(dev(pf)))
    .map((n) => /^virtfn([0-9]{1,5})$/.exec(n))
    .filter((m): m is RegExpExecArray => m !== null)
    .map((m) => ({ name: m[0], index: Number(m[1]) }));
  const vfs = await Promise.all(
    links.map(async ({ name, index }) => {
      if (index >= sriov.numVfs) {
        warnings.push(`${pf}: ${name} at or above sriov_numvfs ${sriov.numVfs}; ignored`);
        return undefined;
      }
      const target = await reader.readLink(dev(pf, name));
      const vf = target === undefined ? undefined : basename(target);
      if (vf === undefined || !isPciAddress(vf)) {
        warnings.push(`${pf}: ${name} is not a link to a PCI function; ignored`);
        return undefined;
      }
      return readVf(reader, pf, index, vf, linkType, numaNode, warnings);
    }),
  );
  return vfs.filter((v): v is DiscoveredVf => v !== undefined).sort((a, b) => a.index - b.index);
}

async function readVf(
  reader: SysfsReader,
  pf: string,
  index: number,
  vf: string,
  linkType: LinkType,
  numaNode: number,
  warnings: string[],
): Promise<DiscoveredVf | undefined> {
  const [physfn, driver, netdev, rdmaDevice] = await Promise.all([
    reader.readLink(dev(vf, 'physfn')),
    driverOf(reader, vf),
    (async () => (await reader.list(dev(vf, 'net'))).find(isNetdevName) ?? null)(),
    rdmaDeviceOf(reader, vf),
  ]);
  if (physfn === undefined || basename(physfn) !== pf) {
    warnings.push(`${vf}: physfn does not point back to ${pf}; ignored`);
    return undefined;
  }
  const [guidText, address, mtuText] = await Promise.all([
    rdmaDevice === null ? undefined : reader.read(dev(vf, `infiniband/${rdmaDevice}/node_guid`)),
    linkType === 'roce' && netdev !== null ? reader.read(dev(vf, `net/${netdev}/address`)) : undefined,
    netdev === null ? undefined : reader.read(dev(vf, `net/${netdev}/mtu`)),
  ]);
  const guid = guidText === undefined || isZeroSysfsGuid(guidText) ? undefined : guidFromSysfs(guidText);
  // The node GUID reads all zeros until the VF was given its GUID (IB) or admin MAC (RoCE, whose
  // node GUID the driver derives from the MAC) and rebound: that is what "configured" means.
  const configured = driver !== null && rdmaDevice !== null && guid !== undefined;
  return {
    index,
    pciAddress: vf,
    pfPciAddress: pf,
    linkType,
    numaNode,
    netdev,
    rdmaDevice,
    driver,
    configured,
    guid: linkType === 'ib' ? (guid ?? null) : null,
    mac: linkType === 'roce' && configured ? (parseMac(address) ?? null) : null,
    mtu: mtuOf(mtuText),
  };
}

async function readNumaNodes(reader: SysfsReader): Promise<DiscoveredNumaNode[]> {
  let ids = parseIdList(await reader.read('devices/system/node/online'), 1024);
  if (ids === undefined) {
    ids = (await reader.list('devices/system/node'))
      .map((n) => /^node([0-9]{1,4})$/.exec(n)?.[1])
      .filter((n): n is string => n !== undefined)
      .map(Number);
  }
  const nodes = await Promise.all(
    ids
      .filter((id) => id <= 1023)
      .map(async (id) => ({
        id,
        cpuList: parseCpuList(await reader.read(`devices/system/node/node${id}/cpulist`)) ?? '',
      })),
  );
  return nodes.sort((a, b) => a.id - b.id);
}

/**
 * The simulated kernel: PCI functions, driver binding, SR-IOV enable/disable and the mlx5
 * children (netdev, RDMA device, verbs/MAD char devices) of a bound function, applied to a real
 * directory tree under `<dir>/sys` (reference: sysfs-sriov-rdma.md §0–§3, §7.5).
 *
 * The kernel's own state is the tree itself (plus sim-state.ts for what sysfs does not show).
 * Callers (SimulatedHost) validate writes; these methods apply accepted changes.
 */
import { basename, dirname, join } from 'node:path';
import { CONNECTX_PFS, CONNECTX_VF_IDS, VENDOR_MELLANOX, VENDOR_NVIDIA } from '../../core/pci-ids.js';
import { vfPciAddress } from '../../core/pci-address.js';
import {
  HW_COUNTERS,
  IPOIB_BROADCAST,
  PORT_COUNTERS,
  ROCE_HW_COUNTERS,
  ZERO_SYSFS_GUID,
  configSpace,
  cpuMask,
  ibGid0,
  ipoibAddress,
  modalias,
  nodeGuidFromMac,
  pciUevent,
  physStateText,
  portStateText,
  roceLinkLocalGid,
  sysfsGuid,
  zeroGid,
} from './device-files.js';
import { NODE_FS, type SimFs } from '../fs/sim-fs.js';
import { Kernfs } from './kernfs.js';
import { saveSimState, type NicInfo, type SimState, type VportConfig } from './sim-state.js';

export interface PciFunctionInit {
  readonly bdf: string;
  readonly vendorId: string;
  readonly deviceId: string;
  readonly subsystemVendor: string;
  readonly subsystemDevice: string;
  readonly classCode: string;
  readonly revision: number;
  readonly numaNode: number;
  readonly cpuList: string;
  readonly currentLinkSpeed: string;
  readonly currentLinkWidth: number;
  readonly maxLinkSpeed: string;
  readonly maxLinkWidth: number;
  readonly bridge?: { readonly secondary: number; readonly subordinate: number };
}

export const KNOWN_DRIVERS = ['mlx5_core', 'nvidia', 'pcieport', 'vfio-pci'] as const;

/** VF netdev names as the reference illustrates them: `ibp26s0v0`, `enp158s0v0` (PF `enp158s0np0`). */
export function vfNetdevName(pfNetdev: string, index: number): string {
  const base = pfNetdev.replace(/np[0-9]+$/, '');
  const suffix = `v${index}`;
  return `${base.slice(0, 15 - suffix.length)}${suffix}`;
}

/** What a bound mlx5 function shows: its own NIC identity (PF) or its PF's plus its vport's (VF). */
interface FunctionIdentity {
  readonly kind: 'pf' | 'vf';
  readonly nic: NicInfo;
  readonly netdev: string;
  readonly portGuid: string | null;
  readonly nodeGuid: string | null;
  readonly mac: string | null;
  readonly hca: string;
  readonly portState: string;
  readonly lid: number;
  readonly gids: number;
}

export interface SimKernelOptions {
  /** The filesystem the tree lives in (default: the host's). */
  readonly fs?: SimFs;
  /**
   * Keep `<dir>/sim/state.json` up to date after every change, so another process can reopen the
   * host (default true). In-memory hosts keep the state in this object only.
   */
  readonly persist?: boolean;
}

export class SimKernel {
  readonly sys: string;
  readonly fs: SimFs;
  readonly kfs: Kernfs;
  readonly #persist: boolean;

  constructor(
    readonly dir: string,
    readonly state: SimState,
    opts: SimKernelOptions = {},
  ) {
    this.sys = join(dir, 'sys');
    this.fs = opts.fs ?? NODE_FS;
    this.kfs = new Kernfs(this.fs);
    this.#persist = opts.persist ?? true;
  }

  save(): void {
    if (this.#persist) saveSimState(this.dir, this.state, this.fs);
  }

  // ---------------------------------------------------------------- lookups

  busLink(bdf: string): string {
    return join(this.sys, 'bus/pci/devices', bdf);
  }

  /** The device's real directory under devices/, or undefined when no such function exists. */
  deviceDir(bdf: string): string | undefined {
    if (!this.kfs.isLink(this.busLink(bdf))) return undefined;
    try {
      return this.fs.realpathSync(this.busLink(bdf));
    } catch {
      return undefined;
    }
  }

  attr(bdf: string, name: string): string | undefined {
    const d = this.deviceDir(bdf);
    return d === undefined ? undefined : this.kfs.readAttr(join(d, name));
  }

  boundDriver(bdf: string): string | undefined {
    const d = this.deviceDir(bdf);
    const link = d === undefined ? undefined : this.kfs.readLinkOrUndefined(join(d, 'driver'));
    return link === undefined ? undefined : basename(link);
  }

  physfnOf(bdf: string): string | undefined {
    const d = this.deviceDir(bdf);
    const link = d === undefined ? undefined : this.kfs.readLinkOrUndefined(join(d, 'physfn'));
    return link === undefined ? undefined : basename(link);
  }

  /** VF index of `vf` under its PF (the device plugin's GetVFID: compare virtfn link targets). */
  vfIndexOf(pf: string, vf: string): number | undefined {
    const d = this.deviceDir(pf);
    if (d === undefined) return undefined;
    for (const name of this.kfs.listDir(d)) {
      const m = /^virtfn([0-9]+)$/.exec(name);
      if (m !== null && basename(this.kfs.readLinkOrUndefined(join(d, name)) ?? '') === vf)
        return Number(m[1]);
    }
    return undefined;
  }

  vfsOf(pf: string): { index: number; bdf: string }[] {
    const d = this.deviceDir(pf);
    if (d === undefined) return [];
    const out: { index: number; bdf: string }[] = [];
    for (const name of this.kfs.listDir(d)) {
      const m = /^virtfn([0-9]+)$/.exec(name);
      const target = m === null ? undefined : this.kfs.readLinkOrUndefined(join(d, name));
      if (m !== null && target !== undefined) out.push({ index: Number(m[1]), bdf: basename(target) });
    }
    return out.sort((a, b) => a.index - b.index);
  }

  numVfs(pf: string): number {
    return Number(this.attr(pf, 'sriov_numvfs') ?? '0');
  }

  /** Whether `driver`'s id table (or a dynamic id, or driver_override) matches the device. */
  driverMatches(bdf: string, driver: string): boolean {
    const override = this.attr(bdf, 'driver_override');
    if (override !== undefined && override !== '(null)') return override === driver;
    const vendor = this.attr(bdf, 'vendor') ?? '';
    const device = this.attr(bdf, 'device') ?? '';
    const cls = this.attr(bdf, 'class') ?? '';
    const dyn = this.state.dynamicIds[driver] ?? [];
    if (dyn.includes(`${vendor.slice(2)} ${device.slice(2)}`)) return true;
    switch (driver) {
      case 'mlx5_core':
        return (
          vendor === VENDOR_MELLANOX && (Object.hasOwn(CONNECTX_PFS, device) || CONNECTX_VF_IDS.has(device))
        );
      case 'nvidia':
        return vendor === VENDOR_NVIDIA && cls.startsWith('0x03');
      case 'pcieport':
        return cls.startsWith('0x0604');
      default:
        return false;
    }
  }

  /** The driver that claims the device on a probe: driver_override, else the first id-table match. */
  defaultDriverFor(bdf: string): string | undefined {
    return KNOWN_DRIVERS.find((d) => this.driverMatches(bdf, d));
  }

  // ---------------------------------------------------------------- PCI functions

  /** Creates a PCI function's directory under `parentDir`, with its bus, iommu and pci_bus links. */
  createPciFunction(parentDir: string, f: PciFunctionInit): string {
    const d = join(parentDir, f.bdf);
    const ids = {
      vendorId: f.vendorId,
      deviceId: f.deviceId,
      subsystemVendor: f.subsystemVendor,
      subsystemDevice: f.subsystemDevice,
      classCode: f.classCode,
    };
    const alias = modalias(ids);
    this.kfs.writeAttrs(d, {
      vendor: f.vendorId,
      device: f.deviceId,
      subsystem_vendor: f.subsystemVendor,
      subsystem_device: f.subsystemDevice,
      class: f.classCode,
      revision: `0x${f.revision.toString(16).padStart(2, '0')}`,
      modalias: alias,
      numa_node: f.numaNode,
      local_cpulist: f.cpuList,
      local_cpus: cpuMask(f.cpuList, this.state.totalCpus),
      current_link_speed: f.currentLinkSpeed,
      current_link_width: f.currentLinkWidth,
      max_link_speed: f.maxLinkSpeed,
      max_link_width: f.maxLinkWidth,
      driver_override: '(null)',
      enable: 1,
      irq: 0,
      msi_bus: 1,
      d3cold_allowed: 1,
      power_state: 'D0',
      broken_parity_status: 0,
      dma_mask_bits: 64,
      consistent_dma_mask_bits: 64,
      ari_enabled: 0,
      uevent: pciUevent({ ...ids, driver: null, bdf: f.bdf, modalias: alias }),
    });
    this.fs.writeFileSync(
      join(d, 'config'),
      configSpace({ ...ids, revision: f.revision, bridge: f.bridge !== undefined }),
    );
    this.kfs.writeOnlyAttr(join(d, 'remove'));
    this.kfs.writeOnlyAttr(join(d, 'rescan'));
    this.kfs.link(join(d, 'subsystem'), join(this.sys, 'bus/pci'));
    const group = this.state.nextIommuGroup++;
    const groupDir = join(this.sys, 'kernel/iommu_groups', String(group));
    this.kfs.writeAttrs(groupDir, { type: 'DMA' });
    this.kfs.link(join(groupDir, 'devices', f.bdf), d);
    this.kfs.link(join(d, 'iommu_group'), groupDir);
    if (f.bridge !== undefined) {
      this.kfs.writeAttrs(d, {
        secondary_bus_number: f.bridge.secondary,
        subordinate_bus_number: f.bridge.subordinate,
      });
      this.createPciBus(
        d,
        `${f.bdf.slice(0, 4)}:${f.bridge.secondary.toString(16).padStart(2, '0')}`,
        f.cpuList,
      );
    }
    this.kfs.link(this.busLink(f.bdf), d);
    return d;
  }

  /** `<bridge>/pci_bus/<dddd:bb>` and its `class/pci_bus` link. */
  createPciBus(bridgeDir: string, name: string, cpuList: string): void {
    const busDir = join(bridgeDir, 'pci_bus', name);
    this.kfs.writeAttrs(busDir, {
      cpulistaffinity: cpuList,
      cpuaffinity: cpuMask(cpuList, this.state.totalCpus),
    });
    this.kfs.writeOnlyAttr(join(busDir, 'rescan'));
    this.kfs.link(join(busDir, 'subsystem'), join(this.sys, 'class/pci_bus'));
    this.kfs.link(join(this.sys, 'class/pci_bus', name), busDir);
  }

  /** Removes a function (VF teardown): its children, driver links, bus link, iommu group. */
  removePciFunction(bdf: string): void {
    const d = this.deviceDir(bdf);
    if (d === undefined) return;
    const driver = this.boundDriver(bdf);
    if (driver !== undefined) this.detachDriver(bdf, driver);
    const group = this.kfs.readLinkOrUndefined(join(d, 'iommu_group'));
    if (group !== undefined) this.kfs.removeTree(join(this.sys, 'kernel/iommu_groups', basename(group)));
    this.kfs.removeTree(this.busLink(bdf));
    this.kfs.removeTree(d);
  }

  // ---------------------------------------------------------------- drivers

  /** Binds (checks done by the caller): driver link, back-link, uevent, driver children. */
  attachDriver(bdf: string, driver: string): void {
    const d = this.deviceDir(bdf);
    if (d === undefined) return;
    const drvDir = join(this.sys, 'bus/pci/drivers', driver);
    this.kfs.link(join(d, 'driver'), drvDir);
    this.kfs.link(join(drvDir, bdf), d);
    this.rewriteUevent(bdf, driver);
    if (driver === 'mlx5_core') this.createMlx5Children(bdf);
  }

  detachDriver(bdf: string, driver: string): void {
    const d = this.deviceDir(bdf);
    if (d === undefined) return;
    if (driver === 'mlx5_core') this.removeMlx5Children(bdf);
    this.kfs.removeTree(join(d, 'driver'));
    this.kfs.removeTree(join(this.sys, 'bus/pci/drivers', driver, bdf));
    this.rewriteUevent(bdf, null);
  }

  rewriteUevent(bdf: string, driver: string | null): void {
    const d = this.deviceDir(bdf);
    if (d === undefined) return;
    const a = (n: string) => this.kfs.readAttr(join(d, n)) ?? '';
    const ids = {
      vendorId: a('vendor'),
      deviceId: a('device'),
      subsystemVendor: a('subsystem_vendor'),
      subsystemDevice: a('subsystem_device'),
      classCode: a('class'),
    };
    this.kfs.writeAttr(join(d, 'uevent'), pciUevent({ ...ids, driver, bdf, modalias: a('modalias') }));
  }

  // ---------------------------------------------------------------- SR-IOV

  /** 0 -> n: VF functions appear as siblings of the PF, bound to mlx5_core when autoprobe is on. */
  enableVfs(pf: string, n: number, bind: (vf: string) => void): void {
    const pfDir = this.deviceDir(pf);
    if (pfDir === undefined) return;
    const a = (name: string) => this.kfs.readAttr(join(pfDir, name)) ?? '';
    const offset = Number(a('sriov_offset') || '1');
    const stride = Number(a('sriov_stride') || '1');
    const vfDevice = `0x${a('sriov_vf_device').padStart(4, '0')}`;
    const autoprobe = a('sriov_drivers_autoprobe') === '1';
    const parent = dirname(pfDir);
    const created: string[] = [];
    for (let i = 0; i < n; i++) {
      const vf = vfPciAddress(pf, offset, stride, i);
      if (vf === undefined) break;
      const vfDir = this.createPciFunction(parent, {
        bdf: vf,
        vendorId: a('vendor'),
        deviceId: vfDevice,
        subsystemVendor: a('subsystem_vendor'),
        subsystemDevice: a('subsystem_device'),
        classCode: a('class'),
        revision: parseInt(a('revision') || '0', 16),
        numaNode: Number(a('numa_node') || '-1'),
        cpuList: a('local_cpulist'),
        currentLinkSpeed: 'Unknown',
        currentLinkWidth: 0,
        maxLinkSpeed: 'Unknown',
        maxLinkWidth: 0,
      });
      this.kfs.link(join(vfDir, 'physfn'), pfDir);
      this.kfs.link(join(pfDir, `virtfn${i}`), vfDir);
      this.kfs.writeOnlyAttr(join(vfDir, 'sriov_vf_msix_count'));
      created.push(vf);
    }
    this.kfs.writeAttr(join(pfDir, 'sriov_numvfs'), created.length);
    if (autoprobe) for (const vf of created) bind(vf);
  }

  /** n -> 0: every VF and everything hanging off it disappears; the eswitch forgets their settings. */
  disableVfs(pf: string): void {
    const pfDir = this.deviceDir(pf);
    if (pfDir === undefined) return;
    for (const { index, bdf } of this.vfsOf(pf)) {
      this.removePciFunction(bdf);
      this.kfs.removeTree(join(pfDir, `virtfn${index}`));
    }
    this.kfs.writeAttr(join(pfDir, 'sriov_numvfs'), 0);
    delete this.state.vports[pf];
  }

  vport(pf: string, index: number): VportConfig {
    const forPf = (this.state.vports[pf] ??= {});
    return (forPf[String(index)] ??= { nodeGuid: null, portGuid: null, mac: null });
  }

  // ---------------------------------------------------------------- mlx5 children

  /** Lowest free N of `<prefix>N` among the entries of a class directory (the kernel's ida). */
  #lowestFree(classDir: string, prefix: string): number {
    const used = new Set(
      this.kfs
        .listDir(join(this.sys, classDir))
        .filter((n) => n.startsWith(prefix))
        .map((n) => Number(n.slice(prefix.length)))
        .filter((n) => Number.isInteger(n)),
    );
    let i = 0;
    while (used.has(i)) i++;
    return i;
  }

  #identity(bdf: string): FunctionIdentity | undefined {
    const device = this.attr(bdf, 'device') ?? '';
    const hca = `MT${parseInt(device, 16)}`;
    const own = this.state.nics[bdf];
    if (own !== undefined) {
      return {
        kind: 'pf',
        nic: own,
        netdev: own.netdev,
        portGuid: own.nodeGuid,
        nodeGuid: own.nodeGuid,
        mac: own.mac,
        hca,
        portState: own.portState,
        lid: own.lid,
        gids: own.gidTableLength,
      };
    }
    const pf = this.physfnOf(bdf);
    const nic = pf === undefined ? undefined : this.state.nics[pf];
    const index = pf === undefined ? undefined : this.vfIndexOf(pf, bdf);
    if (pf === undefined || nic === undefined || index === undefined) return undefined;
    const vp = this.vport(pf, index);
    if (nic.linkType === 'ib') {
      const configured = vp.nodeGuid !== null;
      return {
        kind: 'vf',
        nic,
        netdev: vfNetdevName(nic.netdev, index),
        portGuid: vp.portGuid,
        nodeGuid: vp.nodeGuid,
        mac: null,
        hca,
        portState: configured ? nic.portState : 'DOWN',
        lid: configured ? nic.lid + 0x100 + index : 0,
        gids: 8,
      };
    }
    // RoCE VF without an admin MAC: mlx5e gives the netdev a random MAC and the vport GUID stays 0.
    const ifSeed = this.state.nextIfindex;
    const randomMac = `02:${[index >> 8, index & 0xff, ifSeed & 0xff, (ifSeed >> 8) & 0xff, 0x5a]
      .map((x) => x.toString(16).padStart(2, '0'))
      .join(':')}`;
    return {
      kind: 'vf',
      nic,
      netdev: vfNetdevName(nic.netdev, index),
      portGuid: null,
      nodeGuid: vp.mac === null ? null : nodeGuidFromMac(vp.mac),
      mac: vp.mac ?? randomMac,
      hca,
      portState: nic.portState,
      lid: 0,
      gids: 8,
    };
  }

  createMlx5Children(bdf: string): void {
    const d = this.deviceDir(bdf);
    const id = this.#identity(bdf);
    if (d === undefined || id === undefined) return;
    const ib = id.nic.linkType === 'ib';
    const up = id.portState === 'ACTIVE';
    // netdev
    const ifname = id.netdev;
    const netDir = join(d, 'net', ifname);
    this.kfs.writeAttrs(netDir, {
      type: ib ? 32 : 1,
      ifindex: this.state.nextIfindex,
      iflink: this.state.nextIfindex,
      mtu: id.kind === 'pf' ? id.nic.mtu : ib ? 2044 : 1500,
      operstate: up ? 'up' : 'down',
      carrier: up ? 1 : 0,
      speed: up ? this.#speedMbps(id.nic.rate) : -1,
      duplex: 'full',
      address: ib ? ipoibAddress(id.portGuid) : (id.mac ?? '00:00:00:00:00:00'),
      broadcast: ib ? IPOIB_BROADCAST : 'ff:ff:ff:ff:ff:ff',
      addr_len: ib ? 20 : 6,
      addr_assign_type: id.kind === 'vf' && !ib && id.nodeGuid === null ? 1 : 0,
      dev_id: '0x0',
      dev_port: 0,
      flags: '0x1003',
      tx_queue_len: ib ? 256 : 1000,
    });
    this.state.nextIfindex++;
    if (id.kind === 'pf' && !ib) this.kfs.writeAttr(join(netDir, 'phys_port_name'), 'p0');
    this.kfs.link(join(netDir, 'device'), d);
    this.kfs.link(join(netDir, 'subsystem'), join(this.sys, 'class/net'));
    this.kfs.link(join(this.sys, 'class/net', ifname), netDir);
    // RDMA device
    const ibName = `mlx5_${this.#lowestFree('class/infiniband', 'mlx5_')}`;
    const ibDir = join(d, 'infiniband', ibName);
    const nodeGuid = id.nodeGuid === null ? ZERO_SYSFS_GUID : sysfsGuid(id.nodeGuid);
    const pfNic = id.nic;
    this.kfs.writeAttrs(ibDir, {
      node_type: '1: CA',
      node_guid: nodeGuid,
      sys_image_guid: sysfsGuid(pfNic.nodeGuid),
      fw_ver: pfNic.firmwareVersion,
      hca_type: id.hca,
      hw_rev: 0,
      board_id: 'MT_0000000838',
      node_desc: `${this.state.hostname} ${ibName}`,
      fw_pages: 0,
      reg_pages: 0,
    });
    this.kfs.link(join(ibDir, 'device'), d);
    this.kfs.link(join(ibDir, 'subsystem'), join(this.sys, 'class/infiniband'));
    this.kfs.link(join(this.sys, 'class/infiniband', ibName), ibDir);
    this.#writePort(join(ibDir, 'ports', '1'), id, ifname);
    // verbs and MAD char devices
    const uverbs = this.#lowestFree('class/infiniband_verbs', 'uverbs');
    const uvDir = join(d, 'infiniband_verbs', `uverbs${uverbs}`);
    this.kfs.writeAttrs(uvDir, { ibdev: ibName, abi_version: 1, dev: `231:${192 + uverbs}` });
    this.kfs.link(join(uvDir, 'device'), d);
    this.kfs.link(join(this.sys, 'class/infiniband_verbs', `uverbs${uverbs}`), uvDir);
    const umad = this.#lowestFree('class/infiniband_mad', 'umad');
    for (const [name, minor] of [
      [`umad${umad}`, umad],
      [`issm${umad}`, 64 + umad],
    ] as const) {
      const madDir = join(d, 'infiniband_mad', name);
      this.kfs.writeAttrs(madDir, { ibdev: ibName, port: 1, dev: `231:${minor}` });
      this.kfs.link(join(madDir, 'device'), d);
      this.kfs.link(join(this.sys, 'class/infiniband_mad', name), madDir);
    }
    if (id.kind === 'pf') {
      const aux = this.state.nextAux++;
      this.kfs.writeAttrs(join(d, `mlx5_core.rdma.${aux}`), {
        uevent: `DRIVER=mlx5_ib\nMODALIAS=auxiliary:mlx5_core.rdma`,
      });
      if (!ib)
        this.kfs.writeAttrs(join(d, `mlx5_core.eth.${aux}`), {
          uevent: `DRIVER=mlx5_core.eth\nMODALIAS=auxiliary:mlx5_core.eth`,
        });
    }
    this.save();
  }

  #speedMbps(rate: string): number {
    const gbps = parseFloat(rate);
    return Number.isFinite(gbps) ? Math.round(gbps * 1000) : -1;
  }

  #writePort(portDir: string, id: FunctionIdentity, ifname: string): void {
    const ib = id.nic.linkType === 'ib';
    this.kfs.writeAttrs(portDir, {
      state: portStateText(id.portState),
      phys_state: physStateText(id.nic.portState),
      rate: id.nic.rate,
      link_layer: ib ? 'InfiniBand' : 'Ethernet',
      lid: `0x${id.lid.toString(16)}`,
      sm_lid: ib ? '0x1' : '0x0',
      sm_sl: 0,
      lid_mask_count: 0,
      cap_mask: ib ? '0xa751e848' : '0x04010000',
    });
    const gidsDir = join(portDir, 'gids');
    this.fs.mkdirSync(gidsDir, { recursive: true });
    const gid0 = ib ? ibGid0(id.portGuid) : id.mac !== null ? roceLinkLocalGid(id.mac) : zeroGid();
    const populated: { index: number; type: string }[] = [];
    if (ib && id.portGuid !== null) populated.push({ index: 0, type: 'IB/RoCE v1' });
    if (!ib && id.mac !== null)
      populated.push({ index: 0, type: 'IB/RoCE v1' }, { index: 1, type: 'RoCE v2' });
    for (let i = 0; i < id.gids; i++) {
      const isPopulated = populated.some((p) => p.index === i);
      this.kfs.writeAttr(join(gidsDir, String(i)), isPopulated ? gid0 : zeroGid());
    }
    // gid_attrs entries of empty GIDs answer EINVAL on real kernels; a file cannot, so they are absent.
    for (const p of populated) {
      this.kfs.writeAttrs(join(portDir, 'gid_attrs/types'), { [String(p.index)]: p.type });
      if (!ib) this.kfs.writeAttrs(join(portDir, 'gid_attrs/ndevs'), { [String(p.index)]: ifname });
    }
    this.fs.mkdirSync(join(portDir, 'gid_attrs/types'), { recursive: true });
    this.fs.mkdirSync(join(portDir, 'gid_attrs/ndevs'), { recursive: true });
    const pkeys = ib ? (id.kind === 'pf' ? 128 : 16) : 1;
    const pk: Record<string, string> = {};
    for (let i = 0; i < pkeys; i++) pk[String(i)] = i === 0 ? '0xffff' : '0x0000';
    this.kfs.writeAttrs(join(portDir, 'pkeys'), pk);
    const counters: Record<string, number> = {};
    for (const c of PORT_COUNTERS) counters[c] = 0;
    this.kfs.writeAttrs(join(portDir, 'counters'), counters);
    const hw: Record<string, number> = {};
    for (const c of [...HW_COUNTERS, ...(ib ? [] : ROCE_HW_COUNTERS)]) hw[c] = 0;
    hw['lifespan'] = 10;
    this.kfs.writeAttrs(join(portDir, 'hw_counters'), hw);
  }

  removeMlx5Children(bdf: string): void {
    const d = this.deviceDir(bdf);
    if (d === undefined) return;
    const classes: [string, string][] = [
      ['net', 'class/net'],
      ['infiniband', 'class/infiniband'],
      ['infiniband_verbs', 'class/infiniband_verbs'],
      ['infiniband_mad', 'class/infiniband_mad'],
    ];
    for (const [child, cls] of classes) {
      for (const name of this.kfs.listDir(join(d, child))) this.kfs.removeTree(join(this.sys, cls, name));
      this.kfs.removeTree(join(d, child));
    }
    for (const name of this.kfs.listDir(d))
      if (/^mlx5_core\.(rdma|eth)\.[0-9]+$/.test(name)) this.kfs.removeTree(join(d, name));
  }

  /** Adds `bytes`/`packets` to a port's counters (data counters count 4-byte units). */
  addTraffic(
    bdf: string,
    t: { xmitBytes: number; rcvBytes: number; xmitPackets: number; rcvPackets: number },
  ): boolean {
    const d = this.deviceDir(bdf);
    const ibName = d === undefined ? undefined : this.kfs.listDir(join(d, 'infiniband'))[0];
    if (d === undefined || ibName === undefined) return false;
    const c = join(d, 'infiniband', ibName, 'ports/1/counters');
    if (!this.kfs.exists(c)) return false;
    const add = (name: string, v: number) =>
      this.kfs.writeAttr(join(c, name), Number(this.kfs.readAttr(join(c, name)) ?? '0') + v);
    add('port_xmit_data', Math.floor(t.xmitBytes / 4));
    add('port_rcv_data', Math.floor(t.rcvBytes / 4));
    add('port_xmit_packets', t.xmitPackets);
    add('port_rcv_packets', t.rcvPackets);
    return true;
  }
}

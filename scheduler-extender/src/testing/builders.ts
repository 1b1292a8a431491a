/**
 * Builders for valid node reports and `v1.Pod` JSON, for tests, the benchmark and examples:
 *
 *   makeReport('gpu-1').gpus(2, { switch: 'a' }).pf({ linkType: 'ib', numVfs: 8, at: { switch: 'a' } }).build()
 *   makePod().vfs('ib', 2).gpus(4).locality('required').build()
 *
 * PCIe placement is given by names: devices with the same `switch` sit under one PCIe switch
 * (PIX); switches under the same `rootPort` are PXB apart; different root ports of one host
 * bridge are PHB; host bridges of one NUMA node are NODE; different NUMA nodes are SYS.
 * Addresses are generated, unique and valid. Every report built passes `validateNodeReport`.
 */
import {
  NODE_REPORT_API_VERSION,
  NODE_REPORT_KIND,
  ANNOTATIONS,
  GPU_RESOURCE,
  VF_RESOURCE,
  type GpuReport,
  type LinkType,
  type NodeReport,
  type PfReport,
  type PortState,
  type VfReport,
} from '@rdmasched/contracts';

export interface PciePlacementSpec {
  /** NUMA node, default 0. */
  readonly numa?: number;
  /** Host bridge (root complex) name, default one per NUMA node. */
  readonly hostBridge?: string;
  /** Root port name; default: one per switch (or per device without a switch). */
  readonly rootPort?: string;
  /** PCIe switch name; devices with the same switch are PIX apart. */
  readonly switch?: string;
}

export interface PfSpec {
  readonly linkType?: LinkType;
  readonly rateGbps?: number;
  readonly portState?: PortState;
  /** false: SR-IOV disabled in firmware (`sriov: null`, no VFs). */
  readonly sriov?: boolean;
  readonly totalVfs?: number;
  readonly numVfs?: number;
  readonly maxVfs?: number;
  readonly resizing?: boolean;
  /** How many of the VFs are configured (the first ones); default all. */
  readonly configured?: number;
  /** VFs in use (the first ones): a count, or the pod UIDs (null = unknown pod). */
  readonly inUse?: number | readonly (string | null)[];
  /** How many VFs are marked reserved (after the in-use ones; no pod UID, as the contract says). */
  readonly reserved?: number;
  readonly at?: PciePlacementSpec;
}

const hex2 = (n: number): string => n.toString(16).padStart(2, '0');

function podList(v: number | readonly (string | null)[] | undefined, prefix: string): (string | null)[] {
  if (v === undefined) return [];
  if (typeof v === 'number') return Array.from({ length: v }, (_, i) => `${prefix}-${i}`);
  return [...v];
}

export class ReportBuilder {
  private generationValue = 1;
  private heartbeatMs = 5000;
  private reportedAt = '2026-11-26T16:00:00.000Z';
  private readonly gpuList: GpuReport[] = [];
  private readonly pfList: PfReport[] = [];
  private nextBus = 0x10;
  private readonly hostBridges = new Map<string, { bus: number; nextSlot: number; numa: number }>();
  private readonly rootPorts = new Map<string, string[]>();
  private readonly switches = new Map<string, { path: string[]; dspBus: number; nextDsp: number }>();
  private anonymous = 0;

  constructor(private readonly nodeName: string) {}

  generation(g: number): this {
    this.generationValue = g;
    return this;
  }

  heartbeatIntervalMs(ms: number): this {
    this.heartbeatMs = ms;
    return this;
  }

  reportedAtMs(ms: number): this {
    this.reportedAt = new Date(ms).toISOString();
    return this;
  }

  private bus(): number {
    const b = this.nextBus++;
    if (b > 0xff) throw new Error('builder ran out of PCI bus numbers');
    return b;
  }

  /** PCIe path down to (and including) a new device address. */
  private place(at: PciePlacementSpec = {}): { path: string[]; address: string; numa: number; bus: number } {
    const numa = at.numa ?? 0;
    const hbName = at.hostBridge ?? `numa${numa}`;
    let hb = this.hostBridges.get(hbName);
    if (hb === undefined) {
      hb = { bus: this.bus(), nextSlot: 1, numa };
      this.hostBridges.set(hbName, hb);
    }
    const rpName = `${hbName}/${at.rootPort ?? at.switch ?? `#${this.anonymous++}`}`;
    let rp = this.rootPorts.get(rpName);
    if (rp === undefined) {
      rp = [`pci0000:${hex2(hb.bus)}`, `0000:${hex2(hb.bus)}:${hex2(hb.nextSlot++)}.0`];
      this.rootPorts.set(rpName, rp);
    }
    let path = rp;
    if (at.switch !== undefined) {
      const swName = `${rpName}/${at.switch}`;
      let sw = this.switches.get(swName);
      if (sw === undefined) {
        const usp = this.bus();
        sw = { path: [...rp, `0000:${hex2(usp)}:00.0`], dspBus: this.bus(), nextDsp: 0 };
        this.switches.set(swName, sw);
      }
      path = [...sw.path, `0000:${hex2(sw.dspBus)}:${hex2(sw.nextDsp++)}.0`];
    }
    const bus = this.bus();
    const address = `0000:${hex2(bus)}:00.0`;
    return { path: [...path, address], address, numa: hb.numa, bus };
  }

  gpu(spec: { at?: PciePlacementSpec; allocated?: boolean } = {}): this {
    const placed = this.place(spec.at);
    this.gpuList.push({
      pciAddress: placed.address,
      vendorId: '0x10de',
      deviceId: '0x2330',
      model: 'H100 SXM5 80GB',
      numaNode: placed.numa,
      pciePath: placed.path,
      allocated: spec.allocated ?? false,
    });
    return this;
  }

  gpus(count: number, at?: PciePlacementSpec, allocated = 0): this {
    for (let i = 0; i < count; i++)
      this.gpu(at === undefined ? { allocated: i < allocated } : { at, allocated: i < allocated });
    return this;
  }

  pf(spec: PfSpec = {}): this {
    const linkType = spec.linkType ?? 'ib';
    const placed = this.place(spec.at);
    const sriovOn = spec.sriov ?? true;
    const totalVfs = sriovOn ? (spec.totalVfs ?? 16) : 0;
    const numVfs = sriovOn ? (spec.numVfs ?? 0) : 0;
    const maxVfs = sriovOn ? (spec.maxVfs ?? totalVfs) : 0;
    if (numVfs > 255) throw new Error('builder lists at most 255 VFs per PF');
    const configured = Math.min(numVfs, spec.configured ?? numVfs);
    const inUse = podList(spec.inUse, `pod-${placed.bus}-u`);
    const reserved = spec.reserved ?? 0;
    const n = this.pfList.length;
    const vfs: VfReport[] = [];
    for (let i = 0; i < numVfs; i++) {
      const devfn = i + 1;
      const isConfigured = i < configured;
      const held = i < inUse.length ? 'in-use' : i < inUse.length + reserved ? 'reserved' : 'free';
      const pod = held === 'in-use' ? inUse[i] : undefined;
      vfs.push({
        index: i,
        pciAddress: `0000:${hex2(placed.bus)}:${hex2(devfn >> 3)}.${devfn & 7}`,
        netdev: `vf${n}v${i}`,
        rdmaDevice: `mlx5_${n}_${i}`,
        driver: 'mlx5_core',
        configured: isConfigured,
        guid:
          linkType === 'ib' && isConfigured
            ? `02:00:00:00:${hex2(n)}:00:${hex2(i >> 8)}:${hex2(i & 0xff)}`
            : null,
        mac:
          linkType === 'roce' && isConfigured
            ? `02:00:00:${hex2(n)}:${hex2(i >> 8)}:${hex2(i & 0xff)}`
            : null,
        state: held,
        ...(pod === undefined ? {} : { podUid: pod }),
      });
    }
    this.pfList.push({
      pciAddress: placed.address,
      vendorId: '0x15b3',
      deviceId: '0x1021',
      model: 'ConnectX-7',
      netdev: linkType === 'ib' ? `ibp${placed.bus}s0` : `enp${placed.bus}s0np0`,
      rdmaDevice: `mlx5_${n}`,
      linkType,
      linkLayer: linkType === 'ib' ? 'InfiniBand' : 'Ethernet',
      portState: spec.portState ?? 'ACTIVE',
      rateGbps: spec.rateGbps ?? 400,
      mtu: linkType === 'ib' ? 4092 : 9000,
      numaNode: placed.numa,
      pciePath: placed.path,
      firmwareVersion: '28.39.1002',
      sriov: sriovOn ? { totalVfs, numVfs, maxVfs, resizing: spec.resizing ?? false } : null,
      vfs,
    });
    return this;
  }

  build(): NodeReport {
    const numas = [...new Set([...this.hostBridges.values()].map((h) => h.numa))].sort((a, b) => a - b);
    return {
      apiVersion: NODE_REPORT_API_VERSION,
      kind: NODE_REPORT_KIND,
      nodeName: this.nodeName,
      agentVersion: '0.1.0',
      generation: this.generationValue,
      reportedAt: this.reportedAt,
      heartbeatIntervalMs: this.heartbeatMs,
      numaNodes: (numas.length > 0 ? numas : [0]).map((id) => ({
        id,
        cpuList: `${id * 32}-${id * 32 + 31}`,
      })),
      gpus: structuredClone(this.gpuList),
      pfs: structuredClone(this.pfList),
    };
  }
}

export function makeReport(nodeName = 'node-1'): ReportBuilder {
  return new ReportBuilder(nodeName);
}

interface ContainerSpec {
  name: string;
  resources: { requests: Record<string, string>; limits: Record<string, string> };
  restartPolicy?: 'Always';
}

export class PodBuilder {
  private readonly meta: {
    name: string;
    namespace: string;
    uid: string;
    annotations: Record<string, string>;
  } = {
    name: 'rdma-job-0',
    namespace: 'team-a',
    uid: '6b1f0c3e-0000-4000-8000-00000000abcd',
    annotations: {},
  };
  private readonly main: ContainerSpec = { name: 'main', resources: { requests: {}, limits: {} } };
  private readonly inits: ContainerSpec[] = [];

  name(name: string): this {
    this.meta.name = name;
    return this;
  }

  namespace(ns: string): this {
    this.meta.namespace = ns;
    return this;
  }

  uid(uid: string): this {
    this.meta.uid = uid;
    return this;
  }

  /** VFs of a link type on the main container (as request and limit). */
  vfs(linkType: LinkType, count: number): this {
    this.main.resources.requests[VF_RESOURCE[linkType]] = String(count);
    this.main.resources.limits[VF_RESOURCE[linkType]] = String(count);
    return this;
  }

  gpus(count: number): this {
    this.main.resources.limits[GPU_RESOURCE] = String(count);
    return this;
  }

  minRateGbps(gbps: number | string): this {
    this.meta.annotations[ANNOTATIONS.minRateGbps] = String(gbps);
    return this;
  }

  /** Sets rdmasched.io/gpu-locality (any string, so tests can send invalid values). */
  locality(mode: string): this {
    this.meta.annotations[ANNOTATIONS.gpuLocality] = mode;
    return this;
  }

  annotation(key: string, value: string): this {
    this.meta.annotations[key] = value;
    return this;
  }

  /** An init container (run to completion) requesting these resources. */
  initContainer(limits: Record<string, string>, opts: { sidecar?: boolean } = {}): this {
    this.inits.push({
      name: `init-${this.inits.length}`,
      resources: { requests: {}, limits: { ...limits } },
      ...(opts.sidecar === true ? { restartPolicy: 'Always' as const } : {}),
    });
    return this;
  }

  build(): Record<string, unknown> {
    return {
      apiVersion: 'v1',
      kind: 'Pod',
      metadata: {
        name: this.meta.name,
        namespace: this.meta.namespace,
        uid: this.meta.uid,
        annotations: { ...this.meta.annotations },
      },
      spec: {
        schedulerName: 'rdma-scheduler',
        initContainers: this.inits.map((c) => ({ image: 'busybox', ...structuredClone(c) })),
        containers: [{ image: 'nvcr.io/nvidia/pytorch:24.05-py3', ...structuredClone(this.main) }],
      },
      status: { phase: 'Pending' },
    };
  }
}

export function makePod(): PodBuilder {
  return new PodBuilder();
}

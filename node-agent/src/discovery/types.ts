import type { DistanceClass, LinkType, PortState } from '@rdmasched/contracts';

/** A VF as read from the host. Identity for the device plugin: its PCI address. */
export interface DiscoveredVf {
  /** N of the PF's `virtfnN` link. */
  readonly index: number;
  readonly pciAddress: string;
  readonly pfPciAddress: string;
  readonly linkType: LinkType;
  readonly numaNode: number;
  readonly netdev: string | null;
  readonly rdmaDevice: string | null;
  readonly driver: string | null;
  /** Driver bound, RDMA device present, and its node GUID set (not all zeros). */
  readonly configured: boolean;
  /** IB: the VF's node GUID (`xx:..:xx`) when set; null for RoCE. */
  readonly guid: string | null;
  /** RoCE: the VF netdev's MAC when configured; null for IB. */
  readonly mac: string | null;
  /** The VF netdev's MTU; null without a netdev (e.g. moved into a pod's network namespace). */
  readonly mtu: number | null;
}

export interface DiscoveredSriov {
  readonly totalVfs: number;
  readonly numVfs: number;
  readonly offset: number | null;
  readonly stride: number | null;
  readonly vfDeviceId: string | null;
}

export interface DiscoveredPf {
  readonly pciAddress: string;
  readonly vendorId: string;
  readonly deviceId: string;
  readonly model: string | null;
  readonly driver: string | null;
  readonly netdev: string | null;
  readonly rdmaDevice: string | null;
  /** Port whose state/rate is reported (the lowest-numbered one, normally 1). */
  readonly port: number | null;
  readonly linkType: LinkType;
  readonly linkLayer: 'InfiniBand' | 'Ethernet';
  readonly portState: PortState;
  readonly rateGbps: number;
  readonly mtu: number | null;
  readonly numaNode: number;
  readonly pciePath: readonly string[];
  readonly firmwareVersion: string | null;
  /** null when SR-IOV is disabled in firmware (no `sriov_*` files). */
  readonly sriov: DiscoveredSriov | null;
  readonly vfs: readonly DiscoveredVf[];
}

export interface DiscoveredGpu {
  readonly pciAddress: string;
  readonly vendorId: string;
  readonly deviceId: string;
  readonly model: string | null;
  readonly numaNode: number;
  readonly pciePath: readonly string[];
}

export interface DiscoveredNumaNode {
  readonly id: number;
  readonly cpuList: string;
}

export interface DistanceEntry {
  /** PCI address of a GPU. */
  readonly gpu: string;
  /** PCI address of a PF. */
  readonly pf: string;
  readonly class: DistanceClass;
}

export interface Discovery {
  readonly numaNodes: readonly DiscoveredNumaNode[];
  readonly gpus: readonly DiscoveredGpu[];
  readonly pfs: readonly DiscoveredPf[];
  /** GPU–PF distance classes (nvidia-smi topo names). */
  readonly distances: readonly DistanceEntry[];
  /** Things skipped or unreadable, for a person. */
  readonly warnings: readonly string[];
}

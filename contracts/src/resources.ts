/**
 * Names that appear in pod specs, node objects and annotations. Kubernetes users type these,
 * so they are part of the public API: never rename one without a deprecation.
 */

/** The two RDMA link types rdmasched schedules. */
export const LINK_TYPES = ['ib', 'roce'] as const;
export type LinkType = (typeof LINK_TYPES)[number];

/** The kernel's `link_layer` values (sysfs `ports/<n>/link_layer`). */
export type LinkLayer = 'InfiniBand' | 'Ethernet';

export const LINK_LAYER_OF: Readonly<Record<LinkType, LinkLayer>> = { ib: 'InfiniBand', roce: 'Ethernet' };

/** Human names for messages ("node has no InfiniBand PF"). */
export const LINK_TYPE_LABEL: Readonly<Record<LinkType, string>> = { ib: 'InfiniBand', roce: 'RoCE' };

/** Extended resource a pod requests for VFs of each link type, e.g. `rdmasched.io/ib-vf: 2`. */
export const VF_RESOURCE: Readonly<Record<LinkType, string>> = {
  ib: 'rdmasched.io/ib-vf',
  roce: 'rdmasched.io/roce-vf',
};

/** The extended resource for GPUs (NVIDIA device plugin). */
export const GPU_RESOURCE = 'nvidia.com/gpu';

export function linkTypeOfResource(resourceName: string): LinkType | undefined {
  for (const t of LINK_TYPES) if (VF_RESOURCE[t] === resourceName) return t;
  return undefined;
}

/** Pod annotations a workload owner may set. */
export const ANNOTATIONS = {
  /** Minimum port rate in Gb/s for the pod's VFs, e.g. `"200"`. */
  minRateGbps: 'rdmasched.io/min-rate-gbps',
  /** `required` | `preferred` (default) | `none`: how strictly VFs must sit next to the pod's GPUs. */
  gpuLocality: 'rdmasched.io/gpu-locality',
  /** Written by the extender at bind: the VFs reserved for the pod (JSON, see reservation.ts). */
  reservation: 'rdmasched.io/reservation',
  /**
   * Written by the extender at bind for a pod with RoCE VFs whose tenant has a VLAN: the 802.1Q
   * VLAN ID (decimal), for the CNI (or a meta-plugin) that configures the pod's VFs.
   */
  roceVlan: 'rdmasched.io/roce-vlan',
  /**
   * Written by the extender at bind for a pod with InfiniBand VFs whose tenant has a partition:
   * the PKey as `0x%04x` (the 15-bit partition; membership is full). The extender adds the VFs'
   * GUIDs to it at the subnet manager.
   */
  ibPkey: 'rdmasched.io/ib-pkey',
} as const;

export const GPU_LOCALITY_MODES = ['required', 'preferred', 'none'] as const;
export type GpuLocality = (typeof GPU_LOCALITY_MODES)[number];

/** The scheduler name workloads set in `spec.schedulerName`. */
export const SCHEDULER_NAME = 'rdma-scheduler';

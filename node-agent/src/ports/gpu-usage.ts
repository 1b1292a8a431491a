/**
 * Which GPUs are allocated to containers, for the report's `GpuReport.allocated`. Fed by the
 * kubelet's PodResources API (`nvidia.com/gpu` devices, IDs are GPU UUIDs mapped to PCI addresses
 * through the NVIDIA driver's procfs) on a real node, or set directly by the simulation.
 */
export interface GpuUsage {
  /** PCI addresses of the GPUs allocated now. */
  allocated(): ReadonlySet<string>;
  /** Called after every change; returns the unsubscribe function. */
  onChange(listener: () => void): () => void;
}

/** No GPU is ever known to be allocated (no kubelet connection). */
export const NO_GPU_USAGE: GpuUsage = { allocated: () => new Set(), onChange: () => () => undefined };

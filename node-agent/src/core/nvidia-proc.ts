/**
 * The NVIDIA driver's per-GPU procfs file, `/proc/driver/nvidia/gpus/<domain:bus:dev.fn>/information`
 * (written by nv-procfs.c, one `Key: \t value` line each): the agent reads `GPU UUID` from it to
 * map the GPU IDs the kubelet's PodResources API gives for `nvidia.com/gpu` (UUIDs) to PCI
 * addresses. Pure.
 */
import { createHash } from 'node:crypto';

/** `proc/driver/nvidia/gpus/<bdf>/information`, relative to the proc root. */
export const nvidiaGpuInfoPath = (bdf: string): string => `driver/nvidia/gpus/${bdf}/information`;
export const NVIDIA_GPUS_DIR = 'driver/nvidia/gpus';

const UUID_RE = /^GPU-[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

export const isGpuUuid = (s: string): boolean => UUID_RE.test(s);

/** The `GPU UUID:` of an information file; undefined when absent or malformed. */
export function parseGpuUuid(text: string | undefined): string | undefined {
  if (text === undefined) return undefined;
  for (const line of text.split('\n')) {
    const m = /^GPU UUID:\s*(\S+)\s*$/.exec(line);
    if (m?.[1] !== undefined) return isGpuUuid(m[1]) ? m[1] : undefined;
  }
  return undefined;
}

/** A stable, unique-looking GPU UUID for a simulated GPU (from its host and address). */
export function simulatedGpuUuid(hostname: string, bdf: string): string {
  const h = createHash('sha1').update(`${hostname}/${bdf}`).digest('hex');
  return `GPU-${h.slice(0, 8)}-${h.slice(8, 12)}-${h.slice(12, 16)}-${h.slice(16, 20)}-${h.slice(20, 32)}`;
}

/** The information file as the driver prints it (nv_procfs_read_gpu_info). */
export function gpuInformation(g: { model: string; uuid: string; bdf: string; minor: number }): string {
  return [
    `Model: \t\t NVIDIA ${g.model}`,
    `IRQ:   \t\t ${200 + g.minor}`,
    `GPU UUID: \t ${g.uuid}`,
    `Video BIOS: \t 96.00.99.00.01`,
    `Bus Type: \t PCIe`,
    `DMA Size: \t 52 bits`,
    `DMA Mask: \t 0xfffffffffffff`,
    `Bus Location: \t ${g.bdf}`,
    `Device Minor: \t ${g.minor}`,
    `GPU Excluded:\t No`,
    '',
  ].join('\n');
}

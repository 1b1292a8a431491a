/**
 * GPU allocations from the kubelet: the PodResources API lists `nvidia.com/gpu` devices by the
 * IDs the NVIDIA device plugin advertises, GPU UUIDs (`GPU-...`). The NVIDIA driver prints each
 * GPU's UUID in `/proc/driver/nvidia/gpus/<domain:bus:dev.fn>/information` (`GPU UUID:` line), so
 * the UUID -> PCI address map is read from there (proc root configurable: `/host/proc` in a
 * container). The map is re-read when a UUID is not in it (a GPU that appeared), at most every
 * `rereadAfterMs`.
 */
import type { Logger } from 'pino';
import { GPU_RESOURCE, isPciAddress } from '@rdmasched/contracts';
import { NVIDIA_GPUS_DIR, nvidiaGpuInfoPath, parseGpuUuid } from '../core/nvidia-proc.js';
import type { GpuUsage } from '../ports/gpu-usage.js';
import type { SysfsReader } from '../ports/sysfs-reader.js';
import { InMemoryGpuUsage } from '../adapters/memory/in-memory-gpu-usage.js';
import type { KubeletAssignment } from './allocated-devices.js';

/** UUID -> PCI address, from the driver's procfs (a reader rooted at the proc root). */
export async function readGpuUuids(proc: SysfsReader): Promise<Map<string, string>> {
  const out = new Map<string, string>();
  const bdfs = (await proc.list(NVIDIA_GPUS_DIR)).filter(isPciAddress);
  const texts = await Promise.all(bdfs.map((bdf) => proc.read(nvidiaGpuInfoPath(bdf))));
  bdfs.forEach((bdf, i) => {
    const uuid = parseGpuUuid(texts[i]);
    if (uuid !== undefined) out.set(uuid.toLowerCase(), bdf);
  });
  return out;
}

export interface KubeletGpuUsageOptions {
  /** A reader rooted at the proc root (`/proc`, `/host/proc`, `<sim dir>/proc`). */
  readonly proc: SysfsReader;
  readonly nowMs?: () => number;
  /** Least time between two reads of procfs for an unknown UUID (default 30 s). */
  readonly rereadAfterMs?: number;
  readonly logger: Logger;
}

export class KubeletGpuUsage implements GpuUsage {
  readonly #usage = new InMemoryGpuUsage();
  readonly #opts: KubeletGpuUsageOptions;
  #uuids: Map<string, string> | undefined;
  #readAtMs = -Infinity;

  constructor(opts: KubeletGpuUsageOptions) {
    this.#opts = opts;
  }

  allocated(): ReadonlySet<string> {
    return this.#usage.allocated();
  }

  onChange(listener: () => void): () => void {
    return this.#usage.onChange(listener);
  }

  /** Makes the allocated set what the kubelet reports (every resource's assignments may be given). */
  async applyKubeletView(assignments: readonly KubeletAssignment[]): Promise<void> {
    const ids = assignments.filter((a) => a.resource === GPU_RESOURCE).map((a) => a.deviceId.toLowerCase());
    const now = (this.#opts.nowMs ?? Date.now)();
    const unknown = ids.some((id) => this.#uuids?.has(id) !== true);
    if (
      this.#uuids === undefined ||
      (unknown && now - this.#readAtMs >= (this.#opts.rereadAfterMs ?? 30_000))
    ) {
      this.#uuids = await readGpuUuids(this.#opts.proc);
      this.#readAtMs = now;
    }
    const gpus: string[] = [];
    for (const id of ids) {
      const bdf = this.#uuids.get(id);
      if (bdf !== undefined) gpus.push(bdf);
      else
        this.#opts.logger.debug(
          { gpu: id.slice(0, 64) },
          'kubelet lists a GPU this node does not show in procfs',
        );
    }
    this.#usage.set(gpus);
  }
}

import type { GpuUsage } from '../../ports/gpu-usage.js';

/** GPU allocations set by hand: the simulation's kubelet stand-in, and tests. */
export class InMemoryGpuUsage implements GpuUsage {
  #allocated = new Set<string>();
  readonly #listeners = new Set<() => void>();

  allocated(): ReadonlySet<string> {
    return this.#allocated;
  }

  /** Replaces the whole set (PCI addresses); listeners hear of it only when it changed. */
  set(gpus: Iterable<string>): void {
    const next = new Set(gpus);
    if (next.size === this.#allocated.size && [...next].every((g) => this.#allocated.has(g))) return;
    this.#allocated = next;
    this.#emit();
  }

  allocate(gpu: string): void {
    if (this.#allocated.has(gpu)) return;
    this.#allocated = new Set(this.#allocated).add(gpu);
    this.#emit();
  }

  release(gpu: string): void {
    if (!this.#allocated.has(gpu)) return;
    const next = new Set(this.#allocated);
    next.delete(gpu);
    this.#allocated = next;
    this.#emit();
  }

  onChange(listener: () => void): () => void {
    this.#listeners.add(listener);
    return () => this.#listeners.delete(listener);
  }

  #emit(): void {
    for (const l of [...this.#listeners]) l();
  }
}

import type { VfAllocation, VfUsage } from '../../ports/vf-usage.js';

/**
 * In-memory VF usage: what the device plugin will report, driven for now by the simulation and
 * tests. `allocate` honours the PF lock, as the device plugin must.
 */
export class InMemoryVfUsage implements VfUsage {
  readonly #inUse = new Map<string, VfAllocation>();
  readonly #locked = new Set<string>();
  readonly #listeners = new Set<() => void>();

  inUse(): ReadonlyMap<string, VfAllocation> {
    return this.#inUse;
  }

  /** A container got the VF. Refused (false) while its PF is locked or when it is taken. */
  allocate(a: VfAllocation): boolean {
    if (this.#locked.has(a.pf) || this.#inUse.has(a.vf)) return false;
    this.#inUse.set(a.vf, a);
    this.#emit();
    return true;
  }

  /** The container ended. Idempotent. */
  release(vf: string): void {
    if (this.#inUse.delete(vf)) this.#emit();
  }

  tryLockPf(pf: string): boolean {
    for (const a of this.#inUse.values()) if (a.pf === pf) return false;
    this.#locked.add(pf);
    return true;
  }

  unlockPf(pf: string): void {
    this.#locked.delete(pf);
  }

  /** Drops every lock (the process holding them ended). */
  clearLocks(): void {
    this.#locked.clear();
  }

  isLocked(pf: string): boolean {
    return this.#locked.has(pf);
  }

  onChange(listener: () => void): () => void {
    this.#listeners.add(listener);
    return () => this.#listeners.delete(listener);
  }

  #emit(): void {
    for (const l of this.#listeners) l();
  }
}

/**
 * `VfUsage` as the device plugin knows it: every VF the kubelet allocated to a container, and the
 * PF locks the agent takes before a resize. The two exclude each other atomically (all checks and
 * changes are synchronous, so no await can fall between a check and its change):
 *
 * - `tryLockPf` fails while any VF of the PF is in use, and also until a reconcile with the kubelet
 *   has told the plugin which VFs are in use (after an agent restart the map is empty, and "empty"
 *   must not be mistaken for "nothing in use"). Only an answer to a question asked at least the
 *   grace period after this process started counts: the previous process may have answered an
 *   Allocate just before it died, and the kubelet records that allocation only after the answer
 *   (within the grace period, the same assumption that delays releases);
 * - `tryAllocate` fails, recording nothing, when any of the VFs' PFs is locked.
 *
 * The kubelet never tells a plugin that a container ended, so releases come from reconciling with
 * the kubelet's PodResources API (`applyKubeletView`), and a VF the kubelet allocates again while
 * still recorded here simply moves to its new container: the kubelet is the authority on which
 * devices are free, and only hands out ones it considers released.
 */
import type { VfAllocation, VfUsage } from '../ports/vf-usage.js';

export interface DevicePluginAllocation extends VfAllocation {
  /** Extended resource the VF was allocated as. */
  readonly resource: string;
  /** Pod and container, once the kubelet's PodResources API named them; null right after Allocate. */
  readonly namespace: string | null;
  readonly podName: string | null;
  readonly container: string | null;
  /** Unix ms when the plugin recorded the allocation. */
  readonly allocatedAtMs: number;
}

export interface AllocationEntry {
  readonly vf: string;
  readonly pf: string;
  readonly resource: string;
}

export type AllocateOutcome =
  { readonly ok: true } | { readonly ok: false; readonly lockedPf: string; readonly vf: string };

/** One device the kubelet reports as assigned, with its PF already resolved. */
export interface KubeletHeldVf {
  readonly vf: string;
  readonly pf: string;
  readonly resource: string;
  readonly namespace: string;
  readonly podName: string;
  readonly container: string;
  readonly podUid: string | null;
}

export interface KubeletView {
  /** Every VF of rdmasched's resources the kubelet has assigned, by VF address. */
  readonly held: ReadonlyMap<string, KubeletHeldVf>;
  /** When the question was asked (unix ms): allocations recorded after it are never released. */
  readonly askedAtMs: number;
  /** An allocation younger than this at `askedAtMs` is kept even when not listed. */
  readonly graceMs: number;
}

export interface ApplyOutcome {
  readonly released: readonly DevicePluginAllocation[];
  readonly adopted: readonly KubeletHeldVf[];
  /** Adopted VFs whose PF was locked: must never happen; reported so it is seen. */
  readonly adoptedOnLockedPf: readonly string[];
}

export class DevicePluginVfUsage implements VfUsage {
  readonly #inUse = new Map<string, DevicePluginAllocation>();
  readonly #locked = new Set<string>();
  readonly #listeners = new Set<() => void>();
  readonly #lockListeners = new Set<() => void>();
  readonly #nowMs: () => number;
  readonly #startedAtMs: number;
  #synced = false;
  #syncWaiters: (() => void)[] = [];

  constructor(opts: { readonly nowMs?: () => number } = {}) {
    this.#nowMs = opts.nowMs ?? Date.now;
    this.#startedAtMs = this.#nowMs();
  }

  inUse(): ReadonlyMap<string, DevicePluginAllocation> {
    return this.#inUse;
  }

  /**
   * True once a reconcile with the kubelet succeeded on a question asked at least its grace period
   * after this object was created: in-use knowledge is complete.
   */
  get synced(): boolean {
    return this.#synced;
  }

  /** Resolves once `synced` turns true (at once if it is). */
  whenSynced(): Promise<void> {
    return this.#synced ? Promise.resolve() : new Promise((resolve) => this.#syncWaiters.push(resolve));
  }

  /**
   * Locks the PF against allocations. Atomic; false (nothing locked) while a VF of the PF is in use
   * or before the first reconcile. Idempotent for a PF already locked.
   */
  tryLockPf(pf: string): boolean {
    if (this.#locked.has(pf)) return true;
    if (!this.#synced) return false;
    for (const a of this.#inUse.values()) if (a.pf === pf) return false;
    this.#locked.add(pf);
    this.#emit(this.#lockListeners);
    return true;
  }

  unlockPf(pf: string): void {
    if (this.#locked.delete(pf)) this.#emit(this.#lockListeners);
  }

  isLocked(pf: string): boolean {
    return this.#locked.has(pf);
  }

  /** Locked PFs now (for metrics and tests). */
  lockedPfs(): ReadonlySet<string> {
    return this.#locked;
  }

  onChange(listener: () => void): () => void {
    this.#listeners.add(listener);
    return () => this.#listeners.delete(listener);
  }

  /** Called after every lock or unlock (the plugin re-advertises health). */
  onLockChange(listener: () => void): () => void {
    this.#lockListeners.add(listener);
    return () => this.#lockListeners.delete(listener);
  }

  /**
   * Records that a container got these VFs. All or nothing: refused, recording nothing, when one
   * of their PFs is locked. A VF already recorded moves to the new allocation (see above).
   */
  tryAllocate(entries: readonly AllocationEntry[]): AllocateOutcome {
    for (const e of entries) if (this.#locked.has(e.pf)) return { ok: false, lockedPf: e.pf, vf: e.vf };
    const at = this.#nowMs();
    for (const e of entries)
      this.#inUse.set(e.vf, {
        vf: e.vf,
        pf: e.pf,
        resource: e.resource,
        podUid: null,
        namespace: null,
        podName: null,
        container: null,
        allocatedAtMs: at,
      });
    if (entries.length > 0) this.#emit(this.#listeners);
    return { ok: true };
  }

  /**
   * Makes the record agree with what the kubelet reports: VFs it holds are recorded (with their
   * pod), VFs it no longer holds are released unless younger than the grace period at the time of
   * the question (the kubelet records an allocation only after Allocate returned). The first call
   * whose question was asked at least `graceMs` after this object was created marks the usage
   * synced; earlier answers may miss an allocation a previous agent process made just before it
   * stopped.
   */
  applyKubeletView(view: KubeletView): ApplyOutcome {
    const released: DevicePluginAllocation[] = [];
    const adopted: KubeletHeldVf[] = [];
    const adoptedOnLockedPf: string[] = [];
    let changed = false;
    for (const [vf, a] of this.#inUse) {
      if (view.held.has(vf)) continue;
      if (a.allocatedAtMs + view.graceMs >= view.askedAtMs) continue;
      this.#inUse.delete(vf);
      released.push(a);
      changed = true;
    }
    for (const h of view.held.values()) {
      const cur = this.#inUse.get(h.vf);
      if (cur === undefined) {
        adopted.push(h);
        if (this.#locked.has(h.pf)) adoptedOnLockedPf.push(h.vf);
      }
      const same =
        cur !== undefined &&
        cur.pf === h.pf &&
        cur.resource === h.resource &&
        cur.namespace === h.namespace &&
        cur.podName === h.podName &&
        cur.container === h.container &&
        cur.podUid === h.podUid;
      if (same) continue;
      this.#inUse.set(h.vf, {
        vf: h.vf,
        pf: h.pf,
        resource: h.resource,
        podUid: h.podUid,
        namespace: h.namespace,
        podName: h.podName,
        container: h.container,
        allocatedAtMs: cur?.allocatedAtMs ?? view.askedAtMs,
      });
      changed = true;
    }
    if (!this.#synced && view.askedAtMs >= this.#startedAtMs + view.graceMs) {
      this.#synced = true;
      for (const w of this.#syncWaiters.splice(0)) w();
    }
    if (changed) this.#emit(this.#listeners);
    return { released, adopted, adoptedOnLockedPf };
  }

  /** Listeners must not throw; one that does cannot undo a lock or an allocation already made. */
  #emit(listeners: ReadonlySet<() => void>): void {
    for (const l of [...listeners]) {
      try {
        l();
      } catch {
        // A listener's bug must not turn a recorded lock or allocation into a thrown "failure".
      }
    }
  }
}

/**
 * Resizing a PF and making its VFs ready, with the crash-safety protocol of docs/adr/0003 §3–§5:
 *
 *   take the resize claim (Lua, atomic with the ledger) -> lock the PF against allocations
 *   -> note {pf, owner, target, step} in Redis -> write 0 (if VFs exist) -> note step
 *   -> write target -> note step -> wait for the VFs -> configure each -> release the claim
 *   -> clear the note.
 *
 * `converge` is idempotent: it takes the PF from whatever state it is in to `targetVfs` configured
 * VFs, so a restarted agent finishes an interrupted resize by calling it again.
 */
import type { ResizeOp } from '../core/agent-state.js';
import { discover } from '../discovery/discover.js';
import type { AgentCode } from '../errors.js';
import type { AgentContext } from './agent-context.js';
import { applyVfMtu } from './vf-mtu.js';

export type StepOutcome =
  { readonly ok: true } | { readonly ok: false; readonly code: AgentCode; readonly message: string };

const CLAIM_CODES: Readonly<Record<'CLAIMED' | 'HELD' | 'NO_RESERVATION', AgentCode>> = {
  CLAIMED: 'PF_CLAIMED',
  HELD: 'PF_HELD',
  NO_RESERVATION: 'RESERVATION_GONE',
};

export interface ResizeRequest {
  readonly pf: string;
  readonly owner: string;
  readonly targetVfs: number;
  readonly requestId: string | null;
  readonly minReadyVfs: number;
}

export class Resizer {
  constructor(private readonly ctx: AgentContext) {}

  /** Takes the claim (idempotent), locks the PF, notes the op and converges. Always cleans up. */
  async resize(r: ResizeRequest): Promise<StepOutcome> {
    const { ctx } = this;
    try {
      const c = await ctx.ledger.takeClaim(ctx.nodeName, r.pf, r.owner);
      if (!c.ok) return { ok: false, code: CLAIM_CODES[c.reason], message: c.detail };
    } catch (err: unknown) {
      return {
        ok: false,
        code: 'STORE_UNAVAILABLE',
        message: `taking the resize claim: ${(err as Error).message}`,
      };
    }
    ctx.claimed.add(r.pf);
    if (!ctx.usage.tryLockPf(r.pf)) {
      await this.release(r.pf, r.owner);
      const used = [...ctx.usage.inUse().values()].find((a) => a.pf === r.pf);
      return {
        ok: false,
        code: 'PF_BUSY',
        message:
          used !== undefined
            ? `VF ${used.vf} of ${r.pf} is in use${used.podUid === null ? '' : ` by pod ${used.podUid}`}`
            : `${r.pf} cannot be locked against allocations yet (the kubelet has not said which VFs are in use)`,
      };
    }
    ctx.resizing.add(r.pf);
    try {
      const fromVfs = (await ctx.view.refresh({ ledger: false })).discovery.pfs.find(
        (p) => p.pciAddress === r.pf,
      )?.sriov?.numVfs;
      const op: ResizeOp = {
        kind: 'resize',
        pf: r.pf,
        owner: r.owner,
        fromVfs: fromVfs ?? 0,
        targetVfs: r.targetVfs,
        step: 'claimed',
        requestId: r.requestId,
        minReadyVfs: r.minReadyVfs,
        startedAtMs: ctx.clock.nowMs(),
      };
      try {
        await ctx.notes.setOp(op);
      } catch (err: unknown) {
        return {
          ok: false,
          code: 'STORE_UNAVAILABLE',
          message: `recording the resize: ${(err as Error).message}`,
        };
      }
      ctx.logger.info(
        { pf: r.pf, owner: r.owner, fromVfs: op.fromVfs, targetVfs: r.targetVfs },
        'resizing PF',
      );
      return await this.converge(r.pf, r.targetVfs);
    } finally {
      await this.release(r.pf, r.owner);
    }
  }

  /**
   * Brings the PF to `targetVfs` VFs, all configured. Call only while holding the claim and the
   * lock. Writes `sriov_numvfs` only when the count differs (0 first when VFs exist).
   */
  async converge(pf: string, targetVfs: number): Promise<StepOutcome> {
    const { ctx } = this;
    const snap = await ctx.view.refresh({ ledger: false });
    const now = snap.discovery.pfs.find((p) => p.pciAddress === pf);
    if (now?.sriov === null || now === undefined)
      return { ok: false, code: 'UNKNOWN_PF', message: `${pf} is gone` };
    let enabledNow = false;
    if (now.sriov.numVfs !== targetVfs) {
      enabledNow = targetVfs > 0;
      if (now.sriov.numVfs > 0) {
        const off = await ctx.host.setNumVfs(pf, 0);
        this.#count(off.ok);
        if (!off.ok) return this.#hostFailure(off.errno, off.message);
        await this.#step('disabled');
      }
      await this.releaseGoneIdentities();
      if (targetVfs > 0) {
        const on = await ctx.host.setNumVfs(pf, targetVfs);
        this.#count(on.ok);
        if (!on.ok) return this.#hostFailure(on.errno, on.message);
      }
      await this.#step('enabled');
    }
    if (targetVfs === 0) return { ok: true };
    if (enabledNow) {
      // Freshly enabled VFs appear at once and bind when their driver probes them (unless
      // autoprobe is off). VFs that exist but stay unbound are bound by configureAll below.
      const autoprobe =
        (await ctx.reader.read(`bus/pci/devices/${pf}/sriov_drivers_autoprobe`))?.trim() !== '0';
      await this.#waitFor(
        pf,
        (vfs) =>
          vfs.length >= targetVfs &&
          (!autoprobe || vfs.every((v) => v.driver !== null && v.rdmaDevice !== null)),
      );
    }
    const present =
      (await discover(ctx.reader, { onlyPfs: new Set([pf]) })).pfs.find((p) => p.pciAddress === pf)?.vfs
        .length ?? 0;
    if (present < targetVfs)
      return {
        ok: false,
        code: 'VFS_DID_NOT_APPEAR',
        message: `only ${present} of ${targetVfs} VFs of ${pf} appeared in time`,
      };
    return this.configureAll(pf);
  }

  /** Configures every VF of the PF that is neither configured nor in use, then waits until they are. */
  async configureAll(pf: string): Promise<StepOutcome> {
    const { ctx } = this;
    const snap = await ctx.view.refresh({ ledger: false });
    const p = snap.discovery.pfs.find((x) => x.pciAddress === pf);
    if (p === undefined) return { ok: false, code: 'UNKNOWN_PF', message: `${pf} is gone` };
    let firstFailure: StepOutcome | undefined;
    const todo = p.vfs.filter((v) => !v.configured && !snap.inUse.has(v.pciAddress));
    for (const vf of todo) {
      const r = await ctx.configurator.configure(p, vf);
      this.#count(r.ok);
      if (!r.ok) {
        ctx.logger.warn({ pf, vf: vf.pciAddress, code: r.code, reason: r.message }, 'VF not configured');
        firstFailure ??= r;
        if (r.code === 'STORE_UNAVAILABLE' || r.code === 'GUID_POOL_EXHAUSTED') break;
      }
    }
    if (todo.length > 0) {
      const want = new Set(todo.map((v) => v.pciAddress));
      await this.#waitFor(pf, (vfs) => vfs.filter((v) => want.has(v.pciAddress)).every((v) => v.configured));
      await ctx.view.refresh({ ledger: false });
      // A rebound VF has the driver's default MTU again: the policy's goes on before anyone gets it.
      if ((await applyVfMtu(ctx, new Set([pf]))) > 0) await ctx.view.refresh({ ledger: false });
    }
    return firstFailure ?? { ok: true };
  }

  /** Releases pool identities of VFs of this node that no longer exist on the host. */
  async releaseGoneIdentities(): Promise<number> {
    const { ctx } = this;
    const held = await ctx.pool.ofNode(ctx.nodeName);
    let released = 0;
    for (const vf of held.keys()) {
      // Only what is provably gone: an unreadable VF keeps its identity (no duplicate GUID ever).
      if (await ctx.reader.exists(`bus/pci/devices/${vf}`)) continue;
      await ctx.pool.release(ctx.nodeName, vf);
      released++;
    }
    return released;
  }

  /** Clears the note, releases the claim and the lock; errors are logged (recovery retries). */
  async release(pf: string, owner: string): Promise<void> {
    const { ctx } = this;
    try {
      await ctx.notes.clearOp();
      await ctx.ledger.releaseClaim(ctx.nodeName, pf, owner);
      ctx.claimed.delete(pf);
    } catch (err: unknown) {
      ctx.logger.error(
        { pf, err: (err as Error).message },
        'could not release the resize claim; recovery will',
      );
    } finally {
      ctx.usage.unlockPf(pf);
      ctx.resizing.delete(pf);
    }
  }

  async #step(step: 'disabled' | 'enabled'): Promise<void> {
    try {
      await this.ctx.notes.setStep(step);
    } catch (err: unknown) {
      // The host already changed; the note is only more precise. Recovery converges from the host.
      this.ctx.logger.warn({ step, err: (err as Error).message }, 'could not record the resize step');
    }
  }

  #hostFailure(errno: string, message: string): StepOutcome {
    return { ok: false, code: errno === 'UNSAFE' ? 'UNSAFE_WRITE' : 'HOST_WRITE_FAILED', message };
  }

  #count(ok: boolean): void {
    this.ctx.metrics.hostWrites.inc({ result: ok ? 'ok' : 'error' });
  }

  async #waitFor(
    pf: string,
    done: (
      vfs: readonly {
        pciAddress: string;
        driver: string | null;
        rdmaDevice: string | null;
        configured: boolean;
      }[],
    ) => boolean,
  ): Promise<boolean> {
    const { ctx } = this;
    const deadline = ctx.clock.nowMs() + ctx.settings.vfWaitTimeoutMs;
    for (;;) {
      const d = await discover(ctx.reader, { onlyPfs: new Set([pf]) });
      const p = d.pfs.find((x) => x.pciAddress === pf);
      if (p !== undefined && done(p.vfs)) return true;
      if (ctx.clock.nowMs() >= deadline) return false;
      await ctx.clock.sleep(ctx.settings.vfPollIntervalMs);
    }
  }
}

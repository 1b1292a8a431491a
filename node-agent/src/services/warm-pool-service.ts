/**
 * Applies the warm-pool policy (core/warm-pool.ts): one action per tick, under the agent's mutex.
 * Grow and shrink go through the resizer with the agent's own claim, which the ledger only grants
 * when no reservation names the PF (docs/adr/0003 §3).
 */
import { assignVfStates } from '../core/vf-states.js';
import { planWarmPool, type WarmAction, type WarmPf, type WarmPoolPolicy } from '../core/warm-pool.js';
import { AGENT_CLAIM_OWNER } from '../ports/ledger.js';
import type { AgentContext } from './agent-context.js';
import type { Resizer, StepOutcome } from './resizer.js';

export class WarmPoolService {
  constructor(
    private readonly ctx: AgentContext,
    private readonly resizer: Resizer,
    /** The warm pool in force now (configuration or RdmaNodePolicy). */
    private readonly policy: () => WarmPoolPolicy,
  ) {}

  /** True when the policy can never ask for anything (no minimum, no maximum): ticks are free. */
  get idle(): boolean {
    const p = this.policy();
    return (
      p.minReady.ib === 0 &&
      p.minReady.roce === 0 &&
      p.maxReady.ib === undefined &&
      p.maxReady.roce === undefined
    );
  }

  /** Plans and applies at most one action; returns it (undefined: nothing to do). */
  async tick(): Promise<{ action: WarmAction; outcome: StepOutcome } | undefined> {
    const { ctx } = this;
    const snap = await ctx.view.refresh();
    if (!snap.ledgerOk) return undefined; // never resize on a stale view of the ledger
    const pfs: WarmPf[] = [];
    for (const p of snap.discovery.pfs) {
      const reserved = snap.holds.reserved.get(p.pciAddress) ?? 0;
      const { states, inUseCount } = assignVfStates({
        pf: p.pciAddress,
        vfs: p.vfs,
        reservedCount: reserved,
        inUse: snap.inUse,
        reservations: snap.reservations,
      });
      const freeReady = p.vfs.filter(
        (v) => v.configured && states.get(v.pciAddress)?.state === 'free',
      ).length;
      pfs.push({
        pciAddress: p.pciAddress,
        linkType: p.linkType,
        resizable: p.sriov !== null && p.netdev !== null && ctx.limits.managed(p.pciAddress),
        numVfs: p.sriov?.numVfs ?? 0,
        maxVfs: p.sriov === null ? 0 : Math.min(p.sriov.totalVfs, ctx.limits.maxVfs(p.pciAddress)),
        freeReady,
        unconfiguredFree: p.vfs.filter((v) => !v.configured && !snap.inUse.has(v.pciAddress)).length,
        held: reserved > 0 || inUseCount > 0 || snap.holds.claims.has(p.pciAddress),
      });
    }
    const action = planWarmPool(pfs, this.policy());
    if (action === undefined) return undefined;
    const started = ctx.clock.nowMs();
    let outcome: StepOutcome;
    if (action.kind === 'configure') {
      outcome = await this.resizer.configureAll(action.pf);
    } else {
      if (action.kind === 'grow' && (await ctx.host.eswitchMode(action.pf)) !== 'legacy') return undefined;
      outcome = await this.resizer.resize({
        pf: action.pf,
        owner: AGENT_CLAIM_OWNER,
        targetVfs: action.kind === 'grow' ? action.targetVfs : 0,
        requestId: null,
        minReadyVfs: 0,
      });
    }
    ctx.metrics.provisionDuration.observe(
      { reason: `warm-pool-${action.kind}`, status: outcome.ok ? 'ready' : 'failed' },
      (ctx.clock.nowMs() - started) / 1000,
    );
    if (!outcome.ok) {
      ctx.metrics.failure(outcome.code);
      ctx.pfErrors.set(action.pf, `${outcome.code}: ${outcome.message}`);
    } else ctx.pfErrors.delete(action.pf);
    ctx.logger.info(
      { action, ok: outcome.ok, ...(outcome.ok ? {} : { code: outcome.code, reason: outcome.message }) },
      'warm pool',
    );
    return { action, outcome };
  }
}

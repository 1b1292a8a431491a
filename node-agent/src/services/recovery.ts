/**
 * Start-up convergence (docs/adr/0003 §5): from the host, the notes and the ledger, finish an
 * interrupted resize, release claims nobody needs, and reconcile the GUID pool with the VFs that
 * exist. Idempotent; safe to run again after any failure.
 */
import type { Reservation } from '@rdmasched/contracts';
import { macFromIdentity } from '../core/identity.js';
import { AGENT_CLAIM_OWNER } from '../ports/ledger.js';
import type { AgentContext } from './agent-context.js';
import type { Resizer } from './resizer.js';

export interface RecoveryReport {
  readonly resumed: string | null;
  readonly releasedClaims: readonly string[];
  readonly releasedIdentities: number;
  readonly reconfigured: readonly string[];
}

export async function recover(ctx: AgentContext, resizer: Resizer): Promise<RecoveryReport> {
  const malformed = (await ctx.notes.load()).malformed;
  if (malformed !== undefined)
    ctx.logger.warn({ reason: malformed }, 'agent notes unreadable; converging from host and ledger');
  let snap = await ctx.view.refresh();
  if (!snap.ledgerOk) throw new Error('the reservation ledger is unreachable');
  // 1. An interrupted resize: take the claim again (idempotent) and converge to its target.
  const op = ctx.notes.state.op;
  let resumed: string | null = null;
  if (op !== null) {
    const c = await ctx.ledger.takeClaim(ctx.nodeName, op.pf, op.owner);
    if (c.ok) {
      ctx.claimed.add(op.pf);
      if (ctx.usage.tryLockPf(op.pf)) {
        ctx.resizing.add(op.pf);
        ctx.logger.info(
          { pf: op.pf, step: op.step, targetVfs: op.targetVfs },
          'finishing an interrupted resize',
        );
        const out = await resizer.converge(op.pf, op.targetVfs);
        if (!out.ok)
          ctx.logger.warn(
            { pf: op.pf, code: out.code, reason: out.message },
            'interrupted resize not finished',
          );
        resumed = op.pf;
      } else {
        // Refused while a VF of the PF is in use, or while the device plugin has not yet confirmed
        // with the kubelet which VFs are (after a restart that takes its release grace period).
        // The host is left as it is, and reported as it is: VFs not fully configured are not
        // ready, and the planner converges the PF when it is next needed.
        ctx.logger.warn(
          { pf: op.pf },
          'the PF cannot be locked (a VF is in use, or usage is not confirmed yet); the interrupted resize is abandoned',
        );
      }
      await resizer.release(op.pf, op.owner);
    } else {
      ctx.logger.warn(
        { pf: op.pf, reason: c.detail },
        'claim of the interrupted resize is gone; note cleared',
      );
      await ctx.notes.clearOp();
    }
    snap = await ctx.view.refresh();
  }
  // 2. Claims nobody needs: the agent's own (no resize in flight now), and pods' whose reservation is gone.
  const releasedClaims: string[] = [];
  const podOwners = [...snap.holds.claims.values()].filter((o) => o !== AGENT_CLAIM_OWNER);
  const reservations =
    podOwners.length === 0 ? new Map<string, Reservation>() : await ctx.ledger.reservations(podOwners);
  for (const [pf, owner] of snap.holds.claims) {
    const r = reservations.get(owner);
    const needed =
      owner !== AGENT_CLAIM_OWNER &&
      r !== undefined &&
      r.node === ctx.nodeName &&
      r.pfs.some((p) => p.pfPciAddress === pf);
    if (!needed && (await ctx.ledger.releaseClaim(ctx.nodeName, pf, owner))) {
      releasedClaims.push(pf);
      ctx.claimed.delete(pf);
    }
  }
  // 3. GUID pool <-> host: release identities of VFs that are gone, adopt the ones found on VFs,
  //    and give VFs whose identity conflicts a fresh one (when nobody uses them).
  const releasedIdentities = await resizer.releaseGoneIdentities();
  const held = await ctx.pool.ofNode(ctx.nodeName);
  const reconfigure = new Set<string>();
  for (const pf of snap.discovery.pfs) {
    for (const vf of pf.vfs) {
      if (!vf.configured || snap.inUse.has(vf.pciAddress)) continue;
      const mine = held.get(vf.pciAddress);
      if (pf.linkType === 'ib' && vf.guid !== null) {
        if (mine === vf.guid) continue;
        if (mine === undefined && (await ctx.pool.adopt(ctx.nodeName, vf.pciAddress, vf.guid)) !== 'conflict')
          continue;
        reconfigure.add(pf.pciAddress);
      } else if (pf.linkType === 'roce' && (mine === undefined || macFromIdentity(mine) !== vf.mac)) {
        reconfigure.add(pf.pciAddress);
      }
    }
  }
  const reconfigured: string[] = [];
  for (const pfAddr of reconfigure) {
    const pf = ctx.view.pf(pfAddr);
    if (pf === undefined) continue;
    for (const vf of pf.vfs) {
      if (snap.inUse.has(vf.pciAddress) || !vf.configured) continue;
      const mine = (await ctx.pool.ofNode(ctx.nodeName)).get(vf.pciAddress);
      const ok =
        pf.linkType === 'ib' ? mine === vf.guid : mine !== undefined && macFromIdentity(mine) === vf.mac;
      if (ok) continue;
      const r = await ctx.configurator.configure(pf, vf);
      if (r.ok) reconfigured.push(vf.pciAddress);
      else
        ctx.logger.warn(
          { vf: vf.pciAddress, code: r.code, reason: r.message },
          'could not give a VF its own identity',
        );
    }
  }
  await ctx.view.refresh();
  return { resumed, releasedClaims, releasedIdentities, reconfigured };
}

/**
 * The MTU of VF netdevs, from the RdmaNodePolicy that governs their PF (`spec.mtu`), set with
 * `ip link set dev <vf> mtu N` through the guarded host: only VFs of managed PFs that nobody uses
 * (a VF in a pod's network namespace has no netdev here anyway). The kernel's refusal (a value the
 * port cannot take) is recorded for the policy status and not tried again for that VF and value.
 * A VF's MTU goes back to the driver default when it is rebound, so this runs after configuring VFs
 * and on the warm-pool interval.
 */
import type { AgentContext } from './agent-context.js';

/** Sets the policy MTU on the VFs of `onlyPfs` (all PFs when absent); returns how many changed. */
export async function applyVfMtu(ctx: AgentContext, onlyPfs?: ReadonlySet<string>): Promise<number> {
  const d = ctx.view.discovery;
  if (d === undefined) return 0;
  let changed = 0;
  for (const pf of d.pfs) {
    if (onlyPfs !== undefined && !onlyPfs.has(pf.pciAddress)) continue;
    const s = ctx.limits.pf(pf.pciAddress);
    if (s?.managed !== true || s.mtu === null) continue;
    for (const vf of pf.vfs) {
      if (vf.netdev === null || vf.mtu === null || vf.mtu === s.mtu || ctx.usage.inUse().has(vf.pciAddress))
        continue;
      const key = `${vf.pciAddress}/${vf.netdev}/${s.mtu}`;
      if (ctx.mtuRefused.has(key)) continue;
      const r = await ctx.host.setMtu(vf.netdev, s.mtu);
      ctx.metrics.hostWrites.inc({ result: r.ok ? 'ok' : 'error' });
      if (r.ok) {
        changed++;
        continue;
      }
      ctx.mtuRefused.add(key);
      // The first VF refused names the problem; the others refuse the same value.
      if (ctx.pfErrors.get(mtuErrorKey(pf.pciAddress))?.startsWith(`MTU_REFUSED: MTU ${s.mtu} `) !== true)
        ctx.pfErrors.set(
          mtuErrorKey(pf.pciAddress),
          `MTU_REFUSED: MTU ${s.mtu} on ${vf.netdev} (${vf.pciAddress}): ${r.errno} ${r.message}`,
        );
      ctx.logger.warn({ pf: pf.pciAddress, vf: vf.pciAddress, mtu: s.mtu, errno: r.errno }, 'VF MTU refused');
    }
    // The error stands while a VF of the PF refuses the policy's current MTU.
    const mtu = s.mtu;
    if (!pf.vfs.some((v) => ctx.mtuRefused.has(`${v.pciAddress}/${v.netdev ?? ''}/${mtu}`)))
      ctx.pfErrors.delete(mtuErrorKey(pf.pciAddress));
  }
  return changed;
}

/** MTU refusals are kept apart from provisioning errors of the same PF (both show in the status). */
export const mtuErrorKey = (pf: string): string => `${pf}#mtu`;

/** True when some managed PF has a policy MTU (otherwise there is nothing to do, not even a read). */
export function wantsMtu(ctx: AgentContext): boolean {
  for (const s of ctx.limits.current.pfs.values()) if (s.managed && s.mtu !== null) return true;
  return false;
}

import type { Reservation } from '@rdmasched/contracts';
import {
  AGENT_CLAIM_OWNER,
  type AgentLedger,
  type ClaimOutcome,
  type NodeHolds,
} from '../../ports/ledger.js';

/**
 * The ledger in memory, with the Redis ledger's contract. `reserve`/`unreserve` play the
 * extender's bind script in tests (ADR 0003 §2): a PF with a claim takes no reservation.
 */
export class InMemoryLedger implements AgentLedger {
  readonly records = new Map<string, Reservation>();
  readonly reserved = new Map<string, Map<string, number>>();
  readonly claims = new Map<string, Map<string, string>>();

  #of<T>(m: Map<string, Map<string, T>>, node: string): Map<string, T> {
    let x = m.get(node);
    if (x === undefined) m.set(node, (x = new Map<string, T>()));
    return x;
  }

  holds(node: string): Promise<NodeHolds> {
    return Promise.resolve({
      reserved: new Map(this.#of(this.reserved, node)),
      claims: new Map(this.#of(this.claims, node)),
    });
  }

  reservations(podUids: readonly string[]): Promise<ReadonlyMap<string, Reservation>> {
    const out = new Map<string, Reservation>();
    for (const u of podUids) {
      const r = this.records.get(u);
      if (r !== undefined) out.set(u, r);
    }
    return Promise.resolve(out);
  }

  takeClaim(node: string, pf: string, owner: string): Promise<ClaimOutcome> {
    const claims = this.#of(this.claims, node);
    const cur = claims.get(pf);
    if (cur !== undefined && cur !== owner)
      return Promise.resolve({ ok: false, reason: 'CLAIMED', detail: `claimed by ${cur}` });
    let own = 0;
    if (owner !== AGENT_CLAIM_OWNER) {
      const r = this.records.get(owner);
      own =
        r === undefined || r.node !== node
          ? 0
          : r.pfs.filter((p) => p.pfPciAddress === pf).reduce((s, p) => s + p.count, 0);
      if (own === 0)
        return Promise.resolve({
          ok: false,
          reason: 'NO_RESERVATION',
          detail: `pod ${owner} has no reservation on ${pf}`,
        });
    }
    const reserved = this.#of(this.reserved, node).get(pf) ?? 0;
    if (reserved > own)
      return Promise.resolve({ ok: false, reason: 'HELD', detail: `${reserved} VFs reserved on ${pf}` });
    claims.set(pf, owner);
    return Promise.resolve({ ok: true });
  }

  releaseClaim(node: string, pf: string, owner: string): Promise<boolean> {
    const claims = this.#of(this.claims, node);
    if (claims.get(pf) !== owner) return Promise.resolve(false);
    claims.delete(pf);
    return Promise.resolve(true);
  }

  // ---- the extender's side, for tests and the in-process simulation ----

  /** Records a reservation (and optionally a claim for its pod), as the bind script would. */
  reserve(r: Reservation, claimPf?: string): void {
    this.records.set(r.podUid, r);
    const reserved = this.#of(this.reserved, r.node);
    for (const p of r.pfs) reserved.set(p.pfPciAddress, (reserved.get(p.pfPciAddress) ?? 0) + p.count);
    if (claimPf !== undefined) this.#of(this.claims, r.node).set(claimPf, r.podUid);
  }

  /** Releases a reservation (pod ended). */
  unreserve(podUid: string): void {
    const r = this.records.get(podUid);
    if (r === undefined) return;
    this.records.delete(podUid);
    const reserved = this.#of(this.reserved, r.node);
    for (const p of r.pfs) {
      const left = (reserved.get(p.pfPciAddress) ?? 0) - p.count;
      if (left > 0) reserved.set(p.pfPciAddress, left);
      else reserved.delete(p.pfPciAddress);
    }
  }
}

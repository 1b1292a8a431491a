import type { LedgerEvent, Reservation } from '@rdmasched/contracts';
import {
  AGENT_CLAIM_OWNER,
  type AgentLedger,
  type ClaimOutcome,
  type NodeHolds,
} from '../../ports/ledger.js';

/**
 * The ledger in memory, with the Redis ledger's contract. `reserve`/`bind`/`unreserve` play the
 * extender's bind and release scripts in tests and the in-process simulation (ADR 0003 §2): a PF
 * with a claim takes no reservation. Every change is told to the `onEvent` listeners as the
 * LedgerEvent the Redis scripts append to the ledger stream, synchronously and in order, so an
 * in-memory mirror (the simulation's extender) follows it exactly as one following the stream.
 */
export class InMemoryLedger implements AgentLedger {
  readonly records = new Map<string, Reservation>();
  readonly reserved = new Map<string, Map<string, number>>();
  readonly claims = new Map<string, Map<string, string>>();
  readonly #listeners = new Set<(e: LedgerEvent) => void>();
  readonly #nowMs: () => number;

  constructor(opts: { readonly nowMs?: () => number } = {}) {
    this.#nowMs = opts.nowMs ?? Date.now;
  }

  /** Called with every ledger event, in order; returns the unsubscribe function. */
  onEvent(listener: (e: LedgerEvent) => void): () => void {
    this.#listeners.add(listener);
    return () => this.#listeners.delete(listener);
  }

  #emit(e: LedgerEvent): void {
    for (const l of [...this.#listeners]) l(e);
  }

  #atMs(): number {
    return Math.max(0, Math.floor(this.#nowMs()));
  }

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

  reservationsOfNode(node: string): Promise<readonly Reservation[]> {
    return Promise.resolve([...this.records.values()].filter((r) => r.node === node));
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
    if (cur !== owner) {
      claims.set(pf, owner);
      this.#emit({ type: 'claimed', node, pf, owner, atMs: this.#atMs() });
    }
    return Promise.resolve({ ok: true });
  }

  releaseClaim(node: string, pf: string, owner: string): Promise<boolean> {
    const claims = this.#of(this.claims, node);
    if (claims.get(pf) !== owner) return Promise.resolve(false);
    claims.delete(pf);
    this.#emit({ type: 'claim-released', node, pf, owner, atMs: this.#atMs() });
    return Promise.resolve(true);
  }

  // ---- the extender's side, for tests and the in-process simulation ----

  /**
   * Records a reservation (and optionally a resize claim for its pod on `claimPf`), as the bind
   * script would; appends `reserved`, whose `claims` names the claim it took.
   */
  reserve(r: Reservation, claimPf?: string): void {
    this.records.set(r.podUid, r);
    const reserved = this.#of(this.reserved, r.node);
    for (const p of r.pfs) reserved.set(p.pfPciAddress, (reserved.get(p.pfPciAddress) ?? 0) + p.count);
    const atMs = this.#atMs();
    if (claimPf !== undefined) this.#of(this.claims, r.node).set(claimPf, r.podUid);
    this.#emit({
      type: 'reserved',
      podUid: r.podUid,
      node: r.node,
      tenant: r.tenant,
      pfs: r.pfs.map((p) => ({ ...p })),
      claims: claimPf === undefined ? [] : [claimPf],
      atMs,
    });
  }

  /** The reservation's Binding was created (pending -> bound); appends `bound`. */
  bind(podUid: string): boolean {
    const r = this.records.get(podUid);
    if (r === undefined) return false;
    this.records.set(podUid, { ...r, state: 'bound' });
    this.#emit({ type: 'bound', podUid, node: r.node, atMs: this.#atMs() });
    return true;
  }

  /** Releases a reservation (pod ended); appends `released`. Idempotent. */
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
    this.#emit({
      type: 'released',
      podUid,
      node: r.node,
      tenant: r.tenant,
      pfs: r.pfs.map((p) => ({ ...p })),
      atMs: this.#atMs(),
    });
  }
}

/**
 * The reservation ledger in process memory, with the Redis ledger's contract (ports/ledger.ts):
 * for tests, the embedded extender and the one-machine simulation. The rules are the pure
 * `checkReservation` the Lua script mirrors; every change is told to `onEvent` listeners as the
 * `LedgerEvent` the Redis scripts append, synchronously and in order, so a `LedgerMirror` fed from
 * it behaves as one following the Redis stream.
 *
 * It also offers the node agent's side (the same method names and shapes as the agent's
 * `AgentLedger` port: holds, reservations, reservationsOfNode, takeClaim, releaseClaim), so an
 * in-process agent and the extender can share one ledger. Capacity summaries come from
 * `setCapacity` (what the agent writes with each report) or from a `capacity` callback.
 */
import type { LedgerEvent, PfCapacity, Reservation } from '@rdmasched/contracts';
import {
  checkGpus,
  checkReservation,
  countsByLinkType,
  mergePfs,
  pendingProvisioning,
} from '../../core/reserve-rules.js';
import type { LedgerPfState } from '../../core/reserve-rules.js';
import type { LedgerMirror } from '../../core/ledger-mirror.js';
import type {
  Ledger,
  ProvisionNeed,
  ReleaseOptions,
  ReserveOutcome,
  TenantQuota,
} from '../../ports/ledger.js';

/** The agent's claim owner for its own warm-pool work (node-agent AGENT_CLAIM_OWNER). */
export const AGENT_OWNER = 'agent';

export type InMemoryClaimOutcome =
  | { readonly ok: true }
  | { readonly ok: false; readonly reason: 'CLAIMED' | 'HELD' | 'NO_RESERVATION'; readonly detail: string };

export interface InMemoryLedgerOptions {
  readonly nowMs?: () => number;
  /** Capacity summaries of a node (instead of `setCapacity`), e.g. from an in-memory report store. */
  readonly capacity?: (node: string) => ReadonlyMap<string, PfCapacity> | undefined;
}

export class InMemoryLedger implements Ledger {
  private readonly records = new Map<string, Reservation>();
  private readonly reservedCounts = new Map<string, Map<string, number>>();
  private readonly claimOwners = new Map<string, Map<string, string>>();
  /** Per node: GPU PCI address -> pod UID of the reservation that promised it (docs/adr/0073). */
  private readonly gpuOwners = new Map<string, Map<string, string>>();
  private readonly capacities = new Map<string, Map<string, PfCapacity>>();
  private readonly usage = new Map<string, { ib: number; roce: number }>();
  private readonly listeners = new Set<(e: LedgerEvent) => void>();
  private readonly nowMs: () => number;
  private readonly capacityOf: ((node: string) => ReadonlyMap<string, PfCapacity> | undefined) | undefined;

  constructor(opts: InMemoryLedgerOptions = {}) {
    this.nowMs = opts.nowMs ?? Date.now;
    this.capacityOf = opts.capacity;
  }

  /** Called with every ledger event, in order; returns the unsubscribe function. */
  onEvent(listener: (e: LedgerEvent) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  /**
   * Loads `mirror` with the ledger as it is, then keeps it current from the events, as a replica
   * following the Redis stream does. Returns the function that stops following.
   */
  attach(mirror: LedgerMirror): () => void {
    mirror.replaceAll(
      [...this.records.values()].map((r) => ({
        podUid: r.podUid,
        node: r.node,
        tenant: r.tenant,
        pfs: r.pfs,
        gpus: r.gpus,
        state: r.state,
        namespace: r.namespace,
        podName: r.podName,
      })),
      this.claimOwners,
    );
    return this.onEvent((e) => mirror.apply(e));
  }

  private emit(e: LedgerEvent): void {
    for (const l of [...this.listeners]) l(e);
  }

  private at(): number {
    return Math.max(0, Math.floor(this.nowMs()));
  }

  private of<T>(m: Map<string, Map<string, T>>, node: string): Map<string, T> {
    let x = m.get(node);
    if (x === undefined) m.set(node, (x = new Map<string, T>()));
    return x;
  }

  /** What the agent writes with each report: the node's per-PF summaries (replacing the old ones). */
  setCapacity(node: string, capacity: ReadonlyMap<string, PfCapacity>): void {
    this.capacities.set(node, new Map(capacity));
  }

  private pfState(node: string): (pf: string) => LedgerPfState {
    const caps = this.capacityOf?.(node) ?? this.capacities.get(node);
    const reserved = this.reservedCounts.get(node);
    const claims = this.claimOwners.get(node);
    return (pf) => ({
      reserved: reserved?.get(pf) ?? 0,
      capacity: caps?.get(pf),
      claim: claims?.get(pf),
    });
  }

  /** Tenant usage per link type, as the Redis `tenant:<t>:usage` hash holds it. */
  tenantUsage(tenant: string): { ib: number; roce: number } {
    return { ...(this.usage.get(tenant) ?? { ib: 0, roce: 0 }) };
  }

  /** Per-PF reserved counts of a node, as the Redis `node:<n>:reserved` hash holds them. */
  reservedOn(node: string): ReadonlyMap<string, number> {
    return new Map(this.reservedCounts.get(node) ?? []);
  }

  reserve(
    reservation: Reservation,
    quota: TenantQuota,
    opts: { record?: boolean } = {},
  ): Promise<ReserveOutcome> {
    const existing = this.records.get(reservation.podUid);
    if (existing !== undefined) {
      if (existing.node !== reservation.node)
        return Promise.resolve({ kind: 'elsewhere', reservation: existing });
      return Promise.resolve({
        kind: 'exists',
        reservation: existing,
        provision: pendingProvisioning(existing.pfs, this.pfState(existing.node)),
      });
    }
    const pfs = mergePfs(reservation.pfs);
    const record = opts.record === true;
    let claims: readonly string[] = [];
    let provision: readonly ProvisionNeed[] = [];
    if (!record) {
      const usage = this.tenantUsage(reservation.tenant);
      const check = checkReservation({
        pfs,
        usage: reservation.tenant === '' ? { ib: 0, roce: 0 } : usage,
        quota,
        pf: this.pfState(reservation.node),
      });
      if (!check.ok) return Promise.resolve({ kind: 'rejected', code: check.code, message: check.message });
      const gpus = checkGpus(reservation.gpus, (g) =>
        this.liveGpuOwner(reservation.node, g, reservation.podUid),
      );
      if (!gpus.ok)
        return Promise.resolve({ kind: 'rejected', code: gpus.code, message: gpus.message, gpu: gpus.gpu });
      claims = check.claims;
      provision = check.provision;
    }
    const stored: Reservation = { ...reservation, pfs, state: record ? 'bound' : 'pending' };
    this.records.set(stored.podUid, stored);
    const counts = this.of(this.reservedCounts, stored.node);
    for (const p of pfs) counts.set(p.pfPciAddress, (counts.get(p.pfPciAddress) ?? 0) + p.count);
    if (stored.tenant !== '') {
      const u = this.usage.get(stored.tenant) ?? { ib: 0, roce: 0 };
      const add = countsByLinkType(pfs);
      this.usage.set(stored.tenant, { ib: u.ib + add.ib, roce: u.roce + add.roce });
    }
    const owners = this.of(this.claimOwners, stored.node);
    for (const pf of claims) owners.set(pf, stored.podUid);
    const gpuOwners = this.of(this.gpuOwners, stored.node);
    for (const g of stored.gpus)
      if (this.liveGpuOwner(stored.node, g, stored.podUid) === undefined) gpuOwners.set(g, stored.podUid);
    const atMs = this.at();
    this.emit({
      type: 'reserved',
      podUid: stored.podUid,
      node: stored.node,
      tenant: stored.tenant,
      pfs: pfs.map((p) => ({ ...p })),
      claims: [...claims],
      gpus: [...stored.gpus],
      atMs,
    });
    if (record) this.emit({ type: 'bound', podUid: stored.podUid, node: stored.node, atMs });
    return Promise.resolve({ kind: 'reserved', reservation: stored, claims, provision });
  }

  markBound(reservation: Reservation): Promise<boolean> {
    const cur = this.records.get(reservation.podUid);
    if (cur === undefined) return Promise.resolve(false);
    const same =
      JSON.stringify({ ...cur, state: 'pending' }) === JSON.stringify({ ...reservation, state: 'pending' });
    if (!same) return Promise.resolve(false);
    if (cur.state === 'bound') return Promise.resolve(true);
    this.records.set(cur.podUid, { ...cur, state: 'bound' });
    this.emit({ type: 'bound', podUid: cur.podUid, node: cur.node, atMs: this.at() });
    return Promise.resolve(true);
  }

  release(podUid: string, opts: ReleaseOptions = {}): Promise<Reservation | undefined> {
    const r = this.records.get(podUid);
    if (r === undefined) return Promise.resolve(undefined);
    if (opts.node !== undefined && r.node !== opts.node) return Promise.resolve(undefined);
    if (opts.expiredAtMs !== undefined && (r.state !== 'pending' || r.expiresAtMs > opts.expiredAtMs))
      return Promise.resolve(undefined);
    this.records.delete(podUid);
    const gpuOwners = this.gpuOwners.get(r.node);
    for (const g of r.gpus) if (gpuOwners?.get(g) === podUid) gpuOwners.delete(g);
    const counts = this.of(this.reservedCounts, r.node);
    for (const p of r.pfs) {
      const left = (counts.get(p.pfPciAddress) ?? 0) - p.count;
      if (left > 0) counts.set(p.pfPciAddress, left);
      else counts.delete(p.pfPciAddress);
    }
    if (r.tenant !== '') {
      const u = this.usage.get(r.tenant) ?? { ib: 0, roce: 0 };
      const sub = countsByLinkType(r.pfs);
      const next = { ib: Math.max(0, u.ib - sub.ib), roce: Math.max(0, u.roce - sub.roce) };
      if (next.ib === 0 && next.roce === 0) this.usage.delete(r.tenant);
      else this.usage.set(r.tenant, next);
    }
    this.emit({
      type: 'released',
      podUid,
      node: r.node,
      tenant: r.tenant,
      pfs: r.pfs.map((p) => ({ ...p })),
      atMs: this.at(),
    });
    return Promise.resolve(r);
  }

  get(podUid: string): Promise<Reservation | undefined> {
    return Promise.resolve(this.records.get(podUid));
  }

  list(): Promise<Reservation[]> {
    return Promise.resolve([...this.records.values()]);
  }

  expiredPending(nowMs: number, limit: number): Promise<string[]> {
    const out = [...this.records.values()]
      .filter((r) => r.state === 'pending' && r.expiresAtMs <= nowMs)
      .sort((a, b) => a.expiresAtMs - b.expiresAtMs)
      .slice(0, limit)
      .map((r) => r.podUid);
    return Promise.resolve(out);
  }

  claims(node: string): Promise<ReadonlyMap<string, string>> {
    return Promise.resolve(new Map(this.claimOwners.get(node) ?? []));
  }

  gpuPromises(node: string): Promise<ReadonlyMap<string, string>> {
    return Promise.resolve(new Map(this.gpuOwners.get(node) ?? []));
  }

  pruneGpuPromises(nodes: readonly string[]): Promise<number> {
    let removed = 0;
    for (const node of nodes) {
      const owners = this.gpuOwners.get(node);
      for (const [g, owner] of owners ?? []) {
        if (this.records.get(owner)?.node === node) continue;
        owners?.delete(g);
        removed++;
      }
    }
    return Promise.resolve(removed);
  }

  /**
   * Test hook standing in for a promise an older release left behind: sets the GPU's owner
   * without a reservation (the Redis tests write the hash directly).
   */
  setGpuPromise(node: string, gpu: string, owner: string): void {
    this.of(this.gpuOwners, node).set(gpu, owner);
  }

  /** The pod other than `self` whose live reservation on the node holds the GPU's promise. */
  private liveGpuOwner(node: string, gpu: string, self: string): string | undefined {
    const owner = this.gpuOwners.get(node)?.get(gpu);
    if (owner === undefined || owner === self) return undefined;
    return this.records.get(owner)?.node === node ? owner : undefined;
  }

  // ---- the agent's side (node-agent AgentLedger shapes) ----

  holds(
    node: string,
  ): Promise<{ reserved: ReadonlyMap<string, number>; claims: ReadonlyMap<string, string> }> {
    return Promise.resolve({
      reserved: new Map(this.reservedCounts.get(node) ?? []),
      claims: new Map(this.claimOwners.get(node) ?? []),
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

  /** The agent's claim script: see the node agent's AgentLedger.takeClaim. */
  takeClaim(node: string, pf: string, owner: string): Promise<InMemoryClaimOutcome> {
    const claims = this.of(this.claimOwners, node);
    const cur = claims.get(pf);
    if (cur !== undefined && cur !== owner)
      return Promise.resolve({ ok: false, reason: 'CLAIMED', detail: `resize claim held by ${cur}` });
    let own = 0;
    if (owner !== AGENT_OWNER) {
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
    const reserved = this.reservedCounts.get(node)?.get(pf) ?? 0;
    if (reserved > own)
      return Promise.resolve({ ok: false, reason: 'HELD', detail: `${reserved} VFs reserved on ${pf}` });
    if (cur !== owner) {
      claims.set(pf, owner);
      this.emit({ type: 'claimed', node, pf, owner, atMs: this.at() });
    }
    return Promise.resolve({ ok: true });
  }

  releaseClaim(node: string, pf: string, owner: string): Promise<boolean> {
    const claims = this.of(this.claimOwners, node);
    if (claims.get(pf) !== owner) return Promise.resolve(false);
    claims.delete(pf);
    this.emit({ type: 'claim-released', node, pf, owner, atMs: this.at() });
    return Promise.resolve(true);
  }
}

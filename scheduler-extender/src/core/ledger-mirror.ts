/**
 * The reservation ledger, mirrored in memory from its event stream (`LedgerEvent`, contracts):
 * every replica holds one, so filter and prioritize see every replica's reservations and the
 * agents' resize claims without a Redis call (the `ReservationView` port), and bind, preempt,
 * the tenant filter and the status writer read tenant usage from it.
 *
 * Applying an event is idempotent and order-preserving: replaying events that a full load already
 * contains converges on the same state (a reservation is keyed by pod UID; `reserved` replaces,
 * `released` removes, claims are set or removed by owner). Pure: no I/O, no clock. Adapters load
 * it (`replaceAll`) and feed it (`apply`): adapters/redis/redis-ledger-mirror.ts, and the
 * in-memory ledger's listener.
 */
import type { LedgerEvent, ReservedPf } from '@rdmasched/contracts';
import type { NodeReservations, ReservationView } from '../ports/reservation-view.js';

export interface MirroredReservation {
  readonly podUid: string;
  readonly node: string;
  readonly tenant: string;
  readonly pfs: readonly ReservedPf[];
  /** GPUs the reservation aligned its VFs with (empty when it names none). */
  readonly gpus?: readonly string[];
  state: 'pending' | 'bound';
  /** Known after a full load (records carry them); events do not. */
  readonly namespace?: string;
  readonly podName?: string;
}

export interface TenantUsage {
  readonly ib: number;
  readonly roce: number;
  /** Pods of the tenant holding a reservation. */
  readonly pods: number;
}

interface MutableNode {
  readonly reservedByPf: Map<string, number>;
  readonly resizeClaims: Map<string, string>;
  readonly podUids: Set<string>;
  readonly reservedGpus: Map<string, readonly string[]>;
  readonly releasedGpus: Map<string, readonly string[]>;
}

/**
 * Released reservations whose GPUs a node keeps (NodeReservations.releasedGpus): enough for the
 * pods that end on one node within one report's lag; older ones are dropped, which only makes the
 * capacity model trust the (lagging) report again.
 */
export const RELEASED_GPUS_KEPT = 32;

interface MutableUsage {
  ib: number;
  roce: number;
  pods: number;
}

const EMPTY_NODE: NodeReservations = Object.freeze({
  reservedByPf: new Map<string, number>(),
  resizeClaims: new Map<string, string>(),
  podUids: new Set<string>(),
  reservedGpus: new Map<string, readonly string[]>(),
  releasedGpus: new Map<string, readonly string[]>(),
});

export const NO_USAGE: TenantUsage = Object.freeze({ ib: 0, roce: 0, pods: 0 });

export interface LedgerChangeListener {
  /** A node's reservations or claims changed. */
  onNode?(node: string): void;
  /** A tenant's usage changed. */
  onTenant?(tenant: string): void;
}

export class LedgerMirror implements ReservationView {
  private readonly byUid = new Map<string, MirroredReservation>();
  private readonly nodes = new Map<string, MutableNode>();
  private readonly usage = new Map<string, MutableUsage>();
  private readonly nodeListeners = new Set<(node: string) => void>();
  private readonly listeners = new Set<LedgerChangeListener>();
  private isLoaded = false;
  private eventCount = 0;

  /** True once a full load was applied; the extender is ready only then. */
  get loaded(): boolean {
    return this.isLoaded;
  }

  /** Events applied since start (diagnostics). */
  get applied(): number {
    return this.eventCount;
  }

  get size(): number {
    return this.byUid.size;
  }

  /** Never undefined: the ledger is authoritative once mirrored, even for a node it holds nothing for. */
  forNode(node: string): NodeReservations {
    return this.nodes.get(node) ?? EMPTY_NODE;
  }

  onChange(listener: (node: string) => void): () => void {
    this.nodeListeners.add(listener);
    return () => this.nodeListeners.delete(listener);
  }

  addListener(listener: LedgerChangeListener): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  reservation(podUid: string): MirroredReservation | undefined {
    return this.byUid.get(podUid);
  }

  reservations(): IterableIterator<MirroredReservation> {
    return this.byUid.values();
  }

  tenantUsage(tenant: string): TenantUsage {
    return this.usage.get(tenant) ?? NO_USAGE;
  }

  tenants(): IterableIterator<string> {
    return this.usage.keys();
  }

  /** Nodes that have (or had) reservations or claims. */
  nodeNames(): IterableIterator<string> {
    return this.nodes.keys();
  }

  private node(name: string): MutableNode {
    let n = this.nodes.get(name);
    if (n === undefined) {
      n = {
        reservedByPf: new Map(),
        resizeClaims: new Map(),
        podUids: new Set(),
        reservedGpus: new Map(),
        releasedGpus: new Map(),
      };
      this.nodes.set(name, n);
    }
    return n;
  }

  private tenantEntry(tenant: string): MutableUsage {
    let u = this.usage.get(tenant);
    if (u === undefined) {
      u = { ib: 0, roce: 0, pods: 0 };
      this.usage.set(tenant, u);
    }
    return u;
  }

  private add(r: MirroredReservation): void {
    this.byUid.set(r.podUid, r);
    const n = this.node(r.node);
    n.podUids.add(r.podUid);
    if (r.gpus !== undefined && r.gpus.length > 0) n.reservedGpus.set(r.podUid, r.gpus);
    n.releasedGpus.delete(r.podUid);
    const u = this.tenantEntry(r.tenant);
    u.pods++;
    for (const p of r.pfs) {
      n.reservedByPf.set(p.pfPciAddress, (n.reservedByPf.get(p.pfPciAddress) ?? 0) + p.count);
      u[p.linkType] += p.count;
    }
  }

  private remove(r: MirroredReservation): void {
    this.byUid.delete(r.podUid);
    const n = this.node(r.node);
    n.podUids.delete(r.podUid);
    n.reservedGpus.delete(r.podUid);
    const u = this.tenantEntry(r.tenant);
    u.pods = Math.max(0, u.pods - 1);
    for (const p of r.pfs) {
      const left = (n.reservedByPf.get(p.pfPciAddress) ?? 0) - p.count;
      if (left > 0) n.reservedByPf.set(p.pfPciAddress, left);
      else n.reservedByPf.delete(p.pfPciAddress);
      u[p.linkType] = Math.max(0, u[p.linkType] - p.count);
    }
    if (u.pods === 0 && u.ib === 0 && u.roce === 0) this.usage.delete(r.tenant);
  }

  private notifyNode(node: string): void {
    for (const l of this.nodeListeners) l(node);
    for (const l of this.listeners) l.onNode?.(node);
  }

  private notifyTenant(tenant: string): void {
    for (const l of this.listeners) l.onTenant?.(tenant);
  }

  /** Applies one event (idempotent, see the file comment). */
  apply(e: LedgerEvent): void {
    this.eventCount++;
    switch (e.type) {
      case 'reserved': {
        const before = this.byUid.get(e.podUid);
        if (before !== undefined) this.remove(before);
        this.add({
          podUid: e.podUid,
          node: e.node,
          tenant: e.tenant,
          pfs: e.pfs,
          gpus: e.gpus ?? [],
          state: 'pending',
        });
        const claims = this.node(e.node).resizeClaims;
        for (const pf of e.claims) claims.set(pf, e.podUid);
        if (before !== undefined && before.node !== e.node) this.notifyNode(before.node);
        this.notifyNode(e.node);
        if (before !== undefined && before.tenant !== e.tenant) this.notifyTenant(before.tenant);
        this.notifyTenant(e.tenant);
        return;
      }
      case 'bound': {
        const r = this.byUid.get(e.podUid);
        if (r !== undefined && r.node === e.node) r.state = 'bound';
        return;
      }
      case 'released': {
        const r = this.byUid.get(e.podUid);
        if (r === undefined || r.node !== e.node) return;
        this.remove(r);
        if (r.gpus !== undefined && r.gpus.length > 0) {
          const kept = this.node(r.node).releasedGpus;
          kept.set(r.podUid, r.gpus);
          for (const oldest of kept.keys()) {
            if (kept.size <= RELEASED_GPUS_KEPT) break;
            kept.delete(oldest);
          }
        }
        this.notifyNode(r.node);
        this.notifyTenant(r.tenant);
        return;
      }
      case 'claimed':
        this.node(e.node).resizeClaims.set(e.pf, e.owner);
        this.notifyNode(e.node);
        return;
      case 'claim-released': {
        const claims = this.node(e.node).resizeClaims;
        if (claims.get(e.pf) !== e.owner) return;
        claims.delete(e.pf);
        this.notifyNode(e.node);
        return;
      }
    }
  }

  /**
   * Replaces everything with a full load (start, or the event stream was trimmed past the last
   * id read). Every node and tenant that had or has state is notified, and the mirror is loaded.
   */
  replaceAll(
    reservations: Iterable<MirroredReservation>,
    claims: ReadonlyMap<string, ReadonlyMap<string, string>>,
  ): void {
    const touchedNodes = new Set(this.nodes.keys());
    const touchedTenants = new Set(this.usage.keys());
    this.byUid.clear();
    this.nodes.clear();
    this.usage.clear();
    for (const r of reservations) {
      const copy = { ...r };
      const before = this.byUid.get(r.podUid);
      if (before !== undefined) this.remove(before);
      this.add(copy);
      touchedNodes.add(r.node);
      touchedTenants.add(r.tenant);
    }
    for (const [node, owners] of claims) {
      if (owners.size === 0) continue;
      const target = this.node(node).resizeClaims;
      for (const [pf, owner] of owners) target.set(pf, owner);
      touchedNodes.add(node);
    }
    this.isLoaded = true;
    for (const n of touchedNodes) this.notifyNode(n);
    for (const t of touchedTenants) this.notifyTenant(t);
  }
}

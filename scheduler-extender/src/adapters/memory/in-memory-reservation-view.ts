/**
 * ReservationView kept in process memory. The extender uses it (empty) until the Redis ledger
 * mirror exists; tests and the simulation use it to reserve and claim PFs. Every change notifies
 * listeners synchronously, as the port requires.
 */
import type { Reservation } from '@rdmasched/contracts';
import type { NodeReservations, ReservationView } from '../../ports/reservation-view.js';

interface MutableNode {
  reservedByPf: Map<string, number>;
  resizeClaims: Map<string, string>;
  podUids: Set<string>;
}

export class InMemoryReservationView implements ReservationView {
  private readonly nodes = new Map<string, MutableNode>();
  private readonly reservations = new Map<string, Reservation>();
  private readonly listeners = new Set<(node: string) => void>();

  forNode(node: string): NodeReservations | undefined {
    return this.nodes.get(node);
  }

  onChange(listener: (node: string) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  private node(name: string): MutableNode {
    let n = this.nodes.get(name);
    if (n === undefined) {
      n = { reservedByPf: new Map(), resizeClaims: new Map(), podUids: new Set() };
      this.nodes.set(name, n);
    }
    return n;
  }

  private changed(node: string): void {
    for (const l of this.listeners) l(node);
  }

  /** Records a reservation (replacing one with the same pod UID). */
  reserve(r: Reservation): void {
    if (this.reservations.has(r.podUid)) this.release(r.podUid);
    this.reservations.set(r.podUid, r);
    const n = this.node(r.node);
    n.podUids.add(r.podUid);
    for (const pf of r.pfs)
      n.reservedByPf.set(pf.pfPciAddress, (n.reservedByPf.get(pf.pfPciAddress) ?? 0) + pf.count);
    this.changed(r.node);
  }

  /** Releases a pod's reservation. Idempotent; returns whether one existed. */
  release(podUid: string): boolean {
    const r = this.reservations.get(podUid);
    if (r === undefined) return false;
    this.reservations.delete(podUid);
    const n = this.node(r.node);
    n.podUids.delete(podUid);
    for (const pf of r.pfs) {
      const left = (n.reservedByPf.get(pf.pfPciAddress) ?? 0) - pf.count;
      if (left > 0) n.reservedByPf.set(pf.pfPciAddress, left);
      else n.reservedByPf.delete(pf.pfPciAddress);
    }
    this.changed(r.node);
    return true;
  }

  /** Puts a resize claim on a PF (owner: pod UID or `agent`). */
  claim(node: string, pfPciAddress: string, owner: string): void {
    this.node(node).resizeClaims.set(pfPciAddress, owner);
    this.changed(node);
  }

  /** Removes a resize claim. Idempotent. */
  unclaim(node: string, pfPciAddress: string): void {
    if (this.nodes.get(node)?.resizeClaims.delete(pfPciAddress) === true) this.changed(node);
  }
}

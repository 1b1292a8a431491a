/**
 * Where GetPreferredAllocation learns which PFs hold reservations whose VFs the kubelet has not
 * allocated yet. A hint: stale or missing data only makes the preference less good, never
 * unsafe, so reads never wait for the network (the answer is refreshed in the background).
 */
import type { Logger } from 'pino';
import type { AgentLedger } from '../ports/ledger.js';
import type { VfUsage } from '../ports/vf-usage.js';

export interface ReservationHints {
  /**
   * PF PCI address -> VFs reserved on it (by rdmasched reservations on this node) that no
   * container uses yet. Synchronous and cheap; PFs absent from the map have none.
   */
  outstandingByPf(): ReadonlyMap<string, number>;
}

/** No reservations known (a node without the ledger, or tests). */
export const NO_RESERVATION_HINTS: ReservationHints = { outstandingByPf: () => new Map() };

/** Set by hand: tests, or an agent that computes the counts itself. */
export class InMemoryReservationHints implements ReservationHints {
  #byPf: ReadonlyMap<string, number> = new Map();

  outstandingByPf(): ReadonlyMap<string, number> {
    return this.#byPf;
  }

  set(byPf: ReadonlyMap<string, number> | Readonly<Record<string, number>>): void {
    this.#byPf = byPf instanceof Map ? new Map(byPf) : new Map(Object.entries(byPf));
  }
}

/**
 * Outstanding reserved VFs per PF: the ledger's reserved count minus the VFs in use on the PF,
 * never below zero. The ledger counts VFs per PF for every reservation (pending and bound) until
 * the pod ends, so the VFs of running pods are in both numbers and cancel out. Pure.
 */
export function outstandingReserved(
  reserved: ReadonlyMap<string, number>,
  inUse: Iterable<{ readonly pf: string }>,
): Map<string, number> {
  const used = new Map<string, number>();
  for (const a of inUse) used.set(a.pf, (used.get(a.pf) ?? 0) + 1);
  const out = new Map<string, number>();
  for (const [pf, n] of reserved) {
    const left = n - (used.get(pf) ?? 0);
    if (Number.isFinite(left) && left > 0) out.set(pf, Math.floor(left));
  }
  return out;
}

export interface LedgerReservationHintsOptions {
  readonly ledger: AgentLedger;
  readonly nodeName: string;
  readonly usage: VfUsage;
  /** How often the ledger is read (default 5 s). */
  readonly refreshIntervalMs?: number;
  readonly logger: Logger;
}

/**
 * Reads the node's reserved counts from the reservation ledger in the background
 * (`HGETALL {ledger}:node:<name>:reserved` on Redis) and subtracts the VFs in use.
 */
export class LedgerReservationHints implements ReservationHints {
  #reserved: ReadonlyMap<string, number> = new Map();
  #timer: NodeJS.Timeout | undefined;
  #inFlight: Promise<void> | undefined;

  constructor(private readonly opts: LedgerReservationHintsOptions) {}

  outstandingByPf(): ReadonlyMap<string, number> {
    return outstandingReserved(this.#reserved, this.opts.usage.inUse().values());
  }

  /** Reads the ledger now; on error keeps the last counts (logged). */
  refresh(): Promise<void> {
    this.#inFlight ??= (async () => {
      try {
        this.#reserved = (await this.opts.ledger.holds(this.opts.nodeName)).reserved;
      } catch (err: unknown) {
        this.opts.logger.warn(
          { err: err instanceof Error ? err.message : String(err) },
          'reservation ledger unreadable; preferred allocation uses the last known reservations',
        );
      } finally {
        this.#inFlight = undefined;
      }
    })();
    return this.#inFlight;
  }

  start(): void {
    if (this.#timer !== undefined) return;
    void this.refresh();
    this.#timer = setInterval(() => void this.refresh(), this.opts.refreshIntervalMs ?? 5_000);
    this.#timer.unref();
  }

  stop(): void {
    clearInterval(this.#timer);
    this.#timer = undefined;
  }
}

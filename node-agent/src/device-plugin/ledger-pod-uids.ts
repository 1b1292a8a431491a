/**
 * Names the pods of allocated VFs. The kubelet's PodResources API gives namespace and name, never
 * the UID; the reservation ledger's records on this node carry all three (contracts
 * `Reservation`). So a pod with a reservation here resolves to its UID, and a pod without one
 * (not scheduled by rdmasched: truly foreign) resolves to null, which is what the report's
 * `podUid` and `foreignInUse` mean (docs/adr/0024).
 *
 * Called from the reconcile loop only (background), never on a gRPC call. The node's records are
 * read again when older than `maxAgeMs` (a pod deleted and recreated under the same name gets a
 * new UID), and at most every `minIntervalMs` on a miss.
 */
import type { Logger } from 'pino';
import type { AgentLedger } from '../ports/ledger.js';

export interface LedgerPodUidResolverOptions {
  readonly ledger: AgentLedger;
  readonly nodeName: string;
  readonly logger: Logger;
  readonly nowMs?: () => number;
  /** Records older than this are read again before answering (default 5 s). */
  readonly maxAgeMs?: number;
  /** Least time between two reads caused by an unknown pod (default 1 s). */
  readonly minIntervalMs?: number;
}

export class LedgerPodUidResolver {
  readonly #o: LedgerPodUidResolverOptions;
  #byName = new Map<string, string>();
  #readAtMs = -Infinity;
  #reading: Promise<void> | undefined;

  constructor(opts: LedgerPodUidResolverOptions) {
    this.#o = opts;
  }

  /** The UID of the pod `namespace/name` when it holds a reservation on this node; else null. */
  async resolve(namespace: string, name: string): Promise<string | null> {
    const now = (this.#o.nowMs ?? Date.now)();
    const key = `${namespace}/${name}`;
    const age = now - this.#readAtMs;
    if (
      age >= (this.#o.maxAgeMs ?? 5_000) ||
      (!this.#byName.has(key) && age >= (this.#o.minIntervalMs ?? 1_000))
    )
      await this.refresh();
    return this.#byName.get(key) ?? null;
  }

  /** Reads the node's reservations now (coalesced); on error keeps what it knew (logged). */
  refresh(): Promise<void> {
    this.#reading ??= (async () => {
      try {
        const records = await this.#o.ledger.reservationsOfNode(this.#o.nodeName);
        const next = new Map<string, string>();
        for (const r of records)
          if (r.node === this.#o.nodeName) next.set(`${r.namespace}/${r.podName}`, r.podUid);
        this.#byName = next;
        this.#readAtMs = (this.#o.nowMs ?? Date.now)();
      } catch (err: unknown) {
        this.#o.logger.warn(
          { err: err instanceof Error ? err.message : String(err) },
          'reservation ledger unreadable; pods of allocated VFs named from the last known reservations',
        );
      } finally {
        this.#reading = undefined;
      }
    })();
    return this.#reading;
  }
}

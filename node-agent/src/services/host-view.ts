/**
 * The agent's view of its node: one discovery pass plus the ledger's holds for the node and the
 * usage port's allocations, taken together so decisions use one consistent snapshot.
 */
import type { Reservation } from '@rdmasched/contracts';
import { discover } from '../discovery/discover.js';
import type { DiscoveredPf, Discovery } from '../discovery/types.js';
import type { AgentLedger, NodeHolds } from '../ports/ledger.js';
import type { SysfsReader } from '../ports/sysfs-reader.js';
import type { VfAllocation, VfUsage } from '../ports/vf-usage.js';
import type { AgentMetrics } from '../metrics.js';
import type { NodeSettings } from './node-settings.js';

export interface Snapshot {
  readonly discovery: Discovery;
  readonly holds: NodeHolds;
  /** Reservation records on this node of the pods that use VFs here. */
  readonly reservations: ReadonlyMap<string, Reservation>;
  readonly inUse: ReadonlyMap<string, VfAllocation>;
  /** False when the ledger could not be read (holds are the last known ones). */
  readonly ledgerOk: boolean;
}

export class HostView {
  #discovery: Discovery | undefined;
  #holds: NodeHolds = { reserved: new Map(), claims: new Map() };
  #reservations: ReadonlyMap<string, Reservation> = new Map();

  constructor(
    private readonly deps: {
      readonly nodeName: string;
      readonly reader: SysfsReader;
      readonly ledger: AgentLedger;
      readonly usage: VfUsage;
      readonly metrics: AgentMetrics;
      /** Recomputed after every discovery pass. */
      readonly settings?: NodeSettings;
    },
  ) {}

  /** The latest discovery (undefined before the first refresh). */
  get discovery(): Discovery | undefined {
    return this.#discovery;
  }

  pf(address: string): DiscoveredPf | undefined {
    return this.#discovery?.pfs.find((p) => p.pciAddress === address);
  }

  /** Discovers the host again; with `ledger: false` only the host is read. */
  async refresh(opts: { ledger?: boolean } = {}): Promise<Snapshot> {
    const end = this.deps.metrics.discoveryDuration.startTimer();
    const d = await discover(this.deps.reader);
    end();
    this.#discovery = d;
    this.deps.settings?.update(d);
    const inUse = new Map(this.deps.usage.inUse());
    let ledgerOk = true;
    if (opts.ledger !== false) {
      try {
        const holds = await this.deps.ledger.holds(this.deps.nodeName);
        const pods = [
          ...new Set([...inUse.values()].map((a) => a.podUid).filter((u): u is string => u !== null)),
        ];
        const records =
          pods.length === 0 ? new Map<string, Reservation>() : await this.deps.ledger.reservations(pods);
        // Only reservations on this node say that a pod is rdmasched's here (contracts: foreignInUse).
        this.#reservations = new Map([...records].filter(([, r]) => r.node === this.deps.nodeName));
        this.#holds = holds;
      } catch {
        ledgerOk = false;
      }
    }
    return { discovery: d, holds: this.#holds, reservations: this.#reservations, inUse, ledgerOk };
  }
}

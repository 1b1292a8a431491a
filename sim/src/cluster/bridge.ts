/**
 * The embedded store: the agents' and the extender's in-memory adapters connected in-process, as
 * Redis connects them in a real cluster.
 *
 * - Reports and heartbeats an agent publishes reach the extender's topology store at once (the
 *   Redis adapter would SET + XADD and the extender's follower would GET + apply).
 * - The ledger is the extender's InMemoryLedger (the Redis ledger's contract), which also offers
 *   the agents' side of it (holds, claims); its capacity summaries are the ones the agents publish
 *   with their reports, and the extender's ledger mirror follows its events.
 * - Provisioning answers wake whoever waits for them (the Redis adapter would XADD to the node's
 *   results stream).
 */
import type { NodeReport, PfCapacity, ProvisionResult } from '@rdmasched/contracts';
import { InMemoryProvisionQueue, type ReportStore } from '@rdmasched/node-agent';
import type { InMemoryTopologyStore } from '@rdmasched/scheduler-extender';

export interface ReportListener {
  (report: NodeReport, capacity: ReadonlyMap<string, PfCapacity>): void;
}

/** ReportStore for the agents that publishes into the extender's InMemoryTopologyStore. */
export class BridgedReportStore implements ReportStore {
  readonly latest = new Map<string, { report: NodeReport; capacity: ReadonlyMap<string, PfCapacity> }>();
  private readonly listeners = new Set<ReportListener>();
  private target: InMemoryTopologyStore | undefined;
  publishes = 0;
  heartbeats = 0;

  /** Connects the extender's store; reports published before are handed over at once. */
  connect(target: InMemoryTopologyStore): void {
    this.target = target;
    for (const { report } of this.latest.values()) target.publish(report, Date.parse(report.reportedAt));
  }

  onReport(listener: ReportListener): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  storedGeneration(node: string): Promise<number> {
    return Promise.resolve(this.latest.get(node)?.report.generation ?? 0);
  }

  publish(report: NodeReport, capacity: ReadonlyMap<string, PfCapacity>): Promise<void> {
    this.latest.set(report.nodeName, { report, capacity });
    this.publishes++;
    this.target?.publish(report, Date.parse(report.reportedAt));
    for (const l of this.listeners) l(report, capacity);
    return Promise.resolve();
  }

  heartbeat(node: string, _generation: number, atMs: number): Promise<void> {
    this.heartbeats++;
    this.target?.heartbeat(node, atMs);
    return Promise.resolve();
  }
}

/** A node's provisioning queue whose answers can be awaited (the results stream of one node). */
export class AwaitableProvisionQueue extends InMemoryProvisionQueue {
  private readonly waiters = new Map<string, (r: ProvisionResult) => void>();
  private readonly early = new Map<string, ProvisionResult>();
  private readonly onAnswer: ((r: ProvisionResult) => void) | undefined;

  constructor(onAnswer?: (r: ProvisionResult) => void) {
    super();
    this.onAnswer = onAnswer;
  }

  override answer(result: ProvisionResult): Promise<void> {
    this.onAnswer?.(result);
    const w = this.waiters.get(result.id);
    if (w !== undefined) {
      this.waiters.delete(result.id);
      w(result);
    } else {
      this.early.set(result.id, result);
    }
    return super.answer(result);
  }

  /** The answer to request `id`, or undefined after `timeoutMs`. */
  waitFor(id: string, timeoutMs: number): Promise<ProvisionResult | undefined> {
    const got = this.early.get(id);
    if (got !== undefined) {
      this.early.delete(id);
      return Promise.resolve(got);
    }
    return new Promise((resolve) => {
      const timer = setTimeout(() => {
        this.waiters.delete(id);
        resolve(undefined);
      }, timeoutMs);
      this.waiters.set(id, (r) => {
        clearTimeout(timer);
        resolve(r);
      });
    });
  }
}

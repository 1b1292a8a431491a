import type { NodeReport, PfCapacity, ProvisionResult } from '@rdmasched/contracts';
import type { AgentState } from '../../core/agent-state.js';
import type { AgentStateStore } from '../../ports/agent-state-store.js';
import type { ProvisionQueue, QueueEntry } from '../../ports/provision-queue.js';
import type { ReportStore } from '../../ports/report-store.js';

/** Agent notes in memory (survives an agent "restart" in tests when the instance is shared). */
export class InMemoryAgentStateStore implements AgentStateStore {
  readonly states = new Map<string, string>();
  load(node: string): Promise<AgentState | undefined> {
    const s = this.states.get(node);
    return Promise.resolve(s === undefined ? undefined : (JSON.parse(s) as AgentState));
  }
  save(node: string, state: AgentState): Promise<void> {
    this.states.set(node, JSON.stringify(state));
    return Promise.resolve();
  }
}

/** Reports in memory: the latest per node and every publish, for tests and the simulation. */
export class InMemoryReportStore implements ReportStore {
  readonly latest = new Map<string, { report: NodeReport; capacity: ReadonlyMap<string, PfCapacity> }>();
  readonly heartbeats = new Map<string, number>();
  publishes = 0;
  storedGeneration(node: string): Promise<number> {
    return Promise.resolve(this.latest.get(node)?.report.generation ?? 0);
  }
  publish(report: NodeReport, capacity: ReadonlyMap<string, PfCapacity>): Promise<void> {
    this.latest.set(report.nodeName, { report, capacity: new Map(capacity) });
    this.heartbeats.set(report.nodeName, Date.parse(report.reportedAt));
    this.publishes++;
    return Promise.resolve();
  }
  heartbeat(node: string, _generation: number, atMs: number): Promise<void> {
    this.heartbeats.set(node, atMs);
    return Promise.resolve();
  }
}

/** A provisioning queue in memory with at-least-once delivery (pending until acked). */
export class InMemoryProvisionQueue implements ProvisionQueue {
  readonly #entries: { entryId: string; raw: string | undefined; delivered: boolean; acked: boolean }[] = [];
  readonly results: ProvisionResult[] = [];
  #seq = 0;
  #waiters: (() => void)[] = [];
  #closed = false;

  /** Adds a request, as the extender would (`XADD ... request <json>`). */
  push(raw: string | undefined): string {
    const entryId = `${Date.now()}-${this.#seq++}`;
    this.#entries.push({ entryId, raw, delivered: false, acked: false });
    for (const w of this.#waiters.splice(0)) w();
    return entryId;
  }

  /** A restarted consumer: its delivered-but-unacked entries are handed out again. */
  redeliver(): void {
    for (const e of this.#entries) if (!e.acked) e.delivered = false;
    this.#closed = false;
  }

  pending(): number {
    return this.#entries.filter((e) => !e.acked).length;
  }

  async next(blockMs: number): Promise<readonly QueueEntry[]> {
    const take = () => {
      const out = this.#entries.filter((e) => !e.delivered && !e.acked);
      for (const e of out) e.delivered = true;
      return out.map((e) => ({ entryId: e.entryId, raw: e.raw }));
    };
    const now = take();
    if (now.length > 0 || this.#closed || blockMs <= 0) return now;
    await new Promise<void>((resolve) => {
      const t = setTimeout(resolve, blockMs);
      this.#waiters.push(() => {
        clearTimeout(t);
        resolve();
      });
    });
    return this.#closed ? [] : take();
  }

  ack(entryId: string): Promise<void> {
    const e = this.#entries.find((x) => x.entryId === entryId);
    if (e !== undefined) e.acked = true;
    return Promise.resolve();
  }

  answer(result: ProvisionResult): Promise<void> {
    this.results.push(result);
    return Promise.resolve();
  }

  close(): Promise<void> {
    this.#closed = true;
    for (const w of this.#waiters.splice(0)) w();
    return Promise.resolve();
  }
}

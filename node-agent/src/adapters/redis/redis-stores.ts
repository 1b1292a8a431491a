/**
 * Report publishing, agent notes and the provisioning streams in Redis (contracts/src/redis-keys.ts,
 * events.ts). Keys of different hash tags are written with separate commands (never one MULTI),
 * so this runs unchanged on Redis Cluster.
 */
import {
  EVENTS_MAXLEN,
  type NodeEvent,
  type NodeReport,
  type PfCapacity,
  type ProvisionResult,
  type RedisKeys,
} from '@rdmasched/contracts';
import { parseAgentState, type AgentState } from '../../core/agent-state.js';
import type { AgentStateStore } from '../../ports/agent-state-store.js';
import type { ProvisionQueue, QueueEntry } from '../../ports/provision-queue.js';
import type { ReportStore } from '../../ports/report-store.js';
import type { RedisClient } from './connection.js';

/** Approximate length the results stream is trimmed to. */
export const RESULTS_MAXLEN = 10_000;

export class RedisReportStore implements ReportStore {
  constructor(
    private readonly client: RedisClient,
    private readonly keys: RedisKeys,
  ) {}

  async storedGeneration(node: string): Promise<number> {
    const [json, score] = await Promise.all([
      this.client.get(this.keys.report(node)),
      this.client.zscore(this.keys.nodeIndex(), node),
    ]);
    let fromReport = 0;
    try {
      const g = (JSON.parse(json ?? '{}') as { generation?: unknown }).generation;
      if (typeof g === 'number' && Number.isSafeInteger(g)) fromReport = g;
    } catch {
      fromReport = 0;
    }
    return Math.max(fromReport, score === null ? 0 : Number(score));
  }

  async publish(
    report: NodeReport,
    capacity: ReadonlyMap<string, PfCapacity>,
    heartbeatTtlMs: number,
  ): Promise<void> {
    const node = report.nodeName;
    const atMs = Date.parse(report.reportedAt);
    await this.client.set(this.keys.report(node), JSON.stringify(report));
    const capKey = this.keys.nodeCapacity(node);
    const stale = (await this.client.hkeys(capKey)).filter((pf) => !capacity.has(pf));
    if (stale.length > 0) await this.client.hdel(capKey, ...stale);
    if (capacity.size > 0) {
      const fields: Record<string, string> = {};
      for (const [pf, c] of capacity) fields[pf] = JSON.stringify(c);
      await this.client.hset(capKey, fields);
    }
    await this.client.set(this.keys.heartbeat(node), String(atMs), 'PX', heartbeatTtlMs);
    await this.client.zadd(this.keys.nodeIndex(), report.generation, node);
    await this.#event({ type: 'report', node, generation: report.generation, atMs });
  }

  async heartbeat(node: string, generation: number, atMs: number, ttlMs: number): Promise<void> {
    await this.client.set(this.keys.heartbeat(node), String(atMs), 'PX', ttlMs);
    await this.#event({ type: 'heartbeat', node, generation, atMs });
  }

  async #event(e: NodeEvent): Promise<void> {
    await this.client.xadd(this.keys.events(), 'MAXLEN', '~', EVENTS_MAXLEN, '*', 'event', JSON.stringify(e));
  }
}

export class RedisAgentStateStore implements AgentStateStore {
  constructor(
    private readonly client: RedisClient,
    private readonly keys: RedisKeys,
  ) {}

  async load(node: string): Promise<AgentState | undefined | { malformed: string }> {
    const json = await this.client.get(this.keys.agentState(node));
    if (json === null) return undefined;
    const r = parseAgentState(json);
    return r.ok ? r.state : { malformed: r.reason };
  }

  async save(node: string, state: AgentState): Promise<void> {
    await this.client.set(this.keys.agentState(node), JSON.stringify(state));
  }
}

export interface RedisQueueOptions {
  readonly client: RedisClient;
  /** A separate connection for the blocking read. */
  readonly blockingClient: RedisClient;
  readonly keys: RedisKeys;
  readonly node: string;
  /** Consumer group (default `rdmasched-agent`). */
  readonly group?: string;
  /** Consumer name, stable across restarts so pending entries come back (default: the node name). */
  readonly consumer?: string;
}

/** XREADGROUP reply; a pending entry deleted from the stream comes back with null fields. */
type StreamReply = [string, [string, string[] | null][]][] | null;

export class RedisProvisionQueue implements ProvisionQueue {
  readonly #group: string;
  readonly #consumer: string;
  readonly #stream: string;
  #groupReady = false;
  #pendingFirst = true;
  #closed = false;

  constructor(private readonly o: RedisQueueOptions) {
    this.#group = o.group ?? 'rdmasched-agent';
    this.#consumer = o.consumer ?? o.node;
    this.#stream = o.keys.provisionRequests(o.node);
  }

  async #ensureGroup(): Promise<void> {
    if (this.#groupReady) return;
    try {
      // From id 0: requests written before the group existed are not lost (answers are idempotent).
      await this.o.client.xgroup('CREATE', this.#stream, this.#group, '0', 'MKSTREAM');
    } catch (err: unknown) {
      if (!(err instanceof Error) || !err.message.includes('BUSYGROUP')) throw err;
    }
    this.#groupReady = true;
  }

  static #entries(reply: StreamReply): QueueEntry[] {
    const out: QueueEntry[] = [];
    for (const [, entries] of reply ?? []) {
      for (const [entryId, fields] of entries) {
        let raw: string | undefined;
        const f = fields ?? [];
        for (let i = 0; i + 1 < f.length; i += 2) if (f[i] === 'request') raw = f[i + 1];
        out.push({ entryId, raw });
      }
    }
    return out;
  }

  async next(blockMs: number): Promise<readonly QueueEntry[]> {
    if (this.#closed) return [];
    try {
      await this.#ensureGroup();
      if (this.#pendingFirst) {
        // This consumer's delivered-but-unacknowledged entries (a restarted agent's unfinished work).
        const pending = RedisProvisionQueue.#entries(
          (await this.o.client.xreadgroup(
            'GROUP',
            this.#group,
            this.#consumer,
            'COUNT',
            16,
            'STREAMS',
            this.#stream,
            '0',
          )) as StreamReply,
        );
        if (pending.length > 0) return pending;
        this.#pendingFirst = false;
      }
      const reply = (await this.o.blockingClient.xreadgroup(
        'GROUP',
        this.#group,
        this.#consumer,
        'COUNT',
        16,
        'BLOCK',
        Math.max(1, blockMs),
        'STREAMS',
        this.#stream,
        '>',
      )) as StreamReply;
      return RedisProvisionQueue.#entries(reply);
    } catch (err: unknown) {
      if (this.#closed) return [];
      if (err instanceof Error && err.message.includes('NOGROUP')) {
        // Redis lost the group (restarted empty): create it again and read pending first.
        this.#groupReady = false;
        this.#pendingFirst = true;
      }
      throw err;
    }
  }

  async ack(entryId: string): Promise<void> {
    await this.o.client.xack(this.#stream, this.#group, entryId);
  }

  async answer(result: ProvisionResult): Promise<void> {
    await this.o.client.xadd(
      this.o.keys.provisionResults(this.o.node),
      'MAXLEN',
      '~',
      RESULTS_MAXLEN,
      '*',
      'result',
      JSON.stringify(result),
    );
  }

  close(): Promise<void> {
    this.#closed = true;
    this.o.blockingClient.disconnect();
    return Promise.resolve();
  }
}

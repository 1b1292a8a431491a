/**
 * TopologyStore over Redis (key layout: contracts/src/redis-keys.ts, docs/adr/0002).
 *
 * start():
 *   1. read the id of the last entry of `{index}:events` (before loading, so nothing published
 *      during the load is missed: those events are applied again, which is harmless);
 *   2. load every node of the `{index}:nodes` ZSET: report and heartbeat with one MGET per node
 *      (both keys share the node's hash slot, so this works on Redis Cluster), in batches;
 *   3. replace the snapshot with them and mark it loaded;
 *   4. follow the stream with XREAD BLOCK on a dedicated connection: `report` -> GET the report
 *      and apply it, `heartbeat` -> update the time, `removed` -> drop the node.
 * If the stream was trimmed past the last id read (stream-follow.ts, checked with XINFO STREAM
 * pipelined after each read), entries were lost:
 * everything is loaded again.
 * If the first load fails (Redis down), it is retried until it works or the store is closed.
 */
import { parseNodeEvent, type NodeEvent, type RedisKeys } from '@rdmasched/contracts';
import type { Logger } from 'pino';
import type { Clock } from '../../ports/clock.js';
import { systemClock } from '../../ports/clock.js';
import type { TopologyStore } from '../../ports/topology-store.js';
import { UnparsableReport, type Snapshot } from '../../core/snapshot.js';
import type { RedisClient } from './connect.js';
import { compareStreamIds, readStream } from './stream-follow.js';

export interface RedisTopologyStoreOptions {
  readonly client: RedisClient;
  readonly keys: RedisKeys;
  readonly snapshot: Snapshot;
  readonly logger: Logger;
  readonly clock?: Clock;
  /** XREAD BLOCK timeout, ms (default 5000). Bounds how long close() waits for the follower. */
  readonly blockMs?: number;
  /** Nodes loaded per round of MGETs (default 500). */
  readonly batchSize?: number;
  /** Wait after a failed load or read before trying again, ms (default 1000). */
  readonly retryDelayMs?: number;
}

type StreamEntry = [id: string, fields: string[]];

export { compareStreamIds };

function fieldOf(fields: readonly string[], name: string): string | undefined {
  for (let i = 0; i + 1 < fields.length; i += 2) if (fields[i] === name) return fields[i + 1];
  return undefined;
}

function heartbeatMs(raw: string | null | undefined): number | undefined {
  if (raw === null || raw === undefined) return undefined;
  const n = Number(raw);
  return Number.isFinite(n) && n > 0 ? n : undefined;
}

const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

const CLOSED = Symbol('closed');
class StoreClosed extends Error {}

export class RedisTopologyStore implements TopologyStore {
  readonly kind = 'redis';
  private readonly client: RedisClient;
  private readonly blocking: RedisClient;
  private readonly keys: RedisKeys;
  private readonly snapshot: Snapshot;
  private readonly log: Logger;
  private readonly clock: Clock;
  private readonly blockMs: number;
  private readonly batchSize: number;
  private readonly retryDelayMs: number;
  private lastId = '0-0';
  private started = false;
  private closed = false;
  private follower: Promise<void> | undefined;
  private signalClosed: () => void = () => undefined;
  /** Resolves on close(): every wait in the store races it, so close() never hangs on a dead Redis. */
  private readonly closedSignal = new Promise<typeof CLOSED>((resolve) => {
    this.signalClosed = () => resolve(CLOSED);
  });

  constructor(opts: RedisTopologyStoreOptions) {
    this.client = opts.client;
    this.blocking = opts.client.duplicate();
    this.keys = opts.keys;
    this.snapshot = opts.snapshot;
    this.log = opts.logger.child({ component: 'redis-topology-store' });
    this.clock = opts.clock ?? systemClock;
    this.blockMs = opts.blockMs ?? 5000;
    this.batchSize = opts.batchSize ?? 500;
    this.retryDelayMs = opts.retryDelayMs ?? 1000;
  }

  /** The id of the last event applied (for tests and diagnostics). */
  get lastEventId(): string {
    return this.lastId;
  }

  async start(): Promise<void> {
    if (this.started) throw new Error('RedisTopologyStore already started');
    this.started = true;
    for (;;) {
      if (this.closed) return;
      try {
        await this.loadAll('start');
        break;
      } catch (err: unknown) {
        if (this.closed) return;
        this.log.warn({ err }, `loading node reports from Redis failed; retrying in ${this.retryDelayMs} ms`);
        await this.until(sleep(this.retryDelayMs)).catch(() => undefined);
      }
    }
    if (this.closed) return;
    this.snapshot.markLoaded();
    this.follower = this.follow();
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    this.signalClosed();
    // Disconnecting aborts a pending XREAD BLOCK; the follower then sees `closed` and ends.
    this.blocking.disconnect();
    await this.follower;
  }

  /** Waits for `p` unless the store closes first (then throws StoreClosed). */
  private async until<T>(p: Promise<T>): Promise<T> {
    p.catch(() => undefined); // the loser of the race must not become an unhandled rejection
    const winner = await Promise.race([p, this.closedSignal]);
    if (winner === CLOSED) throw new StoreClosed('store closed');
    return winner;
  }

  private async lastStreamId(): Promise<string> {
    const last = (await this.until(
      this.client.xrevrange(this.keys.events(), '+', '-', 'COUNT', 1),
    )) as StreamEntry[];
    return last[0]?.[0] ?? '0-0';
  }

  /** Reads every node and replaces the snapshot. */
  private async loadAll(cause: 'start' | 'trimmed'): Promise<void> {
    const started = this.clock.nowMs();
    const lastId = await this.lastStreamId();
    const names = await this.until(this.client.zrange(this.keys.nodeIndex(), 0, -1));
    const entries: { report: unknown; heartbeatAtMs?: number | undefined; node: string }[] = [];
    let lastProgress = started;
    for (let i = 0; i < names.length; i += this.batchSize) {
      const batch = names.slice(i, i + this.batchSize);
      const values = await this.until(
        Promise.all(batch.map((n) => this.client.mget(this.keys.report(n), this.keys.heartbeat(n)))),
      );
      batch.forEach((node, j) => {
        const [report, heartbeat] = values[j] ?? [];
        if (report === null || report === undefined) {
          this.log.warn({ node }, 'node is in the index but has no report; skipped');
          return;
        }
        entries.push({ node, report: this.parse(node, report), heartbeatAtMs: heartbeatMs(heartbeat) });
      });
      const now = this.clock.nowMs();
      if (now - lastProgress >= 2000) {
        lastProgress = now;
        this.log.info(
          { loaded: Math.min(i + batch.length, names.length), of: names.length },
          'loading node reports',
        );
      }
    }
    const result = this.snapshot.replaceAll(entries, this.clock.nowMs());
    this.lastId = lastId;
    this.log.info(
      {
        cause,
        nodes: this.snapshot.size,
        rejected: result.rejected,
        ms: this.clock.nowMs() - started,
        lastEventId: lastId,
      },
      'node reports loaded from Redis',
    );
  }

  /** JSON text -> value; text that is not JSON is rejected by the snapshot with that reason. */
  private parse(node: string, text: string): unknown {
    try {
      return JSON.parse(text) as unknown;
    } catch (err: unknown) {
      return new UnparsableReport(
        node,
        `stored report is not valid JSON (${err instanceof Error ? err.message : String(err)})`,
      );
    }
  }

  private async follow(): Promise<void> {
    while (!this.closed) {
      try {
        const since = this.lastId;
        const { entries, trimmed } = await this.until(
          readStream(this.blocking, this.keys.events(), since, { count: 1000, blockMs: this.blockMs }),
        );
        if (this.closed) return;
        if (trimmed) {
          this.log.warn(
            { lastEventId: since },
            'event stream trimmed past the last id read: reloading every node',
          );
          await this.loadAll('trimmed');
          continue;
        }
        if (entries.length > 0) await this.apply(entries);
      } catch (err: unknown) {
        if (this.closed) return;
        this.log.warn({ err }, `following node events failed; retrying in ${this.retryDelayMs} ms`);
        await this.until(sleep(this.retryDelayMs)).catch(() => undefined);
      }
    }
  }

  private async apply(entries: readonly StreamEntry[]): Promise<void> {
    const events: { id: string; event: NodeEvent | undefined }[] = entries.map(([id, fields]) => {
      const text = fieldOf(fields, 'event');
      return { id, event: text === undefined ? undefined : parseNodeEvent(text) };
    });
    // Fetch every report an event announces in one round, then apply the events in order.
    const reportNodes = [
      ...new Set(events.flatMap((e) => (e.event?.type === 'report' ? [e.event.node] : []))),
    ];
    const fetched = await this.until(
      Promise.all(reportNodes.map((n) => this.client.mget(this.keys.report(n), this.keys.heartbeat(n)))),
    );
    const reports = new Map(reportNodes.map((n, i) => [n, fetched[i] ?? []]));
    for (const { id, event } of events) {
      this.lastId = id;
      if (event === undefined) {
        this.log.warn({ id }, 'malformed node event skipped');
        continue;
      }
      const now = this.clock.nowMs();
      if (event.type === 'heartbeat') {
        this.snapshot.heartbeat(event.node, event.atMs, now);
      } else if (event.type === 'removed') {
        this.snapshot.remove(event.node);
      } else {
        const [text, hb] = reports.get(event.node) ?? [];
        if (text === null || text === undefined) {
          this.log.warn({ node: event.node }, 'report event but no report stored; skipped');
          continue;
        }
        const heartbeat = Math.max(event.atMs, heartbeatMs(hb) ?? 0);
        this.snapshot.applyReport(this.parse(event.node, text), { nowMs: now, heartbeatAtMs: heartbeat });
      }
    }
  }
}

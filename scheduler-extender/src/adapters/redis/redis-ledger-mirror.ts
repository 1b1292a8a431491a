/**
 * Keeps a `LedgerMirror` current from Redis, like the topology store does for reports (ADR 0014,
 * 0016):
 *
 *   1. read the id of the last entry of `{ledger}:events` (before loading: events published during
 *      the load are applied again, which the mirror's idempotent `apply` makes harmless);
 *   2. load every reservation (ZRANGE of the index, MGET of the records: one slot) and the resize
 *      claims of every node that has reservations or is in the node index (HGETALL each);
 *   3. replace the mirror with them (it is then loaded);
 *   4. follow the stream with XREAD BLOCK on a dedicated connection; a trimmed stream (entries
 *      after the last id may be lost) makes it load everything again.
 *
 * A malformed event is skipped and logged; a malformed record is left out of a load and logged.
 */
import { parseLedgerEvent, type RedisKeys } from '@rdmasched/contracts';
import type { Logger } from 'pino';
import type { LedgerMirror } from '../../core/ledger-mirror.js';
import { type MirroredReservation } from '../../core/ledger-mirror.js';
import type { RedisClient } from './connect.js';
import { RedisLedger } from './redis-ledger.js';
import { lastStreamId, readStream, streamField } from './stream-follow.js';

export interface RedisLedgerMirrorOptions {
  readonly client: RedisClient;
  readonly keys: RedisKeys;
  readonly mirror: LedgerMirror;
  readonly logger: Logger;
  /** XREAD BLOCK timeout, ms (default 5000). Bounds how long close() waits. */
  readonly blockMs?: number;
  /** Wait after a failed load or read, ms (default 1000). */
  readonly retryDelayMs?: number;
}

const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

export class RedisLedgerMirror {
  readonly mirror: LedgerMirror;
  private readonly client: RedisClient;
  private readonly blocking: RedisClient;
  private readonly keys: RedisKeys;
  private readonly log: Logger;
  private readonly blockMs: number;
  private readonly retryDelayMs: number;
  private readonly ledger: RedisLedger;
  private lastId = '0-0';
  private started = false;
  private closed = false;
  private follower: Promise<void> | undefined;
  private reloadCount = 0;

  constructor(opts: RedisLedgerMirrorOptions) {
    this.mirror = opts.mirror;
    this.client = opts.client;
    this.blocking = opts.client.duplicate();
    this.keys = opts.keys;
    this.log = opts.logger.child({ component: 'ledger-mirror' });
    this.blockMs = opts.blockMs ?? 5000;
    this.retryDelayMs = opts.retryDelayMs ?? 1000;
    this.ledger = new RedisLedger({ client: opts.client, keys: opts.keys });
  }

  /** The id of the last event applied. */
  get lastEventId(): string {
    return this.lastId;
  }

  /** Full loads done (1 after start; more after trims). */
  get reloads(): number {
    return this.reloadCount;
  }

  /** Loads the ledger (retrying while Redis is unreachable), then follows it in the background. */
  async start(): Promise<void> {
    if (this.started) throw new Error('RedisLedgerMirror already started');
    this.started = true;
    while (!this.closed) {
      try {
        await this.loadAll('start');
        break;
      } catch (err: unknown) {
        if (this.closed) return;
        this.log.warn({ err }, `loading the reservation ledger failed; retrying in ${this.retryDelayMs} ms`);
        await sleep(this.retryDelayMs);
      }
    }
    if (this.closed) return;
    this.follower = this.follow();
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    this.blocking.disconnect();
    await this.follower;
  }

  private async loadAll(cause: 'start' | 'trimmed'): Promise<void> {
    const lastId = await lastStreamId(this.client, this.keys.ledgerEvents());
    const records = await this.ledger.list();
    const indexed = await this.client.zrange(this.keys.nodeIndex(), 0, -1);
    const nodes = [...new Set([...indexed, ...records.map((r) => r.node)])];
    const claimLists = await Promise.all(nodes.map((n) => this.ledger.claims(n)));
    const claims = new Map(nodes.map((n, i) => [n, claimLists[i] ?? new Map<string, string>()]));
    const reservations: MirroredReservation[] = records.map((r) => ({
      podUid: r.podUid,
      node: r.node,
      tenant: r.tenant,
      pfs: r.pfs,
      gpus: r.gpus,
      state: r.state,
      namespace: r.namespace,
      podName: r.podName,
    }));
    this.mirror.replaceAll(reservations, claims);
    this.lastId = lastId;
    this.reloadCount++;
    this.log.info(
      { cause, reservations: reservations.length, nodes: nodes.length, lastEventId: lastId },
      'reservation ledger loaded from Redis',
    );
  }

  private async follow(): Promise<void> {
    while (!this.closed) {
      try {
        const since = this.lastId;
        const { entries, trimmed } = await readStream(this.blocking, this.keys.ledgerEvents(), since, {
          count: 1000,
          blockMs: this.blockMs,
        });
        if (this.closed) return;
        if (trimmed) {
          this.log.warn(
            { lastEventId: since },
            'ledger event stream trimmed past the last id read: reloading',
          );
          await this.loadAll('trimmed');
          continue;
        }
        for (const [id, fields] of entries) {
          this.lastId = id;
          const text = streamField(fields, 'event');
          const event = text === undefined ? undefined : parseLedgerEvent(text);
          if (event === undefined) {
            this.log.warn({ id }, 'malformed ledger event skipped');
            continue;
          }
          this.mirror.apply(event);
        }
      } catch (err: unknown) {
        if (this.closed) return;
        this.log.warn({ err }, `following the ledger failed; retrying in ${this.retryDelayMs} ms`);
        await sleep(this.retryDelayMs);
      }
    }
  }
}

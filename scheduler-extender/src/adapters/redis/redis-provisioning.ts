/**
 * ProvisioningChannel over the node's Redis streams (contracts/src/redis-keys.ts): XADD each
 * request to `{node:<n>}:provision:requests` (field `request`), then read
 * `{node:<n>}:provision:results` (field `result`) from the id it had before the requests were
 * sent, until every request id is answered or the deadline passes.
 *
 * The results are polled with XRANGE on the shared connection (10 ms, growing to 100 ms) rather
 * than read with XREAD BLOCK: a blocking read would need a connection of its own per waiting bind
 * (and per node slot on Redis Cluster). Binds that need provisioning are rare and bounded by the
 * bind budget; a few dozen small XRANGEs each cost Redis next to nothing.
 */
import {
  EVENTS_MAXLEN,
  parseProvisionResult,
  type ProvisionRequest,
  type ProvisionResult,
  type RedisKeys,
} from '@rdmasched/contracts';
import type { Logger } from 'pino';
import type { ProvisioningChannel } from '../../ports/provisioning.js';
import type { RedisClient } from './connect.js';
import { lastStreamId, streamField } from './stream-follow.js';

export interface RedisProvisioningChannelOptions {
  readonly client: RedisClient;
  readonly keys: RedisKeys;
  readonly logger: Logger;
  /** First and largest poll interval, ms (defaults 10 and 100). */
  readonly pollMinMs?: number;
  readonly pollMaxMs?: number;
  readonly nowMs?: () => number;
}

const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

/** The stream id just after `id` (XRANGE's start is inclusive). */
function after(id: string): string {
  const [ms = '0', seq = '0'] = id.split('-');
  return `${ms}-${BigInt(seq) + 1n}`;
}

export class RedisProvisioningChannel implements ProvisioningChannel {
  private readonly o: RedisProvisioningChannelOptions;
  private readonly nowMs: () => number;

  constructor(opts: RedisProvisioningChannelOptions) {
    this.o = opts;
    this.nowMs = opts.nowMs ?? Date.now;
  }

  async request(
    node: string,
    requests: readonly ProvisionRequest[],
    deadlineMs: number,
  ): Promise<ReadonlyMap<string, ProvisionResult>> {
    const { client, keys } = this.o;
    const resultsKey = keys.provisionResults(node);
    const answers = new Map<string, ProvisionResult>();
    if (requests.length === 0) return answers;
    let from = await lastStreamId(client, resultsKey);
    for (const r of requests) {
      await client.xadd(
        keys.provisionRequests(node),
        'MAXLEN',
        '~',
        EVENTS_MAXLEN,
        '*',
        'request',
        JSON.stringify(r),
      );
    }
    const wanted = new Set(requests.map((r) => r.id));
    let pollMs = this.o.pollMinMs ?? 10;
    const pollMax = this.o.pollMaxMs ?? 100;
    for (;;) {
      const entries = (await client.xrange(resultsKey, from === '0-0' ? '-' : after(from), '+')) as [
        string,
        string[],
      ][];
      for (const [id, fields] of entries) {
        from = id;
        const text = streamField(fields, 'result');
        if (text === undefined) continue;
        const parsed = parseProvisionResult(text);
        if (!parsed.ok) {
          this.o.logger.warn({ node, id, problem: parsed.reason }, 'malformed provisioning result skipped');
          continue;
        }
        if (wanted.has(parsed.value.id) && parsed.value.node === node)
          answers.set(parsed.value.id, parsed.value);
      }
      if (answers.size === wanted.size) return answers;
      const left = deadlineMs - this.nowMs();
      if (left <= 0) return answers;
      await sleep(Math.min(pollMs, left));
      pollMs = Math.min(pollMax, pollMs * 2);
    }
  }
}

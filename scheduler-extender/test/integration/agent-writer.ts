/**
 * Writes to Redis what a node agent writes (contracts/src/redis-keys.ts, events.ts): the report
 * (SET), the heartbeat (SET PX), the node index (ZADD generation) and one event per change
 * (XADD MAXLEN ~). Test code standing in for the agent; it uses the contracts, not the extender.
 */
import { EVENTS_MAXLEN, type NodeEvent, type NodeReport, type RedisKeys } from '@rdmasched/contracts';
import type { Cluster, Redis } from 'ioredis';

export class AgentWriter {
  constructor(
    private readonly redis: Redis | Cluster,
    private readonly keys: RedisKeys,
  ) {}

  event(e: NodeEvent): Promise<string | null> {
    return this.redis.xadd(this.keys.events(), 'MAXLEN', '~', EVENTS_MAXLEN, '*', 'event', JSON.stringify(e));
  }

  /** Stores the report and its heartbeat, indexes the node, announces it. */
  async publish(
    report: NodeReport | string,
    opts: { node?: string; generation?: number; atMs?: number; heartbeat?: boolean } = {},
  ) {
    const node = typeof report === 'string' ? (opts.node ?? 'unknown') : report.nodeName;
    const generation = typeof report === 'string' ? (opts.generation ?? 1) : report.generation;
    const atMs = opts.atMs ?? Date.now();
    await this.redis.set(
      this.keys.report(node),
      typeof report === 'string' ? report : JSON.stringify(report),
    );
    if (opts.heartbeat !== false) await this.redis.set(this.keys.heartbeat(node), String(atMs), 'PX', 60_000);
    await this.redis.zadd(this.keys.nodeIndex(), generation, node);
    await this.event({ type: 'report', node, generation, atMs });
  }

  async heartbeat(node: string, generation: number, atMs = Date.now()) {
    await this.redis.set(this.keys.heartbeat(node), String(atMs), 'PX', 60_000);
    await this.event({ type: 'heartbeat', node, generation, atMs });
  }

  async remove(node: string) {
    await this.redis.del(this.keys.report(node), this.keys.heartbeat(node));
    await this.redis.zrem(this.keys.nodeIndex(), node);
    await this.event({ type: 'removed', node, generation: 0, atMs: Date.now() });
  }
}

/** Polls `check` until it holds (or throws after `timeoutMs`, naming `what`). */
export async function waitFor(check: () => boolean, what: string, timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!check()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

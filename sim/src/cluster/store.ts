/**
 * The store the agents and the extender share, as a cluster's Redis is shared:
 *
 * - `memory` (default): the agents' and the extender's in-memory adapters connected in this
 *   process. The ledger is the extender's InMemoryLedger (the Redis ledger's contract), which also
 *   offers the agents' side (holds, claims); its capacity summaries are the ones the agents
 *   publish with their reports. Reports reach the extender's topology store as they are
 *   published. Provisioning requests go to each agent's in-memory queue.
 * - `redis` (REDIS_URL): the agents use their Redis adapters (report, heartbeat, capacity hash,
 *   ledger claims, GUID pool, provisioning stream per node on its own blocking connection) and the
 *   extender its own (topology store and ledger mirror following the streams, the Lua ledger,
 *   provisioning over the node streams), all under a key prefix of this run, removed at the end.
 *
 * In both, the simulation keeps a copy of the latest reports (node objects, the kubelet, the
 * oracle) and follows the ledger with a mirror of its own (quota checks, the oracle).
 */
import { randomBytes } from 'node:crypto';
import type { Logger } from 'pino';
import { RedisKeys, type NodeReport, type PfCapacity, type ProvisionResult } from '@rdmasched/contracts';
import {
  DEFAULT_GUID_POOL_SIZE,
  DEFAULT_GUID_POOL_START,
  InMemoryAgentStateStore,
  InMemoryGuidPool,
  InMemoryProvisionQueue,
  RedisAgentStateStore,
  RedisGuidPool,
  RedisLedger as RedisAgentLedger,
  RedisProvisionQueue,
  RedisReportStore,
  connectRedis,
  type EmbeddedAgentPorts,
  type ProvisionQueue,
  type QueueEntry,
  type RedisConnection,
  type ReportStore,
} from '@rdmasched/node-agent';
import {
  InMemoryLedger,
  InMemoryProvisioningChannel,
  InMemoryTopologyStore,
  LedgerMirror,
  RedisLedger,
  RedisLedgerMirror,
  RedisProvisioningChannel,
  RedisTopologyStore,
  createRedisClient,
  systemClock,
  type Ledger,
  type ProvisioningChannel,
  type Snapshot,
} from '@rdmasched/scheduler-extender';

export interface ReportEntry {
  readonly report: NodeReport;
  readonly capacity: ReadonlyMap<string, PfCapacity>;
}

/** The agents' ReportStore, keeping the latest report of each node here and passing it on. */
export class TeeReportStore implements ReportStore {
  readonly latest = new Map<string, ReportEntry>();
  publishes = 0;
  private readonly listeners = new Set<(e: ReportEntry) => void>();
  private readonly heartbeatListeners = new Set<(node: string, atMs: number) => void>();

  constructor(private readonly next: ReportStore | undefined) {}

  onHeartbeat(listener: (node: string, atMs: number) => void): () => void {
    this.heartbeatListeners.add(listener);
    return () => this.heartbeatListeners.delete(listener);
  }

  onReport(listener: (e: ReportEntry) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  storedGeneration(node: string): Promise<number> {
    return (
      this.next?.storedGeneration(node) ?? Promise.resolve(this.latest.get(node)?.report.generation ?? 0)
    );
  }

  async publish(report: NodeReport, capacity: ReadonlyMap<string, PfCapacity>, ttlMs: number): Promise<void> {
    await this.next?.publish(report, capacity, ttlMs);
    const e = { report, capacity };
    this.latest.set(report.nodeName, e);
    this.publishes++;
    for (const l of this.listeners) l(e);
  }

  async heartbeat(node: string, generation: number, atMs: number, ttlMs: number): Promise<void> {
    await this.next?.heartbeat(node, generation, atMs, ttlMs);
    for (const l of this.heartbeatListeners) l(node, atMs);
  }
}

/** A ProvisionQueue that tells someone about every answer (the run counts provisioning). */
class CountingQueue implements ProvisionQueue {
  constructor(
    private readonly inner: ProvisionQueue,
    private readonly onAnswer: (r: ProvisionResult) => void,
  ) {}
  next(blockMs: number): Promise<readonly QueueEntry[]> {
    return this.inner.next(blockMs);
  }
  ack(entryId: string): Promise<void> {
    return this.inner.ack(entryId);
  }
  async answer(result: ProvisionResult): Promise<void> {
    await this.inner.answer(result);
    this.onAnswer(result);
  }
  close(): Promise<void> {
    return this.inner.close();
  }
}

export interface SimStore {
  readonly kind: 'memory' | 'redis';
  /** Where the Redis store lives (Redis mode): another thread can connect to the same keys. */
  readonly redis?: { readonly url: string; readonly keyPrefix: string };
  readonly reports: TeeReportStore;
  /** The extender's write side of the ledger. */
  readonly ledger: Ledger;
  readonly provisioning: ProvisioningChannel;
  /** The simulation's own mirror of the ledger (quota checks, the alignment oracle). */
  readonly observer: LedgerMirror;
  /** Ports of one node's agent; `onAnswer` hears each provisioning answer. */
  agentPorts(node: string, onAnswer: (r: ProvisionResult) => void): EmbeddedAgentPorts;
  /** Feeds an extender's snapshot and ledger mirror; resolves once both are loaded. */
  connectExtender(snapshot: Snapshot, mirror: LedgerMirror, logger: Logger): Promise<() => Promise<void>>;
  /** Resolves once the store answers (Redis connected); agents must not start before. */
  ready(): Promise<void>;
  /** Starts following the ledger with `observer` (after the agents published their reports). */
  start(logger: Logger): Promise<void>;
  close(): Promise<void>;
}

export function createMemoryStore(): SimStore {
  const reports = new TeeReportStore(undefined);
  const ledger = new InMemoryLedger({ capacity: (node) => reports.latest.get(node)?.capacity });
  const queues = new Map<string, InMemoryProvisionQueue>();
  const pool = new InMemoryGuidPool({ start: DEFAULT_GUID_POOL_START, size: DEFAULT_GUID_POOL_SIZE });
  const state = new InMemoryAgentStateStore();
  const observer = new LedgerMirror();
  const detach: (() => void)[] = [];
  return {
    kind: 'memory',
    ready: () => Promise.resolve(),
    reports,
    ledger,
    observer,
    provisioning: new InMemoryProvisioningChannel((node) => queues.get(node)),
    agentPorts: (node, onAnswer) => {
      const queue = new InMemoryProvisionQueue();
      queues.set(node, queue);
      return {
        reportStore: reports,
        ledger,
        pool,
        stateStore: state,
        queue: new CountingQueue(queue, onAnswer),
      };
    },
    connectExtender: async (snapshot, mirror) => {
      const topology = new InMemoryTopologyStore(snapshot, systemClock);
      for (const { report } of reports.latest.values())
        topology.publish(report, Date.parse(report.reportedAt));
      const stopReports = reports.onReport(({ report }) =>
        topology.publish(report, Date.parse(report.reportedAt)),
      );
      const stopHeartbeats = reports.onHeartbeat((node, atMs) => topology.heartbeat(node, atMs));
      await topology.start();
      const stopLedger = ledger.attach(mirror);
      return async () => {
        stopReports();
        stopHeartbeats();
        stopLedger();
        await topology.close();
      };
    },
    start: () => {
      detach.push(ledger.attach(observer));
      return Promise.resolve();
    },
    close: () => {
      for (const d of detach.splice(0)) d();
      return Promise.resolve();
    },
  };
}

/** Resolves when the client is connected (the adapters fail fast while it is not: no offline queue). */
async function connected(client: ReturnType<typeof createRedisClient>): Promise<void> {
  if (client.status === 'ready') return;
  // The extender's client connects lazily (on its first command).
  if (client.status === 'wait') {
    await client.connect();
    return;
  }
  await new Promise<void>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error('Redis did not answer within 10 s')), 10_000);
    client.once('ready', () => {
      clearTimeout(timer);
      resolve();
    });
  });
}

/** Deletes every key of the run (SCAN + UNLINK); a single Redis only. */
async function removeKeys(client: ReturnType<typeof createRedisClient>, prefix: string): Promise<void> {
  if (!('scanStream' in client)) return;
  const stream = client.scanStream({ match: `${prefix}:*`, count: 1000 });
  for await (const keys of stream as AsyncIterable<string[]>)
    if (keys.length > 0) await client.unlink(...keys);
}

export function createRedisStore(url: string, logger: Logger): SimStore {
  // A prefix of this run: several runs (and the tests) can share one Redis.
  const keys = new RedisKeys({ prefix: `rdmasched-sim-${randomBytes(4).toString('hex')}` });
  const agents: RedisConnection = connectRedis({ url, connectionName: 'rdmasched-sim-agents' });
  const extender = createRedisClient({ url, clusterNodes: [] }, { connectionName: 'rdmasched-sim-extender' });
  const log = logger.child({ component: 'sim-store' });
  extender.on('error', (err: Error) => log.warn({ err: err.message }, 'redis connection error (retrying)'));
  const reports = new TeeReportStore(new RedisReportStore(agents.client, keys));
  const agentLedger = new RedisAgentLedger(agents.client, keys);
  const pool = new RedisGuidPool(agents.client, keys, {
    start: DEFAULT_GUID_POOL_START,
    size: DEFAULT_GUID_POOL_SIZE,
  });
  const state = new RedisAgentStateStore(agents.client, keys);
  const blocking: ReturnType<RedisConnection['duplicate']>[] = [];
  const observer = new LedgerMirror();
  const followers: { close(): Promise<void> }[] = [];
  return {
    kind: 'redis',
    redis: { url, keyPrefix: keys.prefix },
    ready: async () => {
      await Promise.all([connected(agents.client), connected(extender)]);
    },
    reports,
    ledger: new RedisLedger({ client: extender, keys }),
    observer,
    provisioning: new RedisProvisioningChannel({ client: extender, keys, logger: log }),
    agentPorts: (node, onAnswer) => {
      // The agent reads its stream with XREADGROUP BLOCK: a connection of its own.
      const b = agents.duplicate();
      blocking.push(b);
      const queue = new RedisProvisionQueue({ client: agents.client, blockingClient: b, keys, node });
      return {
        reportStore: reports,
        ledger: agentLedger,
        pool,
        stateStore: state,
        queue: new CountingQueue(queue, onAnswer),
      };
    },
    connectExtender: async (snapshot, mirror, l) => {
      const topology = new RedisTopologyStore({ client: extender, keys, snapshot, logger: l });
      const follower = new RedisLedgerMirror({ client: extender, keys, mirror, logger: l });
      await Promise.all([topology.start(), follower.start()]);
      return async () => {
        await follower.close();
        await topology.close();
      };
    },
    start: async () => {
      const follower = new RedisLedgerMirror({ client: extender, keys, mirror: observer, logger: log });
      followers.push(follower);
      await follower.start();
    },
    close: async () => {
      for (const f of followers.splice(0)) await f.close();
      await removeKeys(extender, keys.prefix).catch((err: unknown) =>
        log.warn(
          { err: err instanceof Error ? err.message : String(err) },
          "could not remove the run's keys",
        ),
      );
      for (const b of blocking.splice(0)) b.disconnect();
      extender.disconnect();
      await agents.close();
    },
  };
}

/**
 * The simulated nodes: one in-memory simulated host per node (copy-on-write clones of one template
 * per preset, ADR 0025) and a real node agent on each, all in this process on injected ports.
 * Agents are started a batch at a time (each first discovery takes a few milliseconds), with
 * progress.
 */
import { randomUUID } from 'node:crypto';
import type { Logger } from 'pino';
import type { LinkType, ProvisionResult } from '@rdmasched/contracts';
import {
  DEFAULT_GUID_POOL_SIZE,
  DEFAULT_GUID_POOL_START,
  EmbeddedAgent,
  InMemoryAgentStateStore,
  InMemoryGuidPool,
  InMemoryLedger,
  SimulatedHostTemplates,
  createSimulatedHost,
  type HostEvent,
  type SimulatedHost,
} from '@rdmasched/node-agent';
import { AwaitableProvisionQueue, BridgedReportStore } from './bridge.js';
import type { NodePlan } from './node-mix.js';

export interface SimNode {
  readonly plan: NodePlan;
  readonly host: SimulatedHost;
  readonly agent: EmbeddedAgent;
  readonly queue: AwaitableProvisionQueue;
}

export interface FleetOptions {
  readonly plans: readonly NodePlan[];
  /** The agents' maxVfsPerPf. */
  readonly vfsPerPf: number;
  readonly logger: Logger;
  /** Agents started at once. */
  readonly concurrency?: number;
  readonly onProgress?: (started: number, total: number) => void;
  /** VFs created on a node (a `sriov_numvfs` write enabling `count` VFs). */
  readonly onVfsCreated?: (node: string, count: number) => void;
  readonly onProvisionAnswer?: (node: string, result: ProvisionResult) => void;
}

/** The shared in-memory store of the agents (the extender side is connected in bridge.ts). */
export interface EmbeddedStore {
  readonly ledger: InMemoryLedger;
  readonly reports: BridgedReportStore;
  readonly pool: InMemoryGuidPool;
  readonly state: InMemoryAgentStateStore;
}

export function createEmbeddedStore(): EmbeddedStore {
  return {
    ledger: new InMemoryLedger(),
    reports: new BridgedReportStore(),
    pool: new InMemoryGuidPool({ start: DEFAULT_GUID_POOL_START, size: DEFAULT_GUID_POOL_SIZE }),
    state: new InMemoryAgentStateStore(),
  };
}

export class Fleet {
  readonly nodes = new Map<string, SimNode>();

  private constructor() {}

  /** Creates every host and agent and starts the agents (first discovery and report). */
  static async start(opts: FleetOptions, store: EmbeddedStore): Promise<Fleet> {
    const fleet = new Fleet();
    const templates = new SimulatedHostTemplates();
    for (const plan of opts.plans) {
      const onEvent = (e: HostEvent) => {
        if (e.kind !== 'write' || !e.outcome.ok || !e.path.endsWith('/sriov_numvfs')) return;
        const n = Number(e.value.trim());
        if (Number.isInteger(n) && n > 0) opts.onVfsCreated?.(plan.name, n);
      };
      const host = createSimulatedHost({
        hostname: plan.name,
        preset: plan.preset,
        storage: { templates },
        options: { onEvent },
      });
      const queue = new AwaitableProvisionQueue((r) => opts.onProvisionAnswer?.(plan.name, r));
      const agent = new EmbeddedAgent({
        nodeName: plan.name,
        host,
        ports: {
          reportStore: store.reports,
          ledger: store.ledger,
          pool: store.pool,
          stateStore: store.state,
          queue,
        },
        settings: { maxVfsPerPf: opts.vfsPerPf },
        logger: opts.logger.child({ node: plan.name }),
      });
      fleet.nodes.set(plan.name, { plan, host, agent, queue });
    }
    const all = [...fleet.nodes.values()];
    const batch = opts.concurrency ?? 32;
    let started = 0;
    for (let i = 0; i < all.length; i += batch) {
      await Promise.all(all.slice(i, i + batch).map((n) => n.agent.start()));
      started = Math.min(all.length, i + batch);
      opts.onProgress?.(started, all.length);
    }
    return fleet;
  }

  get(node: string): SimNode | undefined {
    return this.nodes.get(node);
  }

  /**
   * Enables `vfsPerPf` configured VFs on every SR-IOV PF of every node, as a static
   * sriov-network-operator policy would (the count-only baseline's VFs), through the agents'
   * own provisioning (warm-pool requests). Returns the static VFs per node and link type.
   */
  async provisionStatically(
    vfsPerPf: number,
    reportOf: (
      node: string,
    ) =>
      | { pfs: readonly { pciAddress: string; linkType: LinkType; sriov: { maxVfs: number } | null }[] }
      | undefined,
    onProgress?: (done: number, total: number) => void,
  ): Promise<Map<string, Record<LinkType, number>>> {
    const out = new Map<string, Record<LinkType, number>>();
    const all = [...this.nodes.values()];
    let done = 0;
    const work = async (n: SimNode) => {
      const counts: Record<LinkType, number> = { ib: 0, roce: 0 };
      for (const pf of reportOf(n.plan.name)?.pfs ?? []) {
        if (pf.sriov === null || pf.sriov.maxVfs === 0) continue;
        const want = Math.min(vfsPerPf, pf.sriov.maxVfs);
        const id = randomUUID();
        const now = Date.now();
        n.queue.push(
          JSON.stringify({
            id,
            node: n.plan.name,
            pfPciAddress: pf.pciAddress,
            minReadyVfs: want,
            reason: 'warm-pool',
            requestedAtMs: now,
            deadlineMs: now + 600_000,
          }),
        );
        const r = await n.queue.waitFor(id, 600_000);
        if (r?.status === 'ready') counts[pf.linkType] += Math.min(want, r.readyVfs);
      }
      out.set(n.plan.name, counts);
      done++;
      onProgress?.(done, all.length);
    };
    const batch = 16;
    for (let i = 0; i < all.length; i += batch) await Promise.all(all.slice(i, i + batch).map(work));
    return out;
  }

  async stop(): Promise<void> {
    await Promise.all([...this.nodes.values()].map((n) => n.agent.stop()));
  }
}

/**
 * The simulated nodes: one in-memory simulated host per node (copy-on-write clones of one template
 * per preset, ADR 0025) and a real node agent on each, all in this process on injected ports.
 * Agents are started a batch at a time (each first discovery takes a few milliseconds), with
 * progress.
 */
import { randomUUID } from 'node:crypto';
import type { Logger } from 'pino';
import type { LinkType, NodeReport, ProvisionResult } from '@rdmasched/contracts';
import {
  EmbeddedAgent,
  SimulatedHostTemplates,
  createSimulatedHost,
  type HostEvent,
  type SimulatedHost,
} from '@rdmasched/node-agent';
import type { NodePlan } from './node-mix.js';
import type { SimStore } from './store.js';

export interface SimNode {
  readonly plan: NodePlan;
  readonly host: SimulatedHost;
  readonly agent: EmbeddedAgent;
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

export class Fleet {
  readonly nodes = new Map<string, SimNode>();

  private constructor(private readonly store: SimStore) {}

  /** Creates every host and agent and starts the agents (first discovery and report). */
  static async start(opts: FleetOptions, store: SimStore): Promise<Fleet> {
    const fleet = new Fleet(store);
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
      const agent = new EmbeddedAgent({
        nodeName: plan.name,
        host,
        ports: store.agentPorts(plan.name, (r) => opts.onProvisionAnswer?.(plan.name, r)),
        settings: { maxVfsPerPf: opts.vfsPerPf },
        logger: opts.logger.child({ node: plan.name }),
      });
      fleet.nodes.set(plan.name, { plan, host, agent });
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
   * Asks a node's agent for `minReadyVfs` configured VFs on a PF, as its warm pool would
   * (`reason: warm-pool`: the agent takes its own resize claim), and waits for the answer.
   * Returns the ready VFs the PF has afterwards (0 when the agent refused or failed).
   */
  async warm(node: string, pf: string, minReadyVfs: number): Promise<number> {
    if (!this.nodes.has(node)) return 0;
    const id = randomUUID();
    const now = Date.now();
    const deadlineMs = now + 600_000;
    const answers = await this.store.provisioning.request(
      node,
      [{ id, node, pfPciAddress: pf, minReadyVfs, reason: 'warm-pool', requestedAtMs: now, deadlineMs }],
      deadlineMs,
    );
    const r = answers.get(id);
    return r?.status === 'ready' ? r.readyVfs : 0;
  }

  /**
   * Enables `vfsPerPf` configured VFs on every SR-IOV PF of every node, as a static
   * sriov-network-operator policy would (the count-only baseline's VFs), through the agents'
   * own provisioning. Returns the static VFs per node and link type.
   */
  async provisionStatically(
    vfsPerPf: number,
    reportOf: (node: string) => NodeReport | undefined,
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
        counts[pf.linkType] += Math.min(want, await this.warm(n.plan.name, pf.pciAddress, want));
      }
      out.set(n.plan.name, counts);
      done++;
      onProgress?.(done, all.length);
    };
    await inBatches(all, 16, work);
    return out;
  }

  async stop(): Promise<void> {
    await Promise.all([...this.nodes.values()].map((n) => n.agent.stop()));
  }
}

/** Runs `work` on every item, `size` at a time. */
export async function inBatches<T>(
  items: readonly T[],
  size: number,
  work: (item: T) => Promise<void>,
): Promise<void> {
  for (let i = 0; i < items.length; i += size) await Promise.all(items.slice(i, i + size).map(work));
}

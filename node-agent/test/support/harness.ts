/**
 * Builds a node agent on a simulated host with in-memory ports (or given ones), for tests.
 * Builder style: `await agentHarness().preset('reference-host', { numVfs: 0 }).build()`.
 */
import { accessSync, constants, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pino } from 'pino';
import { Registry } from 'prom-client';
import type { Reservation } from '@rdmasched/contracts';
import { InMemoryGuidPool } from '../../src/adapters/memory/in-memory-guid-pool.js';
import { InMemoryLedger } from '../../src/adapters/memory/in-memory-ledger.js';
import {
  InMemoryAgentStateStore,
  InMemoryProvisionQueue,
  InMemoryReportStore,
} from '../../src/adapters/memory/in-memory-stores.js';
import { InMemoryVfUsage } from '../../src/adapters/memory/in-memory-vf-usage.js';
import { presetSpec, type PresetOptions } from '../../src/adapters/sim/presets.js';
import { SimulatedHost, type SimulatedHostOptions } from '../../src/adapters/sim/simulated-host.js';
import type { HostSpec } from '../../src/adapters/sim/spec.js';
import { DEFAULT_GUID_POOL_START } from '../../src/core/identity.js';
import type { WarmPoolPolicy } from '../../src/core/warm-pool.js';
import type { AgentStateStore } from '../../src/ports/agent-state-store.js';
import type { GuidPool } from '../../src/ports/guid-pool.js';
import type { HostControl } from '../../src/ports/host-control.js';
import type { AgentLedger } from '../../src/ports/ledger.js';
import type { PolicySource, PolicyStatusWriter } from '../../src/ports/policy-source.js';
import type { ProvisionQueue } from '../../src/ports/provision-queue.js';
import type { ReportStore } from '../../src/ports/report-store.js';
import { NodeAgent, type NodeAgentOptions } from '../../src/services/node-agent.js';
import { dyingHost, mortal, type Life } from './crash.js';

export const NODE = 'node-a';
export const silentLogger = pino({ level: 'silent' });

/** Where test trees go: tmpfs when the machine has one (30x faster for many small files). */
export function scratchBase(): string {
  try {
    accessSync('/dev/shm', constants.W_OK);
    return '/dev/shm';
  } catch {
    return tmpdir();
  }
}

/** A fresh empty directory for a simulated host; removed by `cleanup`. */
export function tempHostDir(): { dir: string; cleanup: () => void } {
  const base = mkdtempSync(join(scratchBase(), 'rdmasched-agent-'));
  return { dir: join(base, 'host'), cleanup: () => rmSync(base, { recursive: true, force: true }) };
}

export interface Harness {
  readonly sim: SimulatedHost;
  readonly usage: InMemoryVfUsage;
  readonly ledger: InMemoryLedger;
  readonly pool: InMemoryGuidPool;
  readonly states: InMemoryAgentStateStore;
  readonly reports: InMemoryReportStore;
  readonly queue: InMemoryProvisionQueue;
  readonly agent: NodeAgent;
  /** The current agent process; `dead` once it was killed. */
  readonly life: Life;
  /**
   * Kills the current agent (its ports stop working) and starts a new process on the same host and
   * stores. `dieAt` makes the new process die at its n-th host change.
   */
  restart(opts?: { dieAt?: { n: number; when: 'before' | 'after' } }): NodeAgent;
  cleanup(): void;
}

export class HarnessBuilder {
  #spec: HostSpec = presetSpec('reference-host', { numVfs: 0 });
  #sim: SimulatedHostOptions = {};
  #warm: WarmPoolPolicy = { minReady: { ib: 0, roce: 0 }, maxReady: { ib: undefined, roce: undefined } };
  #maxVfsPerPf = 0;
  #ports: {
    ledger?: AgentLedger;
    pool?: GuidPool;
    states?: AgentStateStore;
    reports?: ReportStore;
    queue?: ProvisionQueue;
  } = {};
  #node = NODE;
  #policy: { source: PolicySource; status?: PolicyStatusWriter } | undefined;
  #wrapLedger: ((l: InMemoryLedger) => AgentLedger) | undefined;

  preset(name: string, opts: PresetOptions = {}): this {
    this.#spec = presetSpec(name, opts);
    return this;
  }
  spec(spec: HostSpec): this {
    this.#spec = spec;
    return this;
  }
  simOptions(o: SimulatedHostOptions): this {
    this.#sim = o;
    return this;
  }
  warmPool(p: WarmPoolPolicy): this {
    this.#warm = p;
    return this;
  }
  maxVfsPerPf(n: number): this {
    this.#maxVfsPerPf = n;
    return this;
  }
  /** The agent sees the ledger through `wrap` (e.g. to race the extender against it); `h.ledger` stays the plain one. */
  wrapLedger(wrap: (l: InMemoryLedger) => AgentLedger): this {
    this.#wrapLedger = wrap;
    return this;
  }
  /** RdmaNodePolicy and the node's labels from `source`; this node's status entries to `status`. */
  policy(source: PolicySource, status?: PolicyStatusWriter): this {
    this.#policy = status === undefined ? { source } : { source, status };
    return this;
  }
  node(name: string): this {
    this.#node = name;
    return this;
  }
  ports(p: HarnessBuilder['_ports']): this {
    this.#ports = p;
    return this;
  }
  /** (type helper for ports()) */
  declare _ports: {
    ledger?: AgentLedger;
    pool?: GuidPool;
    states?: AgentStateStore;
    reports?: ReportStore;
    queue?: ProvisionQueue;
  };

  build(): Harness {
    const { dir, cleanup } = tempHostDir();
    const sim = SimulatedHost.create(dir, this.#spec, this.#sim);
    const usage = new InMemoryVfUsage();
    const ledger = new InMemoryLedger();
    const pool = new InMemoryGuidPool({ start: DEFAULT_GUID_POOL_START, size: 1n << 20n });
    const states = new InMemoryAgentStateStore();
    const reports = new InMemoryReportStore();
    const queue = new InMemoryProvisionQueue();
    const make = (host: HostControl, life: Life): NodeAgent =>
      new NodeAgent({
        nodeName: this.#node,
        agentVersion: 'test',
        reader: sim.reader(),
        host,
        usage: mortal(usage, life),
        ledger: mortal(this.#ports.ledger ?? this.#wrapLedger?.(ledger) ?? ledger, life),
        pool: mortal(this.#ports.pool ?? pool, life),
        stateStore: mortal(this.#ports.states ?? states, life),
        reportStore: mortal(this.#ports.reports ?? reports, life),
        queue: mortal(this.#ports.queue ?? queue, life),
        registry: new Registry(),
        logger: silentLogger,
        heartbeatIntervalMs: 1_000,
        discoveryIntervalMs: 1_000,
        warmPoolIntervalMs: 1_000,
        queueBlockMs: 10,
        warmPool: this.#warm,
        maxVfsPerPf: this.#maxVfsPerPf,
        vfDriver: 'mlx5_core',
        vfWaitTimeoutMs: 5_000,
        vfPollIntervalMs: 5,
        ...(this.#policy === undefined ? {} : { policy: this.#policy.source }),
        ...(this.#policy?.status === undefined ? {} : { policyStatus: this.#policy.status }),
        policyStatusIntervalMs: 100,
      } satisfies NodeAgentOptions);
    const first: Life = { dead: false };
    const h: Harness = {
      sim,
      usage,
      ledger,
      pool,
      states,
      reports,
      queue,
      life: first,
      agent: make(mortal(sim as HostControl, first), first),
      restart: (opts = {}) => {
        h.life.dead = true;
        // Locks are the agent's in-process state: a killed agent's locks die with it.
        usage.clearLocks();
        const life: Life = { dead: false };
        const host =
          opts.dieAt === undefined
            ? mortal(sim as HostControl, life)
            : dyingHost(sim, life, opts.dieAt.n, opts.dieAt.when).host;
        Object.assign(h, { life, agent: make(host, life) });
        queue.redeliver();
        return h.agent;
      },
      cleanup,
    };
    return h;
  }
}

export const agentHarness = (): HarnessBuilder => new HarnessBuilder();

/** A reservation record, as the extender's bind script writes it. */
export function makeReservation(podUid: string, pf: string, count: number, node = NODE): Reservation {
  return {
    podUid,
    namespace: 'team-a',
    podName: `pod-${podUid}`,
    tenant: 'team-a',
    node,
    pfs: [{ pfPciAddress: pf, linkType: 'ib', count }],
    gpus: [],
    state: 'pending',
    createdAtMs: 0,
    expiresAtMs: Number.MAX_SAFE_INTEGER,
  };
}

/** A provisioning request JSON. */
export function requestJson(
  fields: Partial<Record<string, unknown>> & { id: string; pfPciAddress: string; minReadyVfs: number },
): string {
  return JSON.stringify({
    node: NODE,
    reason: 'reservation',
    requestedAtMs: 1,
    deadlineMs: Number.MAX_SAFE_INTEGER,
    ...fields,
  });
}

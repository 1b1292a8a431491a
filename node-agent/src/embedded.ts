/**
 * The programmatic API for running many node agents in one process (the one-machine simulation,
 * tests, benchmarks): simulated hosts from a preset or spec, in memory or in a directory, and an
 * agent on each with injected ports. Nothing here opens a socket or touches the real host.
 *
 * The kubelet stand-in (`allocateVfs`/`releaseVfs`, `allocateGpus`/`releaseGpus`) plays what the
 * device plugin and the PodResources API do on a real node: it hands out configured VFs of an
 * unlocked PF (the agent's lock wins, as with the real plugin) and records which pod holds them.
 */
import { pino, type Logger } from 'pino';
import { Registry } from 'prom-client';
import type { LinkType } from '@rdmasched/contracts';
import { InMemoryGpuUsage } from './adapters/memory/in-memory-gpu-usage.js';
import { InMemoryVfUsage } from './adapters/memory/in-memory-vf-usage.js';
import { presetSpec, type PresetOptions } from './adapters/sim/presets.js';
import { SimulatedHost, type SimulatedHostOptions } from './adapters/sim/simulated-host.js';
import type { HostSpec } from './adapters/sim/spec.js';
import type { SimulatedHostTemplates } from './adapters/sim/templates.js';
import type { WarmPoolPolicy } from './core/warm-pool.js';
import { discover } from './discovery/discover.js';
import type { Discovery } from './discovery/types.js';
import type { AgentStateStore } from './ports/agent-state-store.js';
import type { Clock } from './ports/clock.js';
import type { GuidPool } from './ports/guid-pool.js';
import type { AgentLedger } from './ports/ledger.js';
import type { PolicySource, PolicyStatusWriter } from './ports/policy-source.js';
import type { ProvisionQueue } from './ports/provision-queue.js';
import type { ReportStore } from './ports/report-store.js';
import { NodeAgent } from './services/node-agent.js';
import { AGENT_VERSION } from './version.js';

export interface SimulatedHostRequest {
  /** Host name (RDMA node_desc, GPU UUIDs); usually the node name. */
  readonly hostname: string;
  /** A preset name (`dgx-h100`, `reference-host`, `roce-single`, `sriov-disabled`) ... */
  readonly preset?: string;
  /** ... with these sizes, */
  readonly sizes?: PresetOptions;
  /** ... or a whole spec (exactly one of preset and spec). */
  readonly spec?: HostSpec;
  /**
   * Where the host lives: in memory, sharing the template of its spec with every other host of
   * the same spec (fast, small: the choice for many hosts), or written into a directory (absent or
   * empty) that the CLI and `RDMASCHED_HOST_MODE=simulated` can open.
   */
  readonly storage: { readonly templates: SimulatedHostTemplates } | { readonly dir: string };
  /** Fault injection and hooks of the simulated kernel. */
  readonly options?: SimulatedHostOptions;
}

/** Creates a simulated host. Throws SpecError (every problem listed) for a bad preset or spec. */
export function createSimulatedHost(req: SimulatedHostRequest): SimulatedHost {
  if ((req.preset === undefined) === (req.spec === undefined))
    throw new Error('createSimulatedHost: give exactly one of preset and spec');
  const spec = req.spec ?? presetSpec(req.preset ?? '', req.sizes ?? {});
  const opts = req.options ?? {};
  return 'templates' in req.storage
    ? SimulatedHost.inMemory(spec, { ...opts, hostname: req.hostname, templates: req.storage.templates })
    : SimulatedHost.create(req.storage.dir, spec, { ...opts, hostname: req.hostname });
}

/** The agent's ports that a composition root injects (in-memory adapters or Redis ones). */
export interface EmbeddedAgentPorts {
  readonly reportStore: ReportStore;
  readonly ledger: AgentLedger;
  readonly pool: GuidPool;
  readonly stateStore: AgentStateStore;
  readonly queue: ProvisionQueue;
  /** VF usage; default a new InMemoryVfUsage, driven by `allocateVfs`/`releaseVfs`. */
  readonly usage?: InMemoryVfUsage;
  /** GPU usage; default a new InMemoryGpuUsage, driven by `allocateGpus`/`releaseGpus`. */
  readonly gpuUsage?: InMemoryGpuUsage;
}

/** Loop periods and provisioning settings; the defaults suit thousands of agents per process. */
export interface EmbeddedAgentSettings {
  /** Default 5 s. */
  readonly heartbeatIntervalMs: number;
  /** Default 300 s: every host change the agent makes, and every allocation, rediscovers anyway. */
  readonly discoveryIntervalMs: number;
  /** Default 15 s; with no warm pool configured the tick does nothing. */
  readonly warmPoolIntervalMs: number;
  /** How long one queue read waits (default 60 s; an in-memory queue wakes on push). */
  readonly queueBlockMs: number;
  /** Default: none (min 0, never shrink). */
  readonly warmPool: WarmPoolPolicy;
  /** Default 0 (sriov_totalvfs). */
  readonly maxVfsPerPf: number;
  /** Default 120 s. */
  readonly vfWaitTimeoutMs: number;
  /** Default 5 ms (the simulated kernel answers at once). */
  readonly vfPollIntervalMs: number;
}

export const EMBEDDED_AGENT_DEFAULTS: EmbeddedAgentSettings = {
  heartbeatIntervalMs: 5_000,
  discoveryIntervalMs: 300_000,
  warmPoolIntervalMs: 15_000,
  queueBlockMs: 60_000,
  warmPool: { minReady: { ib: 0, roce: 0 }, maxReady: { ib: undefined, roce: undefined } },
  maxVfsPerPf: 0,
  vfWaitTimeoutMs: 120_000,
  vfPollIntervalMs: 5,
};

export interface EmbeddedAgentOptions {
  readonly nodeName: string;
  readonly host: SimulatedHost;
  readonly ports: EmbeddedAgentPorts;
  readonly settings?: Partial<EmbeddedAgentSettings>;
  /** The agent's metrics registry (default a new one: metric names are per process). */
  readonly registry?: Registry;
  /** Default silent. */
  readonly logger?: Logger;
  readonly clock?: Clock;
  /** Called after every discovery pass the agent makes (e.g. to watch VFs appear). */
  readonly onDiscovery?: (discovery: Discovery) => void;
  /**
   * RdmaNodePolicy and the node's labels (e.g. an `InMemoryPolicySource`); without it the
   * settings above apply to every SR-IOV PF.
   */
  readonly policy?: PolicySource;
  /** Where this node's entry in each selecting policy's status goes (e.g. `InMemoryPolicyStatusWriter`). */
  readonly policyStatus?: PolicyStatusWriter;
}

export type VfAllocationOutcome =
  { readonly ok: true; readonly vfs: readonly string[] } | { readonly ok: false; readonly reason: string };

const SILENT = pino({ level: 'silent' });

/** A node agent on a simulated host, with a kubelet stand-in for VFs and GPUs. */
export class EmbeddedAgent {
  readonly nodeName: string;
  readonly host: SimulatedHost;
  readonly agent: NodeAgent;
  readonly usage: InMemoryVfUsage;
  readonly gpus: InMemoryGpuUsage;
  readonly registry: Registry;
  #discovery: Discovery | undefined;
  #started = false;

  constructor(opts: EmbeddedAgentOptions) {
    const s = { ...EMBEDDED_AGENT_DEFAULTS, ...opts.settings };
    this.nodeName = opts.nodeName;
    this.host = opts.host;
    this.usage = opts.ports.usage ?? new InMemoryVfUsage();
    this.gpus = opts.ports.gpuUsage ?? new InMemoryGpuUsage();
    this.registry = opts.registry ?? new Registry();
    this.agent = new NodeAgent({
      nodeName: opts.nodeName,
      agentVersion: AGENT_VERSION,
      reader: opts.host.reader(),
      host: opts.host,
      usage: this.usage,
      gpuUsage: this.gpus,
      ledger: opts.ports.ledger,
      pool: opts.ports.pool,
      stateStore: opts.ports.stateStore,
      reportStore: opts.ports.reportStore,
      queue: opts.ports.queue,
      registry: this.registry,
      logger: opts.logger ?? SILENT,
      ...(opts.clock === undefined ? {} : { clock: opts.clock }),
      heartbeatIntervalMs: s.heartbeatIntervalMs,
      discoveryIntervalMs: s.discoveryIntervalMs,
      warmPoolIntervalMs: s.warmPoolIntervalMs,
      queueBlockMs: s.queueBlockMs,
      warmPool: s.warmPool,
      maxVfsPerPf: s.maxVfsPerPf,
      vfDriver: 'mlx5_core',
      vfWaitTimeoutMs: s.vfWaitTimeoutMs,
      vfPollIntervalMs: s.vfPollIntervalMs,
      ...(opts.policy === undefined ? {} : { policy: opts.policy }),
      ...(opts.policyStatus === undefined ? {} : { policyStatus: opts.policyStatus }),
      onDiscovery: (d) => {
        this.#discovery = d;
        opts.onDiscovery?.(d);
      },
    });
  }

  /** Discovers, publishes the first report and starts the loops (recovery, queue, warm pool). */
  async start(): Promise<void> {
    if (this.#started) return;
    this.#started = true;
    await this.agent.start();
  }

  /** Stops the loops and waits for the work in progress; the host stays as it is. */
  async stop(): Promise<void> {
    if (!this.#started) return;
    this.#started = false;
    await this.agent.stop();
  }

  /** The latest discovery the agent made (undefined before the first). */
  get discovery(): Discovery | undefined {
    return this.#discovery;
  }

  /** One warm-pool step now (the loop runs it on its interval too). */
  warmPoolTick(): Promise<void> {
    return this.agent.warmPoolTick();
  }

  /** Rediscovers and publishes when something changed. */
  refresh(): Promise<void> {
    return this.agent.refreshAndReport();
  }

  /**
   * The kubelet admits a container with `count` VFs of `linkType` for `podUid`: configured VFs
   * nobody uses, of PFs that are not locked for a resize, from `pf` when given (all or nothing),
   * else the lowest addresses. Reads the host now (not the agent's last discovery).
   */
  async allocateVfs(req: {
    readonly linkType: LinkType;
    readonly count: number;
    readonly podUid: string | null;
    readonly pf?: string;
  }): Promise<VfAllocationOutcome> {
    if (!Number.isInteger(req.count) || req.count < 1)
      return { ok: false, reason: 'count must be at least 1' };
    const d = await discover(this.host.reader());
    const inUse = this.usage.inUse();
    const free = d.pfs
      .filter((p) => p.linkType === req.linkType && (req.pf === undefined || p.pciAddress === req.pf))
      .filter((p) => p.portState === 'ACTIVE' && !this.usage.isLocked(p.pciAddress))
      .flatMap((p) =>
        p.vfs.filter((v) => v.configured && !inUse.has(v.pciAddress)).map((v) => ({ pf: p, vf: v })),
      );
    if (free.length < req.count)
      return {
        ok: false,
        reason: `${free.length} free ready ${req.linkType} VF(s)${req.pf === undefined ? '' : ` on ${req.pf}`}, ${req.count} asked`,
      };
    const chosen = free.slice(0, req.count);
    const taken: string[] = [];
    for (const c of chosen) {
      if (!this.usage.allocate({ vf: c.vf.pciAddress, pf: c.pf.pciAddress, podUid: req.podUid })) {
        for (const vf of taken) this.usage.release(vf);
        return { ok: false, reason: `${c.vf.pciAddress} was taken or its PF locked meanwhile` };
      }
      taken.push(c.vf.pciAddress);
    }
    return { ok: true, vfs: taken };
  }

  /** The container ended: its VFs are free again (by VF address, or every VF of a pod). */
  releaseVfs(which: { readonly vfs: readonly string[] } | { readonly podUid: string }): number {
    const vfs =
      'vfs' in which
        ? which.vfs
        : [...this.usage.inUse().values()].filter((a) => a.podUid === which.podUid).map((a) => a.vf);
    let n = 0;
    for (const vf of vfs)
      if (this.usage.inUse().has(vf)) {
        this.usage.release(vf);
        n++;
      }
    return n;
  }

  /** GPUs (PCI addresses) allocated to a container, as the PodResources API would say. */
  allocateGpus(gpus: readonly string[]): void {
    for (const g of gpus) this.gpus.allocate(g);
  }

  releaseGpus(gpus: readonly string[]): void {
    for (const g of gpus) this.gpus.release(g);
  }
}

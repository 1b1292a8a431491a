/**
 * The node agent: wires discovery, reporting, provisioning, the warm pool and recovery around
 * the ports, and runs their loops. All host-changing work runs under one mutex, so the agent does
 * one thing to the host at a time and every decision sees a fresh snapshot.
 */
import type { Logger } from 'pino';
import type { Registry } from 'prom-client';
import type { VfState } from '@rdmasched/contracts';
import { buildReportBody } from '../core/report.js';
import { assignVfStates } from '../core/vf-states.js';
import type { WarmPoolPolicy } from '../core/warm-pool.js';
import { parseUnsigned } from '../core/sysfs-values.js';
import { GuardedHost } from '../host/guarded-host.js';
import { AgentMetrics, type PortCounterSample } from '../metrics.js';
import type { AgentStateStore } from '../ports/agent-state-store.js';
import { systemClock, type Clock } from '../ports/clock.js';
import type { Discovery } from '../discovery/types.js';
import { NO_GPU_USAGE, type GpuUsage } from '../ports/gpu-usage.js';
import type { GuidPool } from '../ports/guid-pool.js';
import type { HostControl } from '../ports/host-control.js';
import type { AgentLedger } from '../ports/ledger.js';
import type { ProvisionQueue } from '../ports/provision-queue.js';
import type { ReportStore } from '../ports/report-store.js';
import type { SysfsReader } from '../ports/sysfs-reader.js';
import type { VfUsage } from '../ports/vf-usage.js';
import { AgentNotes, type AgentContext, type AgentSettings } from './agent-context.js';
import { HostView } from './host-view.js';
import { NodeSettings } from './node-settings.js';
import type { PolicySource, PolicyStatusWriter } from '../ports/policy-source.js';
import { PolicyStatusReporter } from './policy-status.js';
import { applyVfMtu, wantsMtu } from './vf-mtu.js';
import { Provisioner } from './provisioner.js';
import { recover, type RecoveryReport } from './recovery.js';
import { Reporter } from './reporter.js';
import { Resizer } from './resizer.js';
import { VfConfigurator } from './vf-configurator.js';
import { WarmPoolService } from './warm-pool-service.js';

export interface NodeAgentOptions extends AgentSettings {
  readonly nodeName: string;
  readonly agentVersion: string;
  readonly reader: SysfsReader;
  /** The raw host adapter (SysfsHost or SimulatedHost); the agent wraps it in its guard. */
  readonly host: HostControl;
  readonly usage: VfUsage;
  readonly ledger: AgentLedger;
  readonly pool: GuidPool;
  readonly stateStore: AgentStateStore;
  readonly reportStore: ReportStore;
  readonly queue: ProvisionQueue;
  readonly registry: Registry;
  readonly logger: Logger;
  readonly clock?: Clock;
  readonly heartbeatIntervalMs: number;
  readonly discoveryIntervalMs: number;
  readonly warmPoolIntervalMs: number;
  /** How long one queue read blocks. */
  readonly queueBlockMs: number;
  /** The configured warm pool; a RdmaNodePolicy that selects the node replaces it. */
  readonly warmPool: WarmPoolPolicy;
  /**
   * RdmaNodePolicy and node labels (docs: README "RdmaNodePolicy"); without it the configuration
   * (maxVfsPerPf, warmPool) applies to every SR-IOV PF.
   */
  readonly policy?: PolicySource;
  /** Where this node's entry in each selecting policy's status goes (none: not written). */
  readonly policyStatus?: PolicyStatusWriter;
  /** Least time between two status writes of one policy (default 10 s). */
  readonly policyStatusIntervalMs?: number;
  /** Store connection events, to republish after a reconnect. */
  readonly storeEvents?: { onReconnect(listener: () => void): () => void };
  /** GPUs allocated to containers (default: none known). */
  readonly gpuUsage?: GpuUsage;
  /**
   * Called after every discovery pass the agent makes (its report refreshes), with what it read;
   * the device plugin advertises from it. Must not throw or block.
   */
  readonly onDiscovery?: (discovery: Discovery) => void;
}

type StateCounts = Record<VfState | 'unconfigured', number>;

export class NodeAgent {
  readonly ctx: AgentContext;
  readonly metrics: AgentMetrics;
  readonly reporter: Reporter;
  readonly resizer: Resizer;
  readonly provisioner: Provisioner;
  readonly warmPool: WarmPoolService;
  /** The provisioning settings in force (configuration or RdmaNodePolicy), per PF. */
  readonly settings: NodeSettings;
  #mutex: Promise<unknown> = Promise.resolve();
  #recovered = false;
  #stopping = new AbortController();
  #loops: Promise<void>[] = [];
  #vfStates: ReadonlyMap<string, StateCounts> = new Map();
  #unsubscribe: (() => void)[] = [];
  #refreshQueued = false;
  readonly #status: PolicyStatusReporter | undefined;

  constructor(private readonly opts: NodeAgentOptions) {
    const clock = opts.clock ?? systemClock;
    this.metrics = new AgentMetrics(opts.registry);
    const claimed = new Set<string>();
    this.settings = new NodeSettings({ maxVfsPerPf: opts.maxVfsPerPf, warmPool: opts.warmPool }, opts.policy);
    const view = new HostView({
      settings: this.settings,
      nodeName: opts.nodeName,
      reader: opts.reader,
      ledger: opts.ledger,
      usage: opts.usage,
      metrics: this.metrics,
    });
    const host = new GuardedHost(opts.host, {
      discovery: () => view.discovery,
      reader: opts.reader,
      usage: opts.usage,
      claimed: () => claimed,
      limits: this.settings,
      vfDriver: opts.vfDriver,
      onRefused: (what, reason) => {
        this.metrics.guardRefusals.inc();
        opts.logger.error({ what, reason }, 'host change refused by the safety guard');
      },
    });
    this.ctx = {
      nodeName: opts.nodeName,
      reader: opts.reader,
      host,
      usage: opts.usage,
      ledger: opts.ledger,
      pool: opts.pool,
      view,
      configurator: new VfConfigurator({
        nodeName: opts.nodeName,
        host,
        pool: opts.pool,
        vfDriver: opts.vfDriver,
      }),
      notes: new AgentNotes(opts.stateStore, opts.nodeName),
      metrics: this.metrics,
      logger: opts.logger,
      clock,
      settings: {
        maxVfsPerPf: opts.maxVfsPerPf,
        vfDriver: opts.vfDriver,
        vfWaitTimeoutMs: opts.vfWaitTimeoutMs,
        vfPollIntervalMs: opts.vfPollIntervalMs,
      },
      claimed,
      resizing: new Set(),
      limits: this.settings,
      pfErrors: new Map(),
      mtuRefused: new Set(),
    };
    this.reporter = new Reporter({
      nodeName: opts.nodeName,
      store: opts.reportStore,
      heartbeatIntervalMs: opts.heartbeatIntervalMs,
      clock,
      metrics: this.metrics,
      logger: opts.logger,
    });
    this.resizer = new Resizer(this.ctx);
    this.#status =
      opts.policyStatus === undefined
        ? undefined
        : new PolicyStatusReporter({
            nodeName: opts.nodeName,
            writer: opts.policyStatus,
            minIntervalMs: opts.policyStatusIntervalMs ?? 10_000,
            clock,
            logger: opts.logger,
          });
    this.provisioner = new Provisioner(this.ctx, this.resizer, opts.queue);
    this.warmPool = new WarmPoolService(this.ctx, this.resizer, () => this.settings.warmPool);
    this.metrics.attach({
      portCounters: () => this.#portCounters(),
      vfStates: () => this.#vfStates,
      lastPublishMs: () => this.reporter.lastPublishMs,
      nowMs: () => clock.nowMs(),
    });
  }

  /** Runs `fn` when no other host work runs. */
  exclusive<T>(fn: () => Promise<T>): Promise<T> {
    const run = this.#mutex.then(fn, fn);
    this.#mutex = run.catch(() => undefined);
    return run;
  }

  /** Writes the pending policy status entries now (tests, shutdown paths). */
  flushPolicyStatus(): Promise<void> {
    return this.#status?.flush() ?? Promise.resolve();
  }

  /** Recovered from the last run and the store holds the latest report. */
  isReady(): boolean {
    return this.#recovered && this.reporter.inSync;
  }

  get recovered(): boolean {
    return this.#recovered;
  }

  /** Discovers and publishes when something changed. Safe to call any time. */
  refreshAndReport(): Promise<void> {
    return this.exclusive(() => this.#refreshAndReport());
  }

  async #refreshAndReport(): Promise<void> {
    const snap = await this.ctx.view.refresh();
    try {
      this.opts.onDiscovery?.(snap.discovery);
    } catch (err: unknown) {
      this.opts.logger.error({ err: (err as Error).message }, 'discovery listener failed');
    }
    const body = buildReportBody(snap.discovery, {
      nodeName: this.opts.nodeName,
      agentVersion: this.opts.agentVersion,
      heartbeatIntervalMs: this.opts.heartbeatIntervalMs,
      maxVfs: (pf) => this.settings.maxVfs(pf),
      resizing: this.ctx.resizing,
      reserved: snap.holds.reserved,
      inUse: snap.inUse,
      reservations: snap.reservations,
      allocatedGpus: (this.opts.gpuUsage ?? NO_GPU_USAGE).allocated(),
    });
    const counts = new Map<string, StateCounts>();
    for (const pf of snap.discovery.pfs) {
      const { states } = assignVfStates({
        pf: pf.pciAddress,
        vfs: pf.vfs,
        reservedCount: snap.holds.reserved.get(pf.pciAddress) ?? 0,
        inUse: snap.inUse,
        reservations: snap.reservations,
      });
      const c: StateCounts = { free: 0, reserved: 0, 'in-use': 0, unconfigured: 0 };
      for (const vf of pf.vfs) {
        const s = states.get(vf.pciAddress)?.state ?? 'free';
        if (s === 'free' && !vf.configured) c.unconfigured++;
        else c[s]++;
      }
      counts.set(pf.pciAddress, c);
    }
    this.#vfStates = counts;
    for (const w of snap.discovery.warnings) this.opts.logger.debug({ warning: w }, 'discovery');
    await this.reporter.offer(body);
    if (this.#status !== undefined) {
      const view = this.opts.policy?.current();
      const selecting = new Set(this.settings.current.selecting.map((p) => p.metadata.name));
      const stale =
        view?.state === 'synced'
          ? view.policies
              .filter(
                (p) =>
                  !selecting.has(p.metadata.name) &&
                  (p.status?.nodes ?? []).some((n) => n.nodeName === this.opts.nodeName),
              )
              .map((p) => p.metadata.name ?? '')
          : [];
      this.#status.offer(this.settings.current, snap.discovery, this.ctx.pfErrors, stale);
    }
  }

  /** Start-up convergence (see recovery.ts), under the mutex. Throws when the store is unreachable. */
  async recover(): Promise<RecoveryReport> {
    const r = await this.exclusive(() => recover(this.ctx, this.resizer));
    this.#recovered = true;
    this.opts.logger.info({ ...r }, 'recovered');
    await this.refreshAndReport();
    return r;
  }

  /** Reads the queue once and handles what came; returns how many entries were handled. */
  async processQueueOnce(blockMs = this.opts.queueBlockMs): Promise<number> {
    const entries = await this.opts.queue.next(blockMs);
    for (const e of entries) {
      await this.exclusive(() => this.provisioner.handle(e));
      await this.refreshAndReport();
    }
    return entries.length;
  }

  /** Sets the policy MTU on VFs that differ (nothing at all when no policy sets an MTU). */
  async mtuTick(): Promise<void> {
    if (!wantsMtu(this.ctx)) return;
    const changed = await this.exclusive(async () => {
      await this.ctx.view.refresh({ ledger: false });
      return applyVfMtu(this.ctx);
    });
    if (changed > 0) await this.refreshAndReport();
  }

  /** One warm-pool step (nothing at all, not even a discovery, when no warm pool is configured). */
  async warmPoolTick(): Promise<void> {
    if (this.warmPool.idle) return;
    await this.exclusive(() => this.warmPool.tick());
    await this.refreshAndReport();
  }

  /** Starts every loop; returns once the first report was attempted. */
  async start(): Promise<void> {
    const signal = this.#stopping.signal;
    const clock = this.ctx.clock;
    const log = this.opts.logger;
    await this.refreshAndReport().catch((err: unknown) =>
      log.error({ err: (err as Error).message }, 'first discovery failed'),
    );
    const every = (ms: number, what: string, fn: () => Promise<unknown>) =>
      (async () => {
        while (!signal.aborted) {
          await clock.sleep(ms, signal);
          if (signal.aborted) break;
          await fn().catch((err: unknown) =>
            log.error({ err: (err as Error).message, loop: what }, 'loop step failed'),
          );
        }
      })();
    this.#loops.push(every(this.opts.heartbeatIntervalMs, 'heartbeat', () => this.reporter.heartbeat()));
    this.#loops.push(every(this.opts.discoveryIntervalMs, 'discovery', () => this.refreshAndReport()));
    const soon = () => {
      if (this.#refreshQueued) return;
      this.#refreshQueued = true;
      void clock.sleep(50, signal).then(() => {
        this.#refreshQueued = false;
        return this.refreshAndReport().catch(() => undefined);
      });
    };
    this.#unsubscribe.push(this.opts.usage.onChange(soon));
    if (this.opts.policy !== undefined)
      this.#unsubscribe.push(
        this.opts.policy.onChange(() => {
          this.settings.recompute();
          soon();
        }),
      );
    if (this.opts.gpuUsage !== undefined) this.#unsubscribe.push(this.opts.gpuUsage.onChange(soon));
    if (this.opts.storeEvents !== undefined)
      this.#unsubscribe.push(
        this.opts.storeEvents.onReconnect(() => {
          log.info('store reconnected; republishing');
          void this.reporter.reconnected();
        }),
      );
    this.#loops.push(
      (async () => {
        while (!signal.aborted && !this.#recovered) {
          try {
            await this.recover();
          } catch (err: unknown) {
            log.warn({ err: (err as Error).message }, 'recovery needs Redis; retrying');
            await clock.sleep(Math.min(5_000, this.opts.heartbeatIntervalMs), signal);
          }
        }
        const work: Promise<void>[] = [];
        work.push(
          (async () => {
            while (!signal.aborted) {
              try {
                await this.processQueueOnce();
              } catch (err: unknown) {
                log.warn({ err: (err as Error).message }, 'provisioning queue unavailable; retrying');
                await clock.sleep(1_000, signal);
              }
            }
          })(),
        );
        work.push(
          every(this.opts.warmPoolIntervalMs, 'warm-pool', async () => {
            await this.mtuTick();
            await this.warmPoolTick();
          }),
        );
        await Promise.all(work);
      })(),
    );
  }

  /** Stops the loops, waits for the work in progress, and leaves the host as it is. */
  async stop(): Promise<void> {
    this.#stopping.abort();
    for (const u of this.#unsubscribe.splice(0)) u();
    await this.opts.queue.close();
    await Promise.allSettled(this.#loops.splice(0));
    await this.exclusive(() => Promise.resolve());
    await this.#status?.stop();
  }

  async #portCounters(): Promise<PortCounterSample[]> {
    const r = this.opts.reader;
    const out: PortCounterSample[] = [];
    for (const pf of this.ctx.view.discovery?.pfs ?? []) {
      if (pf.rdmaDevice === null || pf.port === null) continue;
      const base = `bus/pci/devices/${pf.pciAddress}/infiniband/${pf.rdmaDevice}/ports/${pf.port}/counters`;
      const [tx, rx, txp, rxp] = await Promise.all(
        ['port_xmit_data', 'port_rcv_data', 'port_xmit_packets', 'port_rcv_packets'].map(async (n) =>
          parseUnsigned(await r.read(`${base}/${n}`)),
        ),
      );
      if (tx === undefined && rx === undefined) continue;
      out.push({
        pf: pf.pciAddress,
        device: pf.rdmaDevice,
        linkType: pf.linkType,
        // port_xmit_data / port_rcv_data count octets divided by 4 (reference §3.1).
        xmitBytes: (tx ?? 0) * 4,
        rcvBytes: (rx ?? 0) * 4,
        xmitPackets: txp ?? 0,
        rcvPackets: rxp ?? 0,
      });
    }
    return out;
  }
}

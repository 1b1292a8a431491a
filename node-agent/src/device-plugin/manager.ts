/**
 * The node agent's kubelet device plugins: one `DevicePluginServer` per VF resource
 * (`rdmasched.io/ib-vf`, `rdmasched.io/roce-vf`) around one shared inventory and one
 * `DevicePluginVfUsage`, plus the reconcile loop against the kubelet's PodResources API.
 *
 * Inventory updates: `update(discovery)` after every discovery the agent makes (the hook), and a
 * slow rediscovery of its own (`rediscoverIntervalMs`, default 10 s) as a safety net; a PF lock or
 * unlock re-advertises health at once. Nothing polls sysfs in a tight loop.
 */
import type { Logger } from 'pino';
import type { Registry } from 'prom-client';
import { LINK_TYPES, VF_RESOURCE, isPciAddress, type LinkType } from '@rdmasched/contracts';
import { discover } from '../discovery/discover.js';
import type { Discovery } from '../discovery/types.js';
import { systemClock, type Clock } from '../ports/clock.js';
import type { SysfsReader } from '../ports/sysfs-reader.js';
import type { AllocatedDevicesSource, KubeletAssignment } from './allocated-devices.js';
import { DEFAULT_DEVICE_PLUGIN_DIR, loadDevicePluginApi, pluginSocketName } from './api.js';
import { DirectoryWatcher } from './directory-watcher.js';
import { EMPTY_INVENTORY, inventoryFromDiscovery, type Inventory } from './inventory.js';
import { DevicePluginMetrics } from './metrics.js';
import { reconcileOnce, type ReconcileOutcome } from './reconcile.js';
import { NO_RESERVATION_HINTS, type ReservationHints } from './reservation-hints.js';
import { DevicePluginServer, type PluginContext } from './server.js';
import { DevicePluginVfUsage } from './vf-usage.js';

export interface DevicePluginManagerOptions {
  /** sysfs of the host (the agent's reader): discovery and char-device lookup. */
  readonly reader: SysfsReader;
  /** The kubelet's device-plugins directory (default /var/lib/kubelet/device-plugins). */
  readonly pluginDir?: string;
  /** Where this process sees the host's /dev (default /dev; `/host/dev` in a container). */
  readonly devRoot?: string;
  /** Which VF resources to serve (default both link types). */
  readonly linkTypes?: readonly LinkType[];
  /** The kubelet's view of assigned devices: `PodResourcesClient` in production. */
  readonly allocatedDevices: AllocatedDevicesSource;
  /** Reservations for preferred allocation (default none). */
  readonly reservationHints?: ReservationHints;
  /** The usage to record into; pass the same one to the NodeAgent (default: a new one). */
  readonly usage?: DevicePluginVfUsage;
  /** Reconcile period (default 10 s). */
  readonly reconcileIntervalMs?: number;
  /** An allocation is never released before it is this old (default 30 s). */
  readonly releaseGraceMs?: number;
  /** Own rediscovery period (default 10 s; 0 = only `update()` and `refresh()`). */
  readonly rediscoverIntervalMs?: number;
  /** Fallback check of the plugin directory (default 5 s). */
  readonly kubeletCheckIntervalMs?: number;
  /** Deadline of one Register call (default 5 s). */
  readonly registerTimeoutMs?: number;
  /** Optional pod UID lookup (namespace, name); the PodResources API does not give UIDs. */
  readonly resolvePodUid?: (namespace: string, name: string) => Promise<string | null> | string | null;
  /** Told every successful PodResources answer (all resources): GPU allocations. */
  readonly onKubeletAssignments?: (list: readonly KubeletAssignment[]) => Promise<void> | void;
  /**
   * After an Allocate, ask the kubelet again this soon (default 2 s) so the new allocation is
   * named (pod, UID) well before the next periodic reconcile; 0 disables.
   */
  readonly nameAfterAllocateMs?: number;
  readonly registry: Registry;
  readonly logger: Logger;
  readonly clock?: Clock;
}

export class DevicePluginManager {
  readonly usage: DevicePluginVfUsage;
  readonly metrics: DevicePluginMetrics;
  readonly servers: ReadonlyMap<LinkType, DevicePluginServer>;
  readonly pluginDir: string;
  readonly #opts: DevicePluginManagerOptions;
  readonly #log: Logger;
  readonly #clock: Clock;
  readonly #watcher: DirectoryWatcher;
  #inventory: Inventory = EMPTY_INVENTORY;
  #timers: NodeJS.Timeout[] = [];
  #unsubscribe: (() => void)[] = [];
  #refreshing: Promise<void> | undefined;
  #reconciling: Promise<ReconcileOutcome> | undefined;
  #nameTimer: NodeJS.Timeout | undefined;
  #started = false;

  constructor(opts: DevicePluginManagerOptions) {
    this.#opts = opts;
    this.#log = opts.logger;
    this.#clock = opts.clock ?? systemClock;
    this.pluginDir = opts.pluginDir ?? DEFAULT_DEVICE_PLUGIN_DIR;
    const linkTypes = [...new Set(opts.linkTypes ?? LINK_TYPES)];
    this.usage = opts.usage ?? new DevicePluginVfUsage({ nowMs: () => this.#clock.nowMs() });
    this.metrics = new DevicePluginMetrics(
      opts.registry,
      linkTypes.map((t) => VF_RESOURCE[t]),
    );
    const context: PluginContext = {
      inventory: () => this.#inventory,
      usage: this.usage,
      hints: opts.reservationHints ?? NO_RESERVATION_HINTS,
      reader: opts.reader,
      devRoot: opts.devRoot ?? '/dev',
      metrics: this.metrics,
      api: loadDevicePluginApi(),
      requestRefresh: () => void this.refresh(),
    };
    const servers = new Map<LinkType, DevicePluginServer>();
    for (const t of linkTypes)
      servers.set(
        t,
        new DevicePluginServer({
          resourceName: VF_RESOURCE[t],
          linkType: t,
          dir: this.pluginDir,
          socketName: pluginSocketName(VF_RESOURCE[t]),
          ...(opts.registerTimeoutMs === undefined ? {} : { registerTimeoutMs: opts.registerTimeoutMs }),
          context,
          logger: opts.logger,
        }),
      );
    this.servers = servers;
    this.#watcher = new DirectoryWatcher({
      dir: this.pluginDir,
      checkIntervalMs: opts.kubeletCheckIntervalMs ?? 5_000,
      logger: opts.logger,
    });
  }

  /** The inventory the plugins advertise now. */
  get inventory(): Inventory {
    return this.#inventory;
  }

  /**
   * Discovers, starts every plugin (listen + register; registration retries in the background
   * when the kubelet is not there yet) and the reconcile and rediscovery loops.
   */
  async start(): Promise<void> {
    if (this.#started) return;
    this.#started = true;
    await this.refresh();
    this.#unsubscribe.push(this.usage.onLockChange(() => this.#publish()));
    this.#unsubscribe.push(this.usage.onChange(() => this.#countInUse()));
    this.#unsubscribe.push(this.usage.onChange(() => this.#nameSoon()));
    this.#unsubscribe.push(this.#watcher.onChange(() => this.#ensureAll()));
    this.#watcher.start();
    await Promise.all([...this.servers.values()].map((s) => s.start()));
    void this.reconcile();
    this.#every(this.#opts.reconcileIntervalMs ?? 10_000, () => void this.reconcile());
    this.#every(this.#opts.rediscoverIntervalMs ?? 10_000, () => void this.refresh());
  }

  async stop(): Promise<void> {
    this.#started = false;
    for (const t of this.#timers.splice(0)) clearInterval(t);
    clearTimeout(this.#nameTimer);
    this.#nameTimer = undefined;
    for (const u of this.#unsubscribe.splice(0)) u();
    this.#watcher.stop();
    await Promise.all([...this.servers.values()].map((s) => s.stop()));
    await this.#refreshing;
    await this.#reconciling;
    this.#opts.allocatedDevices.close?.();
  }

  /** The update hook: the agent calls it with every discovery it makes. */
  update(discovery: Discovery): void {
    this.#inventory = inventoryFromDiscovery(discovery);
    this.#publish();
  }

  /** Rediscovers the host now (coalesced) and re-advertises what changed. */
  refresh(): Promise<void> {
    this.#refreshing ??= (async () => {
      try {
        this.update(await discover(this.#opts.reader));
      } catch (err: unknown) {
        this.#log.error(
          { err: err instanceof Error ? err.message : String(err) },
          'device plugin discovery failed',
        );
      } finally {
        this.#refreshing = undefined;
      }
    })();
    return this.#refreshing;
  }

  /** One reconcile with the kubelet now (coalesced). */
  reconcile(): Promise<ReconcileOutcome> {
    this.#reconciling ??= reconcileOnce({
      source: this.#opts.allocatedDevices,
      usage: this.usage,
      resources: new Set([...this.servers.values()].map((s) => s.resourceName)),
      pfOf: (vf) => this.#pfOf(vf),
      nowMs: () => this.#clock.nowMs(),
      graceMs: this.#opts.releaseGraceMs ?? 30_000,
      ...(this.#opts.resolvePodUid === undefined ? {} : { resolvePodUid: this.#opts.resolvePodUid }),
      ...(this.#opts.onKubeletAssignments === undefined
        ? {}
        : { onAssignments: this.#opts.onKubeletAssignments }),
      metrics: this.metrics,
      logger: this.#log,
    }).finally(() => {
      this.#reconciling = undefined;
    });
    return this.#reconciling;
  }

  /** Resolves once the first reconcile succeeded (PF locks are refused until then). */
  whenSynced(): Promise<void> {
    return this.usage.whenSynced();
  }

  async #pfOf(vf: string): Promise<string | undefined> {
    const known = this.#inventory.vfs.get(vf)?.pf;
    if (known !== undefined) return known;
    const link = await this.#opts.reader.readLink(`bus/pci/devices/${vf}/physfn`);
    const pf = link?.slice(link.lastIndexOf('/') + 1);
    return pf !== undefined && isPciAddress(pf) ? pf : undefined;
  }

  #publish(): void {
    for (const s of this.servers.values()) s.publish();
  }

  /** An allocation the kubelet has not named yet: ask again soon (coalesced). */
  #nameSoon(): void {
    const after = this.#opts.nameAfterAllocateMs ?? 2_000;
    if (!this.#started || after <= 0 || this.#nameTimer !== undefined) return;
    if (![...this.usage.inUse().values()].some((a) => a.namespace === null)) return;
    this.#nameTimer = setTimeout(() => {
      this.#nameTimer = undefined;
      void this.reconcile();
    }, after);
    this.#nameTimer.unref();
  }

  #countInUse(): void {
    const byResource = new Map<string, number>();
    for (const a of this.usage.inUse().values())
      byResource.set(a.resource, (byResource.get(a.resource) ?? 0) + 1);
    for (const s of this.servers.values())
      this.metrics.vfsInUse.set({ resource: s.resourceName }, byResource.get(s.resourceName) ?? 0);
  }

  #ensureAll(): void {
    for (const s of this.servers.values())
      void s
        .ensure()
        .catch((err: unknown) =>
          this.#log.error(
            { resource: s.resourceName, err: err instanceof Error ? err.message : String(err) },
            'device plugin could not listen',
          ),
        );
  }

  #every(ms: number, fn: () => void): void {
    if (ms <= 0) return;
    const t = setInterval(fn, ms);
    t.unref();
    this.#timers.push(t);
  }
}

/**
 * One kubelet device plugin (one extended resource, e.g. `rdmasched.io/ib-vf`): a real gRPC
 * server (`v1beta1.DevicePlugin`) on a unix socket in the kubelet's device-plugins directory,
 * registered with the kubelet over `kubelet.sock`, and registered again whenever the kubelet
 * restarts (it deletes the plugin sockets and creates `kubelet.sock` anew).
 */
import { rm, stat } from 'node:fs/promises';
import { join } from 'node:path';
import {
  Client,
  Metadata,
  Server,
  ServerCredentials,
  credentials,
  status,
  type sendUnaryData,
  type ServerUnaryCall,
  type ServerWritableStream,
  type ServiceError,
  type UntypedServiceImplementation,
} from '@grpc/grpc-js';
import { SpanStatusCode, trace } from '@opentelemetry/api';
import type { Logger } from 'pino';
import { isPciAddress, type LinkType } from '@rdmasched/contracts';
import type { SysfsReader } from '../ports/sysfs-reader.js';
import {
  DEVICE_PLUGIN_API_VERSION,
  KUBELET_SOCKET_NAME,
  pciDeviceEnvName,
  resourceEnvSuffix,
  type AllocateRequest,
  type AllocateResponse,
  type ContainerAllocateResponse,
  type Device,
  type DevicePluginApi,
  type DevicePluginOptions,
  type Empty,
  type ListAndWatchResponse,
  type PreferredAllocationRequest,
  type PreferredAllocationResponse,
  type PreStartContainerRequest,
  type RegisterRequest,
} from './api.js';
import { RDMA_CM_PATH, hasRdmaCm, rdmaDeviceOf, readCharDeviceIndex } from './char-devices.js';
import { AllocateRefusal } from './codes.js';
import { deviceList, sameDeviceList, vfHealth, vfsOfLinkType, type Inventory } from './inventory.js';
import type { DevicePluginMetrics } from './metrics.js';
import { preferAllocation, type PreferenceVf } from './preferred-allocation.js';
import type { ReservationHints } from './reservation-hints.js';
import type { AllocationEntry, DevicePluginVfUsage } from './vf-usage.js';

/** Environment variable listing the RDMA devices (`mlx5_2,mlx5_3`) of the container's VFs. */
export const RDMA_DEVICES_ENV = 'RDMASCHED_RDMA_DEVICES';

/** What every plugin of the node shares: the inventory, the usage, the host. */
export interface PluginContext {
  inventory(): Inventory;
  readonly usage: DevicePluginVfUsage;
  readonly hints: ReservationHints;
  readonly reader: SysfsReader;
  /** Where this process sees the host's /dev (rdma_cm check only). */
  readonly devRoot: string;
  readonly metrics: DevicePluginMetrics;
  readonly api: DevicePluginApi;
  /** The inventory may be stale (an Allocate found a VF not ready): rediscover soon. */
  requestRefresh(): void;
}

export interface DevicePluginServerOptions {
  readonly resourceName: string;
  readonly linkType: LinkType;
  /** The kubelet's device-plugins directory. */
  readonly dir: string;
  /** File name of this plugin's socket in `dir`. */
  readonly socketName: string;
  /** Deadline of one Register call (default 5 s). */
  readonly registerTimeoutMs?: number;
  /** Longest wait between Register retries (default 30 s). */
  readonly maxRetryDelayMs?: number;
  readonly context: PluginContext;
  readonly logger: Logger;
}

const PLUGIN_OPTIONS: DevicePluginOptions = {
  pre_start_required: false,
  get_preferred_allocation_available: true,
};

const tracer = trace.getTracer('@rdmasched/node-agent/device-plugin');

export class DevicePluginServer {
  readonly resourceName: string;
  readonly linkType: LinkType;
  readonly socketPath: string;
  readonly #opts: DevicePluginServerOptions;
  readonly #ctx: PluginContext;
  readonly #log: Logger;
  #server: Server | undefined;
  /** dev:ino of the socket this process bound; a different or missing file means the kubelet removed it. */
  #socketId: string | undefined;
  /** Identity of the kubelet.sock we registered with. */
  #registeredWith: string | undefined;
  readonly #streams = new Map<ServerWritableStream<Empty, ListAndWatchResponse>, Device[]>();
  #ensuring: Promise<void> | undefined;
  #ensureAgain = false;
  #retryTimer: NodeJS.Timeout | undefined;
  #retryDelayMs = 0;
  #stopped = true;

  constructor(opts: DevicePluginServerOptions) {
    this.#opts = opts;
    this.#ctx = opts.context;
    this.resourceName = opts.resourceName;
    this.linkType = opts.linkType;
    this.socketPath = join(opts.dir, opts.socketName);
    this.#log = opts.logger.child({ resource: opts.resourceName });
  }

  /** True after a successful Register with the kubelet that is running now. */
  get registered(): boolean {
    return this.#registeredWith !== undefined;
  }

  /** Listens, then registers (retrying in the background when the kubelet is not there yet). */
  async start(): Promise<void> {
    this.#stopped = false;
    await this.ensure();
  }

  /**
   * Converges to "listening on our socket and registered with the current kubelet": rebinds when
   * the socket file was removed, registers when kubelet.sock is new. Serial; safe to call often.
   */
  ensure(): Promise<void> {
    if (this.#ensuring !== undefined) {
      this.#ensureAgain = true;
      return this.#ensuring;
    }
    this.#ensuring = (async () => {
      try {
        do {
          this.#ensureAgain = false;
          await this.#ensureOnce();
        } while (this.#ensureAgain && !this.#stopped);
      } finally {
        this.#ensuring = undefined;
      }
    })();
    return this.#ensuring;
  }

  async #ensureOnce(): Promise<void> {
    if (this.#stopped) return;
    if (this.#server === undefined || (await fileId(this.socketPath)) !== this.#socketId) {
      if (this.#server !== undefined)
        this.#log.info('plugin socket removed (kubelet restart?); listening again');
      this.#registeredWith = undefined;
      try {
        await this.#listen();
      } catch (err: unknown) {
        // e.g. the directory does not exist yet: the next directory check tries again.
        this.#log.warn({ socket: this.socketPath, err: errorText(err) }, 'device plugin cannot listen yet');
        return;
      }
    }
    const kubelet = await fileId(join(this.#opts.dir, KUBELET_SOCKET_NAME));
    if (kubelet === undefined) {
      if (this.#registeredWith !== undefined) this.#log.warn('kubelet.sock is gone; waiting for the kubelet');
      this.#registeredWith = undefined;
      return;
    }
    if (kubelet === this.#registeredWith || this.#retryTimer !== undefined) return;
    try {
      await this.#register();
      this.#registeredWith = kubelet;
      this.#retryDelayMs = 0;
      this.#ctx.metrics.registrations.inc({ resource: this.resourceName, result: 'ok' });
      this.#log.info({ endpoint: this.#opts.socketName }, 'registered with the kubelet');
    } catch (err: unknown) {
      this.#ctx.metrics.registrations.inc({ resource: this.resourceName, result: 'error' });
      this.#retryDelayMs = Math.min(
        this.#opts.maxRetryDelayMs ?? 30_000,
        Math.max(250, this.#retryDelayMs * 2),
      );
      this.#log.warn(
        { err: errorText(err), retryInMs: this.#retryDelayMs },
        'registration with the kubelet failed; retrying',
      );
      this.#retryTimer = setTimeout(() => {
        this.#retryTimer = undefined;
        void this.ensure();
      }, this.#retryDelayMs);
      this.#retryTimer.unref();
    }
  }

  async #listen(): Promise<void> {
    await this.#closeServer();
    // Only our own socket path is ever removed (a stale one from a previous run).
    await rm(this.socketPath, { force: true });
    const server = new Server();
    server.addService(this.#ctx.api.devicePlugin, this.#handlers());
    await new Promise<number>((resolve, reject) =>
      server.bindAsync(`unix:${this.socketPath}`, ServerCredentials.createInsecure(), (err, port) =>
        err === null ? resolve(port) : reject(err),
      ),
    );
    this.#server = server;
    this.#socketId = await fileId(this.socketPath);
    this.#log.debug({ socket: this.socketPath }, 'device plugin listening');
  }

  async #register(): Promise<void> {
    const api = this.#ctx.api;
    const client = new Client(
      `unix:${join(this.#opts.dir, KUBELET_SOCKET_NAME)}`,
      credentials.createInsecure(),
    );
    const req: RegisterRequest = {
      version: DEVICE_PLUGIN_API_VERSION,
      endpoint: this.#opts.socketName,
      resource_name: this.resourceName,
      options: PLUGIN_OPTIONS,
    };
    try {
      await new Promise<void>((resolve, reject) => {
        client.makeUnaryRequest(
          api.register.path,
          api.register.requestSerialize,
          api.register.responseDeserialize,
          req,
          new Metadata(),
          { deadline: Date.now() + (this.#opts.registerTimeoutMs ?? 5_000) },
          (err: ServiceError | null) => (err === null ? resolve() : reject(err)),
        );
      });
    } finally {
      client.close();
    }
  }

  /** Sends the device list to every open ListAndWatch stream whose last list differs. */
  publish(): void {
    const list = this.#deviceList();
    const healthy = list.filter((d) => d.health === 'Healthy').length;
    this.#ctx.metrics.devices.set({ resource: this.resourceName, health: 'Healthy' }, healthy);
    this.#ctx.metrics.devices.set(
      { resource: this.resourceName, health: 'Unhealthy' },
      list.length - healthy,
    );
    for (const [call, last] of this.#streams) {
      if (sameDeviceList(last, list)) continue;
      this.#streams.set(call, list);
      call.write({ devices: list });
    }
  }

  /** Open ListAndWatch streams (for tests and status). */
  get watchers(): number {
    return this.#streams.size;
  }

  async stop(): Promise<void> {
    this.#stopped = true;
    clearTimeout(this.#retryTimer);
    this.#retryTimer = undefined;
    await this.#ensuring?.catch(() => undefined);
    await this.#closeServer();
    if (this.#socketId !== undefined && (await fileId(this.socketPath)) === this.#socketId)
      await rm(this.socketPath, { force: true });
    this.#socketId = undefined;
    this.#registeredWith = undefined;
  }

  async #closeServer(): Promise<void> {
    for (const call of this.#streams.keys()) call.end();
    this.#streams.clear();
    const server = this.#server;
    this.#server = undefined;
    if (server === undefined) return;
    // The streams are ended; a graceful shutdown would wait for the kubelet to hang up.
    server.forceShutdown();
    await Promise.resolve();
  }

  #deviceList(): Device[] {
    const usage = this.#ctx.usage;
    return deviceList(this.#ctx.inventory(), this.linkType, (pf) => usage.isLocked(pf));
  }

  // ------------------------------------------------------------------ gRPC handlers

  #handlers(): UntypedServiceImplementation {
    return {
      GetDevicePluginOptions: (
        _call: ServerUnaryCall<Empty, DevicePluginOptions>,
        cb: sendUnaryData<DevicePluginOptions>,
      ) => cb(null, PLUGIN_OPTIONS),
      ListAndWatch: (call: ServerWritableStream<Empty, ListAndWatchResponse>) => this.#listAndWatch(call),
      GetPreferredAllocation: (
        call: ServerUnaryCall<PreferredAllocationRequest, PreferredAllocationResponse>,
        cb: sendUnaryData<PreferredAllocationResponse>,
      ) => this.#preferred(call.request, cb),
      Allocate: (
        call: ServerUnaryCall<AllocateRequest, AllocateResponse>,
        cb: sendUnaryData<AllocateResponse>,
      ) => void this.#allocateCall(call.request, cb),
      PreStartContainer: (
        _call: ServerUnaryCall<PreStartContainerRequest, Empty>,
        cb: sendUnaryData<Empty>,
      ) => cb(null, {}),
    };
  }

  #listAndWatch(call: ServerWritableStream<Empty, ListAndWatchResponse>): void {
    const list = this.#deviceList();
    this.#streams.set(call, list);
    const forget = () => this.#streams.delete(call);
    call.on('cancelled', forget);
    call.on('error', forget);
    call.on('close', forget);
    call.write({ devices: list });
    this.#log.debug({ devices: list.length }, 'kubelet is watching the device list');
  }

  #preferred(req: PreferredAllocationRequest, cb: sendUnaryData<PreferredAllocationResponse>): void {
    const span = tracer.startSpan('device-plugin GetPreferredAllocation', {
      attributes: { 'rdmasched.resource': this.resourceName },
    });
    try {
      const vfs = new Map<string, PreferenceVf>();
      for (const vf of vfsOfLinkType(this.#ctx.inventory(), this.linkType)) vfs.set(vf.id, vf);
      const inUseByPf = new Map<string, number>();
      for (const a of this.#ctx.usage.inUse().values()) inUseByPf.set(a.pf, (inUseByPf.get(a.pf) ?? 0) + 1);
      const outstandingByPf = this.#ctx.hints.outstandingByPf();
      const container_responses = req.container_requests.map((r) => ({
        deviceIDs: preferAllocation({
          available: r.available_deviceIDs,
          mustInclude: r.must_include_deviceIDs,
          size: r.allocation_size,
          vfs,
          outstandingByPf,
          inUseByPf,
        }),
      }));
      this.#ctx.metrics.preferredAllocations.inc({ resource: this.resourceName }, container_responses.length);
      this.#log.debug(
        { requests: req.container_requests, answer: container_responses },
        'preferred allocation',
      );
      cb(null, { container_responses });
    } finally {
      span.end();
    }
  }

  async #allocateCall(req: AllocateRequest, cb: sendUnaryData<AllocateResponse>): Promise<void> {
    const span = tracer.startSpan('device-plugin Allocate', {
      attributes: { 'rdmasched.resource': this.resourceName },
    });
    try {
      const container_responses = await this.allocate(req);
      cb(null, { container_responses });
    } catch (err: unknown) {
      span.setStatus({ code: SpanStatusCode.ERROR, message: errorText(err) });
      if (err instanceof AllocateRefusal) {
        this.#ctx.metrics.allocationFailures.inc({ resource: this.resourceName, reason: err.code });
        this.#log.warn({ code: err.code, reason: err.detail }, 'allocation refused');
        if (
          err.code === 'VF_NOT_READY' ||
          err.code === 'RDMA_DEVICE_MISSING' ||
          err.code === 'UNKNOWN_DEVICE'
        )
          this.#ctx.requestRefresh();
        // The kubelet should learn the truth: its list may predate a lock or a health change.
        this.publish();
        cb({ code: err.grpcStatus, details: err.message });
      } else {
        this.#log.error({ err: errorText(err) }, 'allocation failed');
        cb({ code: status.INTERNAL, details: `rdmasched device plugin: ${errorText(err)}` });
      }
    } finally {
      span.end();
    }
  }

  /**
   * Allocate: validates every device of every container, finds each VF's RDMA char devices, then
   * records the allocation atomically against PF locks. Refuses (AllocateRefusal) the whole request
   * on the first problem; nothing is recorded then.
   */
  async allocate(req: AllocateRequest): Promise<ContainerAllocateResponse[]> {
    const r = this.resourceName;
    if (req.container_requests.length === 0)
      throw new AllocateRefusal('MALFORMED_REQUEST', `${r}: Allocate without container requests`);
    const inv = this.#ctx.inventory();
    const usage = this.#ctx.usage;
    const seen = new Set<string>();
    const entries: AllocationEntry[] = [];
    for (const [i, c] of req.container_requests.entries()) {
      if (c.devices_ids.length === 0)
        throw new AllocateRefusal('MALFORMED_REQUEST', `${r}: container request ${i} names no device`);
      for (const id of c.devices_ids) {
        if (seen.has(id))
          throw new AllocateRefusal(
            'MALFORMED_REQUEST',
            `${r}: device ${JSON.stringify(id)} is requested twice`,
          );
        seen.add(id);
        const vf = isPciAddress(id) ? inv.vfs.get(id) : undefined;
        if (vf?.linkType !== this.linkType)
          throw new AllocateRefusal(
            'UNKNOWN_DEVICE',
            `${r}: ${JSON.stringify(id.slice(0, 64))} is not a VF of this resource on this node`,
          );
        const h = vfHealth(vf, usage.isLocked(vf.pf));
        if (!h.healthy)
          throw h.reason === 'PF_LOCKED'
            ? new AllocateRefusal(
                'PF_LOCKED',
                `${r}: VF ${id} is on PF ${vf.pf}, which is locked for a resize`,
              )
            : new AllocateRefusal(
                'VF_NOT_READY',
                `${r}: VF ${id} is not ready (${h.reason === 'NOT_CONFIGURED' ? 'not configured' : `port of PF ${vf.pf} not ACTIVE`})`,
              );
        entries.push({ vf: id, pf: vf.pf, resource: r });
      }
    }
    const [index, rdmaCm, rdmaDevices] = await Promise.all([
      readCharDeviceIndex(this.#ctx.reader),
      hasRdmaCm(this.#ctx.devRoot),
      Promise.all(entries.map((e) => rdmaDeviceOf(this.#ctx.reader, e.vf))),
    ]);
    const rdmaOf = new Map<string, string>();
    for (const [i, e] of entries.entries()) {
      const dev = rdmaDevices[i];
      if (dev === undefined)
        throw new AllocateRefusal('RDMA_DEVICE_MISSING', `${r}: VF ${e.vf} has no RDMA device in sysfs`);
      if (!(index.get(dev) ?? []).some((p) => /\/uverbs[0-9]+$/.test(p)))
        throw new AllocateRefusal(
          'RDMA_DEVICE_MISSING',
          `${r}: RDMA device ${dev} of VF ${e.vf} has no uverbs character device`,
        );
      rdmaOf.set(e.vf, dev);
    }
    const responses = req.container_requests.map((c) => {
      const devs = c.devices_ids.map((id) => rdmaOf.get(id) ?? '');
      const paths = devs.flatMap((d) => index.get(d) ?? []);
      if (rdmaCm) paths.push(RDMA_CM_PATH);
      return {
        envs: {
          [pciDeviceEnvName(r)]: c.devices_ids.join(','),
          [RDMA_DEVICES_ENV]: devs.join(','),
          [`${RDMA_DEVICES_ENV}_${resourceEnvSuffix(r)}`]: devs.join(','),
        },
        mounts: [],
        devices: [...new Set(paths)].map((p) => ({ container_path: p, host_path: p, permissions: 'rw' })),
        annotations: {},
        cdi_devices: [],
      };
    });
    // Atomic against tryLockPf: a lock taken while the char devices were read wins here.
    const recorded = usage.tryAllocate(entries);
    if (!recorded.ok)
      throw new AllocateRefusal(
        'PF_LOCKED',
        `${r}: VF ${recorded.vf} is on PF ${recorded.lockedPf}, which was locked for a resize`,
      );
    this.#ctx.metrics.allocations.inc({ resource: r }, responses.length);
    this.#ctx.metrics.allocatedVfs.inc({ resource: r }, entries.length);
    this.#log.info({ vfs: entries.map((e) => e.vf) }, 'allocated VFs to a container');
    return responses;
  }
}

/**
 * Identity of a file (`dev:ino:birth time`), or undefined when it does not exist. A socket that
 * was deleted and created again is a different file, even if the inode number is reused (the
 * birth time differs where the filesystem records it).
 */
async function fileId(path: string): Promise<string | undefined> {
  try {
    const s = await stat(path);
    return `${s.dev}:${s.ino}:${Math.trunc(s.birthtimeMs)}`;
  } catch {
    return undefined;
  }
}

function errorText(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}

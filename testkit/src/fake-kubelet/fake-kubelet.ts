/**
 * A stand-in for the kubelet's device manager and PodResources server, speaking the real gRPC
 * protocols over unix sockets in a directory of its own:
 *
 * - serves `v1beta1.Registration` on `<root>/device-plugins/kubelet.sock`; on Register it checks
 *   the version and resource name as the kubelet does, answers, then dials the plugin's endpoint,
 *   asks GetDevicePluginOptions and consumes ListAndWatch (the latest list is the truth);
 * - `allocate()` admits one container like the device manager: healthy devices not allocated yet
 *   (optionally all on one NUMA node, as the Topology Manager's single-numa-node policy), then
 *   GetPreferredAllocation when the plugin offers it (the answer is a hint: invalid IDs are
 *   dropped and the rest filled in), then Allocate;
 * - serves `v1.PodResourcesLister/List` on `<root>/pod-resources/kubelet.sock` from its
 *   allocations, and never tells a plugin that a container ended (`release()` only forgets);
 * - `restart()` does what a kubelet restart does to plugins: deletes every socket in the plugin
 *   directory and creates `kubelet.sock` anew; allocations survive (the kubelet checkpoints them).
 *
 * Test code: never shipped.
 */
import { EventEmitter } from 'node:events';
import { mkdir, mkdtemp, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  Client,
  Metadata,
  Server,
  ServerCredentials,
  credentials,
  status,
  type ClientReadableStream,
  type sendUnaryData,
  type ServerUnaryCall,
  type ServiceError,
} from '@grpc/grpc-js';
import {
  KUBELET_CHECKPOINT,
  KUBELET_SOCKET,
  SUPPORTED_DEVICE_PLUGIN_VERSIONS,
  isExtendedResourceName,
  loadKubeletApis,
  type ContainerAllocateResponse,
  type Device,
  type DevicePluginOptions,
  type Empty,
  type KubeletApis,
  type ListAndWatchResponse,
  type ListPodResourcesResponse,
  type RegisterRequest,
} from './api.js';

export interface FakeKubeletOptions {
  /** Directory holding `device-plugins/` and `pod-resources/`; default a new temp dir (removed by stop). */
  readonly rootDir?: string;
  /** Where the `.proto` files are (default `node-agent/proto/` of this repository). */
  readonly protoDir?: string;
  /** Deadline of each call to a plugin (default 5 s). */
  readonly callTimeoutMs?: number;
}

export interface RegisteredPlugin {
  readonly resource: string;
  readonly endpoint: string;
  readonly version: string;
  /** From the RegisterRequest: what the kubelet acts on. */
  readonly options: DevicePluginOptions;
  /** What GetDevicePluginOptions answered; null until answered. */
  optionsAnswered: DevicePluginOptions | null;
  /** The latest ListAndWatch list. */
  devices: Device[];
  /** Lists received on the stream so far. */
  updates: number;
  /** The ListAndWatch stream is open. */
  connected: boolean;
}

export interface RegistrationRecord {
  readonly request: RegisterRequest;
  /** null when accepted, else the kubelet's error message. */
  readonly rejected: string | null;
  readonly generation: number;
}

export interface AllocateOptions {
  readonly count: number;
  readonly namespace?: string;
  readonly pod?: string;
  readonly container?: string;
  /** Devices the container must get (inherited from an init container): `must_include_deviceIDs`. */
  readonly mustInclude?: readonly string[];
  /** Topology Manager `single-numa-node`: every device from one NUMA node, or admission fails. */
  readonly singleNumaNode?: boolean;
}

export interface KubeletAllocation {
  readonly namespace: string;
  readonly pod: string;
  readonly container: string;
  readonly resource: string;
  readonly deviceIds: readonly string[];
  /** GetPreferredAllocation's answer; null when the plugin does not offer it. */
  readonly preferred: readonly string[] | null;
  readonly response: ContainerAllocateResponse;
}

/** Admission failed: no plugin, too few devices, topology, or the plugin refused (gRPC `code`). */
export class FakeKubeletAllocateError extends Error {
  constructor(
    message: string,
    readonly code: status | null = null,
  ) {
    super(message);
    this.name = 'FakeKubeletAllocateError';
  }
}

interface PluginConnection extends RegisteredPlugin {
  client: Client;
  stream: ClientReadableStream<ListAndWatchResponse> | undefined;
}

export class FakeKubeletDeviceManager {
  readonly rootDir: string;
  /** `<root>/device-plugins`: give this to the plugin as its directory. */
  readonly pluginDir: string;
  /** `<root>/pod-resources/kubelet.sock`. */
  readonly podResourcesSocket: string;
  /** Every Register call received, accepted or not, in order. */
  readonly registrations: RegistrationRecord[] = [];
  /** Incremented by every restart. */
  generation = 0;
  readonly #apis: KubeletApis;
  readonly #ownsRoot: boolean;
  readonly #callTimeoutMs: number;
  readonly #plugins = new Map<string, PluginConnection>();
  #allocations: KubeletAllocation[] = [];
  readonly #events = new EventEmitter();
  #registration: Server | undefined;
  #podResources: Server | undefined;

  private constructor(rootDir: string, ownsRoot: boolean, opts: FakeKubeletOptions) {
    this.rootDir = rootDir;
    this.#ownsRoot = ownsRoot;
    this.pluginDir = join(rootDir, 'device-plugins');
    this.podResourcesSocket = join(rootDir, 'pod-resources', KUBELET_SOCKET);
    this.#apis = loadKubeletApis(opts.protoDir);
    this.#callTimeoutMs = opts.callTimeoutMs ?? 5_000;
    this.#events.setMaxListeners(0);
  }

  static async start(opts: FakeKubeletOptions = {}): Promise<FakeKubeletDeviceManager> {
    const root = opts.rootDir ?? (await mkdtemp(join(tmpdir(), 'rdmasched-kubelet-')));
    const k = new FakeKubeletDeviceManager(root, opts.rootDir === undefined, opts);
    await mkdir(k.pluginDir, { recursive: true });
    await mkdir(join(root, 'pod-resources'), { recursive: true });
    await k.#startServers();
    return k;
  }

  /** The plugin registered for a resource now (the latest registration wins, as in the kubelet). */
  plugin(resource: string): RegisteredPlugin | undefined {
    return this.#plugins.get(resource);
  }

  /** The latest device list of a resource ([] when no plugin). */
  devices(resource: string): Device[] {
    return this.#plugins.get(resource)?.devices ?? [];
  }

  /** Healthy devices of a resource that are not allocated, sorted by ID. */
  freeDevices(resource: string): Device[] {
    const used = this.#allocatedIds(resource);
    return this.devices(resource)
      .filter((d) => d.health === 'Healthy' && !used.has(d.ID))
      .sort((a, b) => (a.ID < b.ID ? -1 : a.ID > b.ID ? 1 : 0));
  }

  allocations(): readonly KubeletAllocation[] {
    return this.#allocations;
  }

  /** Resolves when `predicate` holds (checked after every registration and device list). */
  async waitFor(what: string, predicate: () => boolean, timeoutMs = 10_000): Promise<void> {
    if (predicate()) return;
    await new Promise<void>((resolve, reject) => {
      const done = () => {
        clearTimeout(timer);
        this.#events.off('change', check);
      };
      const check = () => {
        if (!predicate()) return;
        done();
        resolve();
      };
      const timer = setTimeout(() => {
        done();
        reject(new Error(`fake kubelet: still waiting for ${what} after ${timeoutMs} ms`));
      }, timeoutMs);
      this.#events.on('change', check);
    });
  }

  /** Waits for a plugin of `resource` registered in the current kubelet generation, with its list. */
  waitForPlugin(resource: string, timeoutMs?: number): Promise<void> {
    const gen = this.generation;
    return this.waitFor(
      `a plugin for ${resource} (generation ${gen})`,
      () =>
        this.#plugins.get(resource)?.connected === true &&
        (this.#plugins.get(resource)?.updates ?? 0) > 0 &&
        this.registrations.some(
          (r) => r.request.resource_name === resource && r.generation === gen && r.rejected === null,
        ),
      timeoutMs,
    );
  }

  /** Waits until the resource's latest list satisfies `predicate`. */
  waitForDevices(resource: string, predicate: (devices: readonly Device[]) => boolean, timeoutMs?: number) {
    return this.waitFor(
      `devices of ${resource} to match`,
      () => predicate(this.devices(resource)),
      timeoutMs,
    );
  }

  /**
   * Admits one container asking for `count` devices of `resource`, as the device manager does.
   * Throws FakeKubeletAllocateError when admission fails; nothing is recorded then.
   */
  async allocate(resource: string, opts: AllocateOptions): Promise<KubeletAllocation> {
    const plugin = this.#plugins.get(resource);
    if (plugin === undefined || !plugin.connected)
      throw new FakeKubeletAllocateError(`no device plugin serves ${resource}`);
    const must = [...new Set(opts.mustInclude ?? [])];
    let free = this.freeDevices(resource).filter((d) => !must.includes(d.ID));
    const needed = opts.count - must.length;
    if (needed < 0) throw new FakeKubeletAllocateError(`${must.length} inherited devices exceed the request`);
    if (opts.singleNumaNode === true) {
      const numaOf = (id: string) => this.devices(resource).find((d) => d.ID === id)?.topology?.nodes[0]?.ID;
      const mustNuma = new Set(must.map(numaOf));
      const nodes = [...new Set(free.map((d) => d.topology?.nodes[0]?.ID))]
        .filter((n): n is number => n !== undefined)
        .sort((a, b) => a - b);
      const fits = nodes.filter(
        (n) =>
          (mustNuma.size === 0 || (mustNuma.size === 1 && mustNuma.has(n))) &&
          free.filter((d) => d.topology?.nodes[0]?.ID === n).length >= needed,
      );
      const node = fits[0];
      if (node === undefined)
        throw new FakeKubeletAllocateError(
          `Topology Affinity Error: no NUMA node has ${opts.count} free ${resource}`,
        );
      free = free.filter((d) => d.topology?.nodes[0]?.ID === node);
    }
    if (free.length < needed)
      throw new FakeKubeletAllocateError(
        `Insufficient ${resource}: ${needed} requested, ${free.length} healthy and free`,
      );
    const available = free.map((d) => d.ID);
    let preferred: string[] | null = null;
    const chosen = [...must];
    if (plugin.options.get_preferred_allocation_available) {
      const answer = await this.#unary(plugin.client, this.#apis.getPreferredAllocation, {
        container_requests: [
          {
            available_deviceIDs: [...must, ...available],
            must_include_deviceIDs: must,
            allocation_size: opts.count,
          },
        ],
      });
      preferred = answer.container_responses[0]?.deviceIDs ?? [];
      // A hint: keep what is valid, then fill in (the kubelet does the same).
      for (const id of preferred)
        if (chosen.length < opts.count && available.includes(id) && !chosen.includes(id)) chosen.push(id);
    }
    for (const id of available) if (chosen.length < opts.count && !chosen.includes(id)) chosen.push(id);
    let response: ContainerAllocateResponse | undefined;
    try {
      const res = await this.#unary(plugin.client, this.#apis.allocate, {
        container_requests: [{ devices_ids: chosen }],
      });
      if (res.container_responses.length !== 1)
        throw new FakeKubeletAllocateError(
          `${resource}: Allocate answered ${res.container_responses.length} container responses for 1 request`,
        );
      response = res.container_responses[0];
    } catch (err: unknown) {
      if (err instanceof FakeKubeletAllocateError) throw err;
      const e = err as Partial<ServiceError>;
      throw new FakeKubeletAllocateError(
        `${resource}: Allocate failed: ${e.details ?? String(err)}`,
        e.code ?? null,
      );
    }
    if (response === undefined) throw new FakeKubeletAllocateError(`${resource}: empty Allocate answer`);
    const allocation: KubeletAllocation = {
      namespace: opts.namespace ?? 'default',
      pod: opts.pod ?? `pod-${this.#allocations.length}`,
      container: opts.container ?? 'main',
      resource,
      deviceIds: chosen,
      preferred,
      response,
    };
    this.#allocations.push(allocation);
    this.#events.emit('change');
    return allocation;
  }

  /** The pod ended: its devices are free again. The plugin is not told (the kubelet never does). */
  release(namespace: string, pod: string): number {
    const before = this.#allocations.length;
    this.#allocations = this.#allocations.filter((a) => a.namespace !== namespace || a.pod !== pod);
    this.#events.emit('change');
    return before - this.#allocations.length;
  }

  /**
   * A kubelet restart: the servers stop, every socket in the plugin directory is deleted (the
   * checkpoint file stays), `kubelet.sock` is created again; plugins must register again.
   */
  async restart(): Promise<void> {
    await this.#stopServers();
    for (const name of await readdir(this.pluginDir))
      if (name !== KUBELET_CHECKPOINT) await rm(join(this.pluginDir, name), { force: true });
    this.generation++;
    await this.#startServers();
    this.#events.emit('change');
  }

  async stop(): Promise<void> {
    await this.#stopServers();
    if (this.#ownsRoot) await rm(this.rootDir, { recursive: true, force: true });
  }

  // ------------------------------------------------------------------ servers

  async #startServers(): Promise<void> {
    await rm(join(this.pluginDir, KUBELET_SOCKET), { force: true });
    const reg = new Server();
    reg.addService(this.#apis.registration, {
      Register: (call: ServerUnaryCall<RegisterRequest, Empty>, cb: sendUnaryData<Empty>) =>
        this.#register(call.request, cb),
    });
    await bind(reg, join(this.pluginDir, KUBELET_SOCKET));
    this.#registration = reg;
    const pr = new Server();
    pr.addService(this.#apis.podResourcesLister, {
      List: (
        _call: ServerUnaryCall<Empty, ListPodResourcesResponse>,
        cb: sendUnaryData<ListPodResourcesResponse>,
      ) => cb(null, this.#podResourcesList()),
      GetAllocatableResources: (_call: ServerUnaryCall<Empty, unknown>, cb: sendUnaryData<unknown>) =>
        cb({ code: status.UNIMPLEMENTED, details: 'fake kubelet: GetAllocatableResources not implemented' }),
      Get: (_call: ServerUnaryCall<Empty, unknown>, cb: sendUnaryData<unknown>) =>
        cb({ code: status.UNIMPLEMENTED, details: 'fake kubelet: Get not implemented' }),
    });
    await rm(this.podResourcesSocket, { force: true });
    await bind(pr, this.podResourcesSocket);
    this.#podResources = pr;
  }

  async #stopServers(): Promise<void> {
    for (const p of this.#plugins.values()) this.#disconnect(p);
    this.#plugins.clear();
    await Promise.all([shutdown(this.#registration), shutdown(this.#podResources)]);
    this.#registration = undefined;
    this.#podResources = undefined;
  }

  #register(r: RegisterRequest, cb: sendUnaryData<Empty>): void {
    const problem = !SUPPORTED_DEVICE_PLUGIN_VERSIONS.includes(r.version)
      ? `Unsupported version ${JSON.stringify(r.version)}; supported: ${SUPPORTED_DEVICE_PLUGIN_VERSIONS.join(', ')}`
      : !isExtendedResourceName(r.resource_name)
        ? `Invalid name of device plugin socket: ${JSON.stringify(r.resource_name)} is not an extended resource name`
        : r.endpoint === '' ||
            r.endpoint.includes('/') ||
            r.endpoint === '..' ||
            r.endpoint === KUBELET_SOCKET
          ? `invalid endpoint ${JSON.stringify(r.endpoint)}: must be a socket file name in ${this.pluginDir}`
          : null;
    this.registrations.push({ request: r, rejected: problem, generation: this.generation });
    if (problem !== null) {
      cb({ code: status.UNKNOWN, details: problem });
      this.#events.emit('change');
      return;
    }
    cb(null, {});
    // The kubelet answers first, then connects to the plugin.
    setImmediate(() => this.#connect(r));
  }

  #connect(r: RegisterRequest): void {
    const old = this.#plugins.get(r.resource_name);
    if (old !== undefined) this.#disconnect(old);
    const client = new Client(`unix:${join(this.pluginDir, r.endpoint)}`, credentials.createInsecure());
    const p: PluginConnection = {
      resource: r.resource_name,
      endpoint: r.endpoint,
      version: r.version,
      options: r.options ?? { pre_start_required: false, get_preferred_allocation_available: false },
      optionsAnswered: null,
      devices: [],
      updates: 0,
      connected: false,
      client,
      stream: undefined,
    };
    this.#plugins.set(r.resource_name, p);
    this.#unary(client, this.#apis.getDevicePluginOptions, {})
      .then((o) => {
        p.optionsAnswered = o;
        this.#events.emit('change');
      })
      .catch(() => undefined);
    const m = this.#apis.listAndWatch;
    const stream = client.makeServerStreamRequest(
      m.path,
      m.requestSerialize,
      m.responseDeserialize,
      {},
      new Metadata(),
      {},
    );
    p.stream = stream;
    p.connected = true;
    stream.on('data', (res: ListAndWatchResponse) => {
      if (this.#plugins.get(r.resource_name) !== p) return;
      p.devices = res.devices;
      p.updates++;
      this.#events.emit('change');
    });
    const ended = () => {
      p.connected = false;
      this.#events.emit('change');
    };
    stream.on('error', ended);
    stream.on('end', ended);
    this.#events.emit('change');
  }

  #disconnect(p: PluginConnection): void {
    p.connected = false;
    p.stream?.cancel();
    p.client.close();
  }

  #podResourcesList(): ListPodResourcesResponse {
    const pods = new Map<
      string,
      { name: string; namespace: string; containers: Map<string, Map<string, string[]>> }
    >();
    for (const a of this.#allocations) {
      const key = `${a.namespace}/${a.pod}`;
      let pod = pods.get(key);
      if (pod === undefined)
        pods.set(key, (pod = { name: a.pod, namespace: a.namespace, containers: new Map() }));
      let c = pod.containers.get(a.container);
      if (c === undefined) pod.containers.set(a.container, (c = new Map<string, string[]>()));
      c.set(a.resource, [...(c.get(a.resource) ?? []), ...a.deviceIds]);
    }
    const numa = (resource: string, ids: readonly string[]) => {
      const nodes = new Set<number>();
      for (const id of ids) {
        const n = this.devices(resource).find((d) => d.ID === id)?.topology?.nodes[0]?.ID;
        if (n !== undefined) nodes.add(n);
      }
      return nodes.size === 0 ? null : { nodes: [...nodes].sort((x, y) => x - y).map((ID) => ({ ID })) };
    };
    return {
      pod_resources: [...pods.values()].map((p) => ({
        name: p.name,
        namespace: p.namespace,
        containers: [...p.containers].map(([name, byResource]) => ({
          name,
          devices: [...byResource].map(([resource_name, device_ids]) => ({
            resource_name,
            device_ids,
            topology: numa(resource_name, device_ids),
          })),
        })),
      })),
    };
  }

  #allocatedIds(resource: string): Set<string> {
    return new Set(this.#allocations.filter((a) => a.resource === resource).flatMap((a) => a.deviceIds));
  }

  #unary<Req, Res>(
    client: Client,
    m: { path: string; requestSerialize: (r: Req) => Buffer; responseDeserialize: (b: Buffer) => Res },
    req: Req,
  ): Promise<Res> {
    return new Promise((resolve, reject) =>
      client.makeUnaryRequest(
        m.path,
        m.requestSerialize,
        m.responseDeserialize,
        req,
        new Metadata(),
        { deadline: Date.now() + this.#callTimeoutMs },
        (err: ServiceError | null, value?: Res) =>
          err !== null
            ? reject(err)
            : value === undefined
              ? reject(new Error(`${m.path}: no answer`))
              : resolve(value),
      ),
    );
  }
}

function bind(server: Server, socketPath: string): Promise<void> {
  return new Promise((resolve, reject) =>
    server.bindAsync(`unix:${socketPath}`, ServerCredentials.createInsecure(), (err) =>
      err === null ? resolve() : reject(err),
    ),
  );
}

/** A kubelet going away does not wait for its clients. */
function shutdown(server: Server | undefined): Promise<void> {
  server?.forceShutdown();
  return Promise.resolve();
}

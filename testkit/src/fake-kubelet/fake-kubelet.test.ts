/**
 * The fake kubelet against a minimal device plugin written here from the same API: what it
 * accepts at registration, how it admits containers, what PodResources answers, what a restart
 * does to the plugin directory.
 */
import { readdirSync, writeFileSync } from 'node:fs';
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
  type ServiceDefinition,
  type ServiceError,
} from '@grpc/grpc-js';
import { loadSync } from '@grpc/proto-loader';
import { afterEach, describe, expect, it } from 'vitest';
import { DEFAULT_PROTO_DIR, loadKubeletApis, type Device, type RegisterRequest } from './api.js';
import { FakeKubeletAllocateError, FakeKubeletDeviceManager } from './fake-kubelet.js';

const RESOURCE = 'example.com/widget';
const cleanups: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

/** A toy plugin: fixed devices, a fixed preference, Allocate echoes the IDs in an env var. */
async function toyPlugin(
  dir: string,
  opts: { devices: Device[]; prefer?: string[]; refuse?: string },
): Promise<{ stop: () => void; preferredAsked: unknown[] }> {
  const def = loadSync('deviceplugin/v1beta1/api.proto', {
    keepCase: true,
    longs: Number,
    defaults: true,
    arrays: true,
    objects: true,
    includeDirs: [DEFAULT_PROTO_DIR],
  });
  const preferredAsked: unknown[] = [];
  const server = new Server();
  server.addService(def['v1beta1.DevicePlugin'] as ServiceDefinition, {
    GetDevicePluginOptions: (_c: ServerUnaryCall<unknown, unknown>, cb: sendUnaryData<unknown>) =>
      cb(null, { pre_start_required: false, get_preferred_allocation_available: opts.prefer !== undefined }),
    ListAndWatch: (call: ServerWritableStream<unknown, unknown>) => call.write({ devices: opts.devices }),
    GetPreferredAllocation: (c: ServerUnaryCall<unknown, unknown>, cb: sendUnaryData<unknown>) => {
      preferredAsked.push(c.request);
      cb(null, { container_responses: [{ deviceIDs: opts.prefer ?? [] }] });
    },
    Allocate: (
      c: ServerUnaryCall<{ container_requests: { devices_ids: string[] }[] }, unknown>,
      cb: sendUnaryData<unknown>,
    ) =>
      opts.refuse !== undefined
        ? cb({ code: status.FAILED_PRECONDITION, details: opts.refuse })
        : cb(null, {
            container_responses: c.request.container_requests.map((r) => ({
              envs: { IDS: r.devices_ids.join(',') },
            })),
          }),
    PreStartContainer: (_c: ServerUnaryCall<unknown, unknown>, cb: sendUnaryData<unknown>) => cb(null, {}),
  });
  await new Promise<void>((resolve, reject) =>
    server.bindAsync(`unix:${join(dir, 'toy.sock')}`, ServerCredentials.createInsecure(), (e) =>
      e === null ? resolve() : reject(e),
    ),
  );
  return { stop: () => server.forceShutdown(), preferredAsked };
}

function register(k: FakeKubeletDeviceManager, req: Partial<RegisterRequest>): Promise<ServiceError | null> {
  const api = loadKubeletApis();
  const client = new Client(`unix:${join(k.pluginDir, 'kubelet.sock')}`, credentials.createInsecure());
  const full: RegisterRequest = {
    version: 'v1beta1',
    endpoint: 'toy.sock',
    resource_name: RESOURCE,
    options: { pre_start_required: false, get_preferred_allocation_available: true },
    ...req,
  };
  return new Promise<ServiceError | null>((resolve) =>
    client.makeUnaryRequest(
      api.register.path,
      api.register.requestSerialize,
      api.register.responseDeserialize,
      full,
      new Metadata(),
      { deadline: Date.now() + 5_000 },
      (err: ServiceError | null) => resolve(err),
    ),
  ).finally(() => client.close());
}

const dev = (ID: string, numa: number, health = 'Healthy'): Device => ({
  ID,
  health,
  topology: { nodes: [{ ID: numa }] },
});

async function kubelet(): Promise<FakeKubeletDeviceManager> {
  const k = await FakeKubeletDeviceManager.start();
  cleanups.push(() => k.stop());
  return k;
}

describe('FakeKubeletDeviceManager', () => {
  it.each<[string, Partial<RegisterRequest>, RegExp]>([
    ['an unsupported version', { version: 'v1alpha' }, /Unsupported version/],
    ['a resource name without a domain', { resource_name: 'widget' }, /not an extended resource name/],
    ['a kubernetes.io resource', { resource_name: 'kubernetes.io/widget' }, /not an extended resource name/],
    ['an endpoint with a path', { endpoint: '../evil.sock' }, /invalid endpoint/],
    ['kubelet.sock as endpoint', { endpoint: 'kubelet.sock' }, /invalid endpoint/],
  ])('refuses a registration with %s, as the kubelet does', async (_what, req, message) => {
    const k = await kubelet();
    const err = await register(k, req);
    expect(err?.details).toMatch(message);
    expect(k.registrations.at(-1)?.rejected).toMatch(message);
    expect(k.plugin(req.resource_name ?? RESOURCE)).toBeUndefined();
  });

  it('connects to a registered plugin, admits containers with its preference, lists them in PodResources', async () => {
    const k = await kubelet();
    const plugin = await toyPlugin(k.pluginDir, {
      devices: [dev('d0', 0), dev('d1', 0), dev('d2', 1), dev('d3', 1), dev('d4', 1, 'Unhealthy')],
      prefer: ['d3', 'not-available', 'd2'],
    });
    cleanups.push(() => Promise.resolve(plugin.stop()));
    expect(await register(k, {})).toBeNull();
    await k.waitForPlugin(RESOURCE);
    const a = await k.allocate(RESOURCE, { count: 2, namespace: 'ns', pod: 'p', container: 'c' });
    expect(plugin.preferredAsked).toEqual([
      {
        container_requests: [
          { available_deviceIDs: ['d0', 'd1', 'd2', 'd3'], must_include_deviceIDs: [], allocation_size: 2 },
        ],
      },
    ]);
    expect(a.deviceIds).toEqual(['d3', 'd2']);
    expect(a.response.envs).toEqual({ IDS: 'd3,d2' });
    // The hint is only a hint: an invalid ID is dropped and the rest filled in.
    const b = await k.allocate(RESOURCE, { count: 2, pod: 'q' });
    expect(b.deviceIds).toEqual(['d0', 'd1']);
    await expect(k.allocate(RESOURCE, { count: 1 })).rejects.toThrow(/Insufficient example.com\/widget/);
    const api = loadKubeletApis();
    const client = new Client(`unix:${k.podResourcesSocket}`, credentials.createInsecure());
    cleanups.push(() => Promise.resolve(client.close()));
    const listed = await new Promise<unknown>((resolve, reject) =>
      client.makeUnaryRequest(
        api.listPodResources.path,
        api.listPodResources.requestSerialize,
        api.listPodResources.responseDeserialize,
        {},
        new Metadata(),
        { deadline: Date.now() + 5_000 },
        (err: ServiceError | null, v?: unknown) => (err !== null ? reject(err) : resolve(v)),
      ),
    );
    expect(listed).toMatchObject({
      pod_resources: [
        {
          name: 'p',
          namespace: 'ns',
          containers: [
            {
              name: 'c',
              devices: [
                { resource_name: RESOURCE, device_ids: ['d3', 'd2'], topology: { nodes: [{ ID: 1 }] } },
              ],
            },
          ],
        },
        { name: 'q', namespace: 'default' },
      ],
    });
    expect(k.release('ns', 'p')).toBe(1);
    expect(k.freeDevices(RESOURCE).map((d) => d.ID)).toEqual(['d2', 'd3']);
  });

  it('keeps single-NUMA admissions on one node, and reports a plugin refusal with its gRPC code', async () => {
    const k = await kubelet();
    const plugin = await toyPlugin(k.pluginDir, {
      devices: [dev('d0', 0), dev('d1', 1), dev('d2', 1)],
      refuse: 'no',
    });
    cleanups.push(() => Promise.resolve(plugin.stop()));
    await register(k, { options: { pre_start_required: false, get_preferred_allocation_available: false } });
    await k.waitForPlugin(RESOURCE);
    await expect(k.allocate(RESOURCE, { count: 3, singleNumaNode: true })).rejects.toThrow(
      /Topology Affinity Error/,
    );
    const err = await k.allocate(RESOURCE, { count: 2, singleNumaNode: true }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(FakeKubeletAllocateError);
    expect((err as FakeKubeletAllocateError).code).toBe(status.FAILED_PRECONDITION);
    expect(plugin.preferredAsked).toEqual([]);
    expect(k.allocations()).toEqual([]);
  });

  it('restarts like a kubelet: plugin sockets deleted, checkpoint kept, kubelet.sock new, plugins forgotten', async () => {
    const k = await kubelet();
    const plugin = await toyPlugin(k.pluginDir, { devices: [dev('d0', 0)] });
    cleanups.push(() => Promise.resolve(plugin.stop()));
    writeFileSync(join(k.pluginDir, 'kubelet_internal_checkpoint'), '{}');
    await register(k, {});
    await k.waitForPlugin(RESOURCE);
    await k.restart();
    expect(readdirSync(k.pluginDir).sort()).toEqual(['kubelet.sock', 'kubelet_internal_checkpoint']);
    expect(k.plugin(RESOURCE)).toBeUndefined();
    expect(k.generation).toBe(1);
    expect(await register(k, { endpoint: 'gone.sock' })).toBeNull();
    await k.waitFor(
      'the stream to the missing socket to fail',
      () => k.plugin(RESOURCE)?.connected === false,
    );
  });
});

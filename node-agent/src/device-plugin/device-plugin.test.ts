/**
 * The device plugin end to end: real gRPC over unix sockets between the plugins and a stand-in
 * kubelet (testkit), on a simulated host tree read through the same sysfs reader as on Linux.
 */
import { cpSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { Client, credentials, Metadata, status, type ServiceError } from '@grpc/grpc-js';
import { pino } from 'pino';
import { Registry } from 'prom-client';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { VF_RESOURCE } from '@rdmasched/contracts';
import { FakeKubeletAllocateError, FakeKubeletDeviceManager } from '@rdmasched/testkit';
import { presetSpec, type PresetOptions } from '../adapters/sim/presets.js';
import { SimulatedHost } from '../adapters/sim/simulated-host.js';
import { discover } from '../discovery/discover.js';
import { InMemoryAllocatedDevices, PodResourcesClient } from './allocated-devices.js';
import { loadDevicePluginApi, type AllocateRequest, type AllocateResponse } from './api.js';
import { DevicePluginManager } from './manager.js';
import { InMemoryReservationHints } from './reservation-hints.js';

const IB = VF_RESOURCE.ib;
const ROCE = VF_RESOURCE.roce;
const IB_PF = '0000:1a:00.0';
const ROCE_PF = '0000:9e:00.0';
const IB_VFS = ['0000:1a:00.1', '0000:1a:00.2', '0000:1a:00.3', '0000:1a:00.4'];
const ROCE_VFS = ['0000:9e:00.1', '0000:9e:00.2', '0000:9e:00.3', '0000:9e:00.4'];
const silent = pino({ level: 'silent' });

interface World {
  readonly base: string;
  readonly sim: SimulatedHost;
  readonly kubelet: FakeKubeletDeviceManager;
  readonly manager: DevicePluginManager;
  readonly registry: Registry;
  readonly hints: InMemoryReservationHints;
  readonly devRoot: string;
}

const cleanups: (() => Promise<void> | void)[] = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

/** Host trees are written once per preset and copied per test (writing one is the slow part). */
const templates = new Map<string, string>();
const templateRoot = mkdtempSync(join(tmpdir(), 'rdmasched-dp-tpl-'));
afterAll(() => rmSync(templateRoot, { recursive: true, force: true }));

function simulatedHost(dir: string, preset: string, opts: PresetOptions): SimulatedHost {
  const key = `${preset}:${JSON.stringify(opts)}`;
  let tpl = templates.get(key);
  if (tpl === undefined) {
    tpl = join(templateRoot, String(templates.size));
    SimulatedHost.create(tpl, presetSpec(preset, opts));
    templates.set(key, tpl);
  }
  cpSync(tpl, dir, { recursive: true, verbatimSymlinks: true });
  return SimulatedHost.open(dir);
}

async function world(
  opts: {
    preset?: string;
    sim?: PresetOptions;
    rdmaCm?: boolean;
    releaseGraceMs?: number;
    allocated?: 'kubelet' | InMemoryAllocatedDevices;
    /** Wait for the first trusted reconcile (it needs the grace period to have passed since start). */
    awaitSync?: boolean;
  } = {},
): Promise<World> {
  const base = mkdtempSync(join(tmpdir(), 'rdmasched-dp-'));
  cleanups.push(() => rmSync(base, { recursive: true, force: true }));
  const sim = simulatedHost(
    join(base, 'host'),
    opts.preset ?? 'reference-host',
    opts.sim ?? { numVfs: 4, configuredVfs: 4 },
  );
  const devRoot = join(base, 'host', 'dev');
  mkdirSync(join(devRoot, 'infiniband'), { recursive: true });
  if (opts.rdmaCm !== false) writeFileSync(join(devRoot, 'infiniband', 'rdma_cm'), '');
  const kubelet = await FakeKubeletDeviceManager.start({ rootDir: join(base, 'kubelet') });
  cleanups.push(() => kubelet.stop());
  const registry = new Registry();
  const hints = new InMemoryReservationHints();
  const manager = new DevicePluginManager({
    reader: sim.reader(),
    pluginDir: kubelet.pluginDir,
    devRoot,
    allocatedDevices:
      opts.allocated === undefined || opts.allocated === 'kubelet'
        ? new PodResourcesClient({ socketPath: kubelet.podResourcesSocket })
        : opts.allocated,
    reservationHints: hints,
    releaseGraceMs: opts.releaseGraceMs ?? 0,
    reconcileIntervalMs: 0,
    rediscoverIntervalMs: 0,
    kubeletCheckIntervalMs: 200,
    registry,
    logger: silent,
  });
  cleanups.push(() => manager.stop());
  await manager.start();
  if (opts.awaitSync !== false) await manager.whenSynced();
  return { base, sim, kubelet, manager, registry, hints, devRoot };
}

/** The sysfs truth for a VF, read independently of the plugin: its RDMA device and char devices. */
function charDevicesOf(sim: SimulatedHost, vf: string): { ibdev: string; paths: string[] } {
  const sys = sim.sysfsRoot;
  const ibdev = readdirSync(join(sys, 'bus/pci/devices', vf, 'infiniband'))[0]!;
  const paths: string[] = [];
  for (const cls of ['infiniband_verbs', 'infiniband_mad']) {
    for (const name of readdirSync(join(sys, 'class', cls))) {
      if (name === 'abi_version') continue;
      if (readFileSync(join(sys, 'class', cls, name, 'ibdev'), 'utf8').trim() === ibdev)
        paths.push(`/dev/infiniband/${name}`);
    }
  }
  return { ibdev, paths };
}

/** A raw DevicePlugin client: sends what a misbehaving kubelet could send. */
function rawAllocate(socket: string, req: AllocateRequest): Promise<AllocateResponse> {
  const api = loadDevicePluginApi();
  const client = new Client(`unix:${socket}`, credentials.createInsecure());
  return new Promise<AllocateResponse>((resolve, reject) =>
    client.makeUnaryRequest(
      api.allocate.path,
      api.allocate.requestSerialize,
      api.allocate.responseDeserialize,
      req,
      new Metadata(),
      { deadline: Date.now() + 5_000 },
      (err: ServiceError | null, v?: AllocateResponse) => (err !== null ? reject(err) : resolve(v!)),
    ),
  ).finally(() => client.close());
}

function setPortState(sim: SimulatedHost, pf: string, state: string): void {
  const ib = readdirSync(join(sim.sysfsRoot, 'bus/pci/devices', pf, 'infiniband'))[0]!;
  writeFileSync(join(sim.sysfsRoot, 'bus/pci/devices', pf, 'infiniband', ib, 'ports/1/state'), `${state}\n`);
}

async function metric(registry: Registry, name: string, labels: Record<string, string>): Promise<number> {
  const m = (await registry.getMetricsAsJSON()).find((x) => x.name === name);
  const v = (m?.values as { value: number; labels: Record<string, string> }[] | undefined)?.find((x) =>
    Object.entries(labels).every(([k, val]) => x.labels[k] === val),
  );
  return v?.value ?? Number.NaN;
}

describe('registration', () => {
  it('registers each VF resource with the kubelet: v1beta1, its socket name, preferred allocation on', async () => {
    const w = await world();
    await w.kubelet.waitForPlugin(IB);
    await w.kubelet.waitForPlugin(ROCE);
    const accepted = w.kubelet.registrations.filter((r) => r.rejected === null);
    expect(accepted.map((r) => r.request.resource_name).sort()).toEqual([IB, ROCE]);
    for (const r of accepted) {
      expect(r.request.version).toBe('v1beta1');
      expect(r.request.endpoint).toBe(
        r.request.resource_name === IB ? 'rdmasched-ib-vf.sock' : 'rdmasched-roce-vf.sock',
      );
      expect(readdirSync(w.kubelet.pluginDir)).toContain(r.request.endpoint);
      expect(r.request.options).toEqual({
        pre_start_required: false,
        get_preferred_allocation_available: true,
      });
    }
    await w.kubelet.waitFor('options answered', () => w.kubelet.plugin(IB)?.optionsAnswered !== null);
    expect(w.kubelet.plugin(IB)?.optionsAnswered).toEqual(w.kubelet.plugin(IB)?.options);
    expect(
      await metric(w.registry, 'rdmasched_agent_device_plugin_registrations_total', {
        resource: IB,
        result: 'ok',
      }),
    ).toBe(1);
  });

  it('registers again after a kubelet restart (sockets deleted, kubelet.sock recreated), and still allocates', async () => {
    const w = await world();
    await w.kubelet.waitForPlugin(IB);
    await w.kubelet.waitForPlugin(ROCE);
    const before = await w.kubelet.allocate(IB, { count: 1, pod: 'survivor' });
    await w.kubelet.restart();
    expect(w.kubelet.plugin(IB)).toBeUndefined();
    await w.kubelet.waitForPlugin(IB);
    await w.kubelet.waitForPlugin(ROCE);
    expect(
      w.kubelet.registrations.filter((r) => r.request.resource_name === IB && r.rejected === null),
    ).toHaveLength(2);
    expect(readdirSync(w.kubelet.pluginDir).sort()).toEqual([
      'kubelet.sock',
      'rdmasched-ib-vf.sock',
      'rdmasched-roce-vf.sock',
    ]);
    // The kubelet kept its allocation (checkpoint); the plugin still counts the VF as in use.
    expect(w.kubelet.freeDevices(IB).map((d) => d.ID)).not.toContain(before.deviceIds[0]);
    const after = await w.kubelet.allocate(IB, { count: 2, pod: 'after-restart' });
    expect(after.deviceIds).toHaveLength(2);
    expect([...w.manager.usage.inUse().keys()].sort()).toEqual(
      [...before.deviceIds, ...after.deviceIds].sort(),
    );
    // The PodResources socket was recreated too; the client dials it again.
    const r = await w.manager.reconcile();
    expect(r.ok && r.released).toEqual([]);
    expect(w.manager.usage.inUse().get(before.deviceIds[0]!)?.podName).toBe('survivor');
  });

  it('waits for a kubelet that is not there yet and registers when kubelet.sock appears', async () => {
    const base = mkdtempSync(join(tmpdir(), 'rdmasched-dp-'));
    cleanups.push(() => rmSync(base, { recursive: true, force: true }));
    const sim = simulatedHost(join(base, 'host'), 'reference-host', { numVfs: 2, configuredVfs: 2 });
    const pluginDir = join(base, 'kubelet', 'device-plugins');
    mkdirSync(pluginDir, { recursive: true });
    const manager = new DevicePluginManager({
      reader: sim.reader(),
      pluginDir,
      allocatedDevices: new InMemoryAllocatedDevices(),
      reconcileIntervalMs: 0,
      rediscoverIntervalMs: 0,
      kubeletCheckIntervalMs: 100,
      registry: new Registry(),
      logger: silent,
    });
    cleanups.push(() => manager.stop());
    await manager.start();
    expect(manager.servers.get('ib')?.registered).toBe(false);
    const kubelet = await FakeKubeletDeviceManager.start({ rootDir: join(base, 'kubelet') });
    cleanups.push(() => kubelet.stop());
    await kubelet.waitForPlugin(IB);
    expect(kubelet.devices(IB).map((d) => d.ID)).toEqual(IB_VFS.slice(0, 2));
  });
});

describe('ListAndWatch', () => {
  it('advertises one device per VF of the link type, ID = PCI address, with its NUMA node', async () => {
    const w = await world();
    await w.kubelet.waitForPlugin(IB);
    await w.kubelet.waitForPlugin(ROCE);
    expect(w.kubelet.devices(IB)).toEqual(
      IB_VFS.map((ID) => ({ ID, health: 'Healthy', topology: { nodes: [{ ID: 0 }] } })),
    );
    expect(w.kubelet.devices(ROCE)).toEqual(
      ROCE_VFS.map((ID) => ({ ID, health: 'Healthy', topology: { nodes: [{ ID: 1 }] } })),
    );
    expect(
      await metric(w.registry, 'rdmasched_agent_device_plugin_devices', { resource: IB, health: 'Healthy' }),
    ).toBe(4);
  });

  it('sends a new list when VFs disappear and appear (unconfigured ones are Unhealthy until configured)', async () => {
    const w = await world();
    await w.kubelet.waitForPlugin(IB);
    expect(await w.sim.setNumVfs(IB_PF, 0)).toEqual({ ok: true });
    w.manager.update(await discover(w.sim.reader()));
    await w.kubelet.waitForDevices(IB, (d) => d.length === 0);
    expect(w.kubelet.devices(ROCE)).toHaveLength(4);
    expect(await w.sim.setNumVfs(IB_PF, 2)).toEqual({ ok: true });
    await w.sim.settle();
    await w.manager.refresh();
    await w.kubelet.waitForDevices(IB, (d) => d.length === 2);
    expect(w.kubelet.devices(IB).map((d) => [d.ID, d.health])).toEqual([
      ['0000:1a:00.1', 'Unhealthy'],
      ['0000:1a:00.2', 'Unhealthy'],
    ]);
    await expect(w.kubelet.allocate(IB, { count: 1 })).rejects.toThrow(/Insufficient rdmasched.io\/ib-vf/);
    // Configured as the agent does it (GUID, then rebind): Healthy at the next discovery.
    const guid = '02:00:00:00:00:00:00:2a';
    expect(await w.sim.setVfGuids('ibp26s0', 0, { nodeGuid: guid, portGuid: guid })).toEqual({ ok: true });
    expect(await w.sim.unbindDriver(IB_VFS[0]!, 'mlx5_core')).toEqual({ ok: true });
    expect(await w.sim.bindDriver(IB_VFS[0]!, 'mlx5_core')).toEqual({ ok: true });
    w.manager.update(await discover(w.sim.reader()));
    await w.kubelet.waitForDevices(IB, (d) => d.find((x) => x.ID === IB_VFS[0])?.health === 'Healthy');
    expect((await w.kubelet.allocate(IB, { count: 1 })).deviceIds).toEqual([IB_VFS[0]]);
  });

  it('marks a PF’s VFs Unhealthy while the PF is locked for a resize, and Healthy again after', async () => {
    const w = await world();
    await w.kubelet.waitForPlugin(IB);
    await w.kubelet.waitForPlugin(ROCE);
    expect(w.manager.usage.tryLockPf(IB_PF)).toBe(true);
    await w.kubelet.waitForDevices(IB, (d) => d.every((x) => x.health === 'Unhealthy'));
    expect(w.kubelet.devices(ROCE).every((x) => x.health === 'Healthy')).toBe(true);
    await expect(w.kubelet.allocate(IB, { count: 1 })).rejects.toThrow(/Insufficient/);
    w.manager.usage.unlockPf(IB_PF);
    await w.kubelet.waitForDevices(IB, (d) => d.length === 4 && d.every((x) => x.health === 'Healthy'));
  });

  it('marks VFs Unhealthy when the PF port goes down (seen at the next discovery)', async () => {
    const w = await world();
    await w.kubelet.waitForPlugin(IB);
    setPortState(w.sim, IB_PF, '1: DOWN');
    await w.manager.refresh();
    await w.kubelet.waitForDevices(IB, (d) => d.length === 4 && d.every((x) => x.health === 'Unhealthy'));
  });
});

describe('Allocate', () => {
  it('gives the VFs’ RDMA char devices (rw), rdma_cm, and the PCI address and RDMA device env', async () => {
    const w = await world();
    await w.kubelet.waitForPlugin(IB);
    const a = await w.kubelet.allocate(IB, { count: 2, namespace: 'team-a', pod: 'mpi-0' });
    expect(a.deviceIds).toHaveLength(2);
    const truth = a.deviceIds.map((vf) => charDevicesOf(w.sim, vf));
    expect(truth.every((t) => t.paths.some((p) => p.includes('uverbs')) && t.paths.length === 3)).toBe(true);
    expect(a.response.envs).toEqual({
      PCIDEVICE_RDMASCHED_IO_IB_VF: a.deviceIds.join(','),
      RDMASCHED_RDMA_DEVICES: truth.map((t) => t.ibdev).join(','),
      RDMASCHED_RDMA_DEVICES_IB_VF: truth.map((t) => t.ibdev).join(','),
    });
    const expected = [...truth.flatMap((t) => t.paths), '/dev/infiniband/rdma_cm'];
    expect(a.response.devices.map((d) => d.host_path).sort()).toEqual(expected.sort());
    for (const d of a.response.devices) {
      expect(d.container_path).toBe(d.host_path);
      expect(d.permissions).toBe('rw');
    }
    expect(a.response.mounts).toEqual([]);
    const inUse = w.manager.usage.inUse();
    expect([...inUse.keys()].sort()).toEqual([...a.deviceIds].sort());
    for (const vf of a.deviceIds) expect(inUse.get(vf)).toMatchObject({ pf: IB_PF, resource: IB });
    expect(
      await metric(w.registry, 'rdmasched_agent_device_plugin_allocations_total', { resource: IB }),
    ).toBe(1);
    expect(
      await metric(w.registry, 'rdmasched_agent_device_plugin_allocated_vfs_total', { resource: IB }),
    ).toBe(2);
  });

  it('leaves rdma_cm out when the host has none', async () => {
    const w = await world({ rdmaCm: false });
    await w.kubelet.waitForPlugin(ROCE);
    const a = await w.kubelet.allocate(ROCE, { count: 1 });
    expect(a.response.devices.map((d) => d.host_path)).not.toContain('/dev/infiniband/rdma_cm');
    expect(a.response.envs['PCIDEVICE_RDMASCHED_IO_ROCE_VF']).toBe(a.deviceIds[0]);
  });

  it('refuses unknown or malformed requests, naming the reason, and records nothing', async () => {
    const w = await world();
    await w.kubelet.waitForPlugin(IB);
    const socket = w.manager.servers.get('ib')!.socketPath;
    const cases: [string, string[][], status, string][] = [
      ['an unknown ID', [[IB_VFS[1]!, '0000:77:00.1']], status.INVALID_ARGUMENT, 'UNKNOWN_DEVICE'],
      ['a path, not a PCI address', [['../../etc/passwd']], status.INVALID_ARGUMENT, 'UNKNOWN_DEVICE'],
      ['a VF of the other link type', [[ROCE_VFS[0]!]], status.INVALID_ARGUMENT, 'UNKNOWN_DEVICE'],
      ['the PF itself', [[IB_PF]], status.INVALID_ARGUMENT, 'UNKNOWN_DEVICE'],
      ['the same VF twice', [[IB_VFS[0]!, IB_VFS[0]!]], status.INVALID_ARGUMENT, 'MALFORMED_REQUEST'],
      ['a VF in two containers', [[IB_VFS[0]!], [IB_VFS[0]!]], status.INVALID_ARGUMENT, 'MALFORMED_REQUEST'],
      ['a container with no device', [[]], status.INVALID_ARGUMENT, 'MALFORMED_REQUEST'],
      ['no container', [], status.INVALID_ARGUMENT, 'MALFORMED_REQUEST'],
    ];
    for (const [what, containers, code, reason] of cases) {
      const before = await metric(w.registry, 'rdmasched_agent_device_plugin_allocation_failures_total', {
        resource: IB,
        reason,
      });
      const err = await rawAllocate(socket, {
        container_requests: containers.map((devices_ids) => ({ devices_ids })),
      }).then(
        () => undefined,
        (e: ServiceError) => e,
      );
      expect(err?.code, what).toBe(code);
      expect(err?.details, what).toMatch(new RegExp(`^\\[${reason}\\] rdmasched.io/ib-vf: `));
      expect(w.manager.usage.inUse().size, what).toBe(0);
      expect(
        await metric(w.registry, 'rdmasched_agent_device_plugin_allocation_failures_total', {
          resource: IB,
          reason,
        }),
        what,
      ).toBe(before + 1);
    }
  });

  it('refuses an unhealthy VF (port down) and a VF of a locked PF', async () => {
    const w = await world();
    await w.kubelet.waitForPlugin(IB);
    await w.kubelet.waitForPlugin(ROCE);
    const ib = w.manager.servers.get('ib')!.socketPath;
    const roce = w.manager.servers.get('roce')!.socketPath;
    setPortState(w.sim, IB_PF, '1: DOWN');
    await w.manager.refresh();
    const down = await rawAllocate(ib, { container_requests: [{ devices_ids: [IB_VFS[0]!] }] }).catch(
      (e: ServiceError) => e,
    );
    expect(down).toMatchObject({ code: status.FAILED_PRECONDITION });
    expect((down as ServiceError).details).toMatch(
      /^\[VF_NOT_READY\] rdmasched.io\/ib-vf: VF 0000:1a:00.1 is not ready/,
    );
    expect(w.manager.usage.tryLockPf(ROCE_PF)).toBe(true);
    const locked = await rawAllocate(roce, { container_requests: [{ devices_ids: [ROCE_VFS[2]!] }] }).catch(
      (e: ServiceError) => e,
    );
    expect(locked).toMatchObject({ code: status.FAILED_PRECONDITION });
    expect((locked as ServiceError).details).toContain('[PF_LOCKED]');
    expect(w.manager.usage.inUse().size).toBe(0);
  });

  it('refuses the whole request when one of several VFs is bad (all or nothing)', async () => {
    const w = await world();
    await w.kubelet.waitForPlugin(IB);
    const socket = w.manager.servers.get('ib')!.socketPath;
    const err = await rawAllocate(socket, {
      container_requests: [{ devices_ids: [IB_VFS[0]!] }, { devices_ids: [IB_VFS[1]!, '0000:1a:07.7'] }],
    }).catch((e: ServiceError) => e);
    expect((err as ServiceError).details).toContain('[UNKNOWN_DEVICE]');
    expect(w.manager.usage.inUse().size).toBe(0);
  });

  it('refuses a VF whose RDMA device vanished since discovery', async () => {
    const w = await world();
    await w.kubelet.waitForPlugin(IB);
    // Unbinding the driver removes the VF's RDMA device; the plugin has not rediscovered yet.
    expect(await w.sim.unbindDriver(IB_VFS[3]!, 'mlx5_core')).toEqual({ ok: true });
    const err = await rawAllocate(w.manager.servers.get('ib')!.socketPath, {
      container_requests: [{ devices_ids: [IB_VFS[3]!] }],
    }).catch((e: ServiceError) => e);
    expect((err as ServiceError).details).toContain('[RDMA_DEVICE_MISSING]');
    await w.kubelet.waitForDevices(IB, (d) => d.find((x) => x.ID === IB_VFS[3])?.health === 'Unhealthy');
  });
});

describe('usage, locks and reconcile', () => {
  it('refuses to lock a PF while one of its VFs is allocated, and allows it once the kubelet released it', async () => {
    const w = await world();
    await w.kubelet.waitForPlugin(IB);
    await w.kubelet.allocate(IB, { count: 1, namespace: 'team-a', pod: 'p' });
    expect(w.manager.usage.tryLockPf(IB_PF)).toBe(false);
    expect(w.manager.usage.tryLockPf(ROCE_PF)).toBe(true);
    w.manager.usage.unlockPf(ROCE_PF);
    expect(w.kubelet.release('team-a', 'p')).toBe(1);
    // The kubelet does not tell the plugin; the VF is still in use until reconcile.
    expect(w.manager.usage.tryLockPf(IB_PF)).toBe(false);
    const r = await w.manager.reconcile();
    expect(r).toMatchObject({ ok: true });
    expect(r.ok && r.released.map((x) => x.vf)).toHaveLength(1);
    expect(w.manager.usage.tryLockPf(IB_PF)).toBe(true);
    expect(
      await metric(w.registry, 'rdmasched_agent_device_plugin_released_vfs_total', { resource: IB }),
    ).toBe(1);
  });

  it('names the pod of each VF after reconcile, and keeps VFs the kubelet still lists', async () => {
    const w = await world();
    await w.kubelet.waitForPlugin(IB);
    const a = await w.kubelet.allocate(IB, {
      count: 2,
      namespace: 'team-a',
      pod: 'mpi-0',
      container: 'worker',
    });
    await w.manager.reconcile();
    for (const vf of a.deviceIds)
      expect(w.manager.usage.inUse().get(vf)).toMatchObject({
        namespace: 'team-a',
        podName: 'mpi-0',
        container: 'worker',
      });
  });

  it('keeps a fresh allocation the kubelet does not list yet (grace period)', async () => {
    const allocated = new InMemoryAllocatedDevices();
    const w = await world({ allocated, releaseGraceMs: 60_000, awaitSync: false });
    await w.kubelet.waitForPlugin(IB);
    await w.kubelet.allocate(IB, { count: 1 });
    const r = await w.manager.reconcile();
    expect(r.ok && r.released).toEqual([]);
    expect(w.manager.usage.inUse().size).toBe(1);
  });

  it('changes nothing when the kubelet cannot be asked', async () => {
    const allocated = new InMemoryAllocatedDevices();
    const w = await world({ allocated });
    await w.kubelet.waitForPlugin(IB);
    await w.kubelet.allocate(IB, { count: 1 });
    allocated.failWith(new Error('connection refused'));
    expect(await w.manager.reconcile()).toEqual({ ok: false, error: 'connection refused' });
    expect(w.manager.usage.inUse().size).toBe(1);
    expect(w.manager.usage.tryLockPf(IB_PF)).toBe(false);
  });

  it('after an agent restart: refuses locks until the kubelet was asked, then knows the VFs in use', async () => {
    const w = await world();
    await w.kubelet.waitForPlugin(IB);
    const a = await w.kubelet.allocate(IB, { count: 1, namespace: 'team-a', pod: 'long-running' });
    await w.manager.stop();
    const allocated = new InMemoryAllocatedDevices();
    allocated.failWith(new Error('kubelet not answering yet'));
    const grace = 1_500;
    const createdAt = Date.now();
    const restarted = new DevicePluginManager({
      reader: w.sim.reader(),
      pluginDir: w.kubelet.pluginDir,
      devRoot: w.devRoot,
      allocatedDevices: allocated,
      releaseGraceMs: grace,
      reconcileIntervalMs: 0,
      rediscoverIntervalMs: 0,
      kubeletCheckIntervalMs: 200,
      registry: new Registry(),
      logger: silent,
    });
    cleanups.push(() => restarted.stop());
    await restarted.start();
    expect(restarted.usage.synced).toBe(false);
    expect(restarted.usage.tryLockPf(ROCE_PF)).toBe(false);
    allocated.set(
      (await new PodResourcesClient({ socketPath: w.kubelet.podResourcesSocket }).list()).map((x) => x),
    );
    allocated.failWith(undefined);
    await restarted.reconcile();
    // Asked within the grace period of the start: an Allocate the old process answered just before
    // it stopped might not be in the kubelet's records yet, so the answer is not trusted for locks.
    expect(Date.now() - createdAt).toBeLessThan(grace);
    expect(restarted.usage.synced).toBe(false);
    expect(restarted.usage.tryLockPf(ROCE_PF)).toBe(false);
    await sleep(grace - (Date.now() - createdAt) + 10);
    await restarted.reconcile();
    await restarted.whenSynced();
    expect([...restarted.usage.inUse().keys()]).toEqual(a.deviceIds);
    expect(restarted.usage.tryLockPf(IB_PF)).toBe(false);
    expect(restarted.usage.tryLockPf(ROCE_PF)).toBe(true);
  });
});

describe('preferred allocation through the kubelet', () => {
  it('picks the VFs of the PF that holds a reservation not yet allocated', async () => {
    const w = await world({ preset: 'dgx-h100', sim: { numVfs: 4, configuredVfs: 4 } });
    await w.kubelet.waitForPlugin(IB);
    const pfs = [...new Set(w.kubelet.devices(IB).map((d) => w.manager.inventory.vfs.get(d.ID)?.pf))].sort();
    expect(pfs).toHaveLength(8);
    const reserved = pfs[5]!;
    w.hints.set({ [reserved]: 2 });
    const a = await w.kubelet.allocate(IB, { count: 2, pod: 'reserved-pod' });
    expect(a.preferred).toEqual(a.deviceIds);
    expect(a.deviceIds.map((id) => w.manager.inventory.vfs.get(id)?.pf)).toEqual([reserved, reserved]);
  });

  it('keeps a container’s VFs on one PF and one NUMA node without reservations', async () => {
    const w = await world({ preset: 'dgx-h100', sim: { numVfs: 4, configuredVfs: 4 } });
    await w.kubelet.waitForPlugin(IB);
    const a = await w.kubelet.allocate(IB, { count: 3, pod: 'p1' });
    expect(new Set(a.deviceIds.map((id) => w.manager.inventory.vfs.get(id)?.pf)).size).toBe(1);
    const b = await w.kubelet.allocate(IB, { count: 6, pod: 'p2', singleNumaNode: true });
    expect(new Set(b.deviceIds.map((id) => w.manager.inventory.vfs.get(id)?.numaNode)).size).toBe(1);
    // 6 VFs need two PFs of 4 (the busy PF with 1 VF left would make it three).
    expect(new Set(b.deviceIds.map((id) => w.manager.inventory.vfs.get(id)?.pf)).size).toBe(2);
  });

  it('answers admission errors from the kubelet side as such (not a plugin failure)', async () => {
    const w = await world();
    await w.kubelet.waitForPlugin(IB);
    await expect(w.kubelet.allocate(IB, { count: 5 })).rejects.toBeInstanceOf(FakeKubeletAllocateError);
    expect(
      await metric(w.registry, 'rdmasched_agent_device_plugin_allocations_total', { resource: IB }),
    ).toBe(0);
  });
});

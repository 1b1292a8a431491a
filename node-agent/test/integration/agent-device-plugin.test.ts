/**
 * The daemon with its kubelet device plugin on (simulated host, real Redis, the testkit's fake
 * kubelet speaking the real gRPC APIs): VFs the kubelet hands to a pod with a reservation on the
 * node are reported in use with that pod's UID (named through the ledger), a foreign pod's VF has
 * no UID and counts as foreignInUse, and a released VF is free again.
 */
import { randomUUID } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  RedisKeys,
  VF_RESOURCE,
  parseNodeReport,
  type NodeReport,
  type PfCapacity,
} from '@rdmasched/contracts';
import { FakeKubeletDeviceManager } from '@rdmasched/testkit';
import { presetSpec } from '../../src/adapters/sim/presets.js';
import { SimulatedHost } from '../../src/adapters/sim/simulated-host.js';
import { parseConfig } from '../../src/config.js';
import { DevicePluginVfUsage } from '../../src/device-plugin/vf-usage.js';
import { startAgent, type RunningAgent } from '../../src/main.js';
import { makeReservation, tempHostDir } from '../support/harness.js';
import { eventually } from '../support/eventually.js';

const url = process.env['REDIS_URL'] ?? 'redis://127.0.0.1:6379';
const NODE = 'node-dp';
const IB = '0000:1a:00.0';
const keys = new RedisKeys({ prefix: `dp-${randomUUID().slice(0, 8)}` });
let r: Redis;
let kubelet: FakeKubeletDeviceManager;
let running: RunningAgent;
let host: ReturnType<typeof tempHostDir>;
let devRoot: string;

const report = async (): Promise<NodeReport | undefined> => {
  const json = await r.get(keys.report(NODE));
  const v = json === null ? undefined : parseNodeReport(json);
  return v?.ok === true ? v.value : undefined;
};
const capacity = async (pf: string): Promise<PfCapacity | undefined> => {
  const json = await r.hget(keys.nodeCapacity(NODE), pf);
  return json === null ? undefined : (JSON.parse(json) as PfCapacity);
};
const vf = async (address: string) =>
  (await report())?.pfs.flatMap((p) => p.vfs).find((v) => v.pciAddress === address);

beforeAll(async () => {
  r = new Redis(url);
  host = tempHostDir();
  devRoot = mkdtempSync(join(tmpdir(), 'rdmasched-dev-'));
  SimulatedHost.create(host.dir, presetSpec('reference-host', { numVfs: 4, configuredVfs: 4 }));
  // A reservation on the node, as the extender's bind script writes it (record, per-node set, counts).
  const reservation = { ...makeReservation('uid-a', IB, 1, NODE), namespace: 'team-a', podName: 'pod-a' };
  await r.set(keys.reservation('uid-a'), JSON.stringify(reservation));
  await r.sadd(keys.nodeReservations(NODE), 'uid-a');
  await r.hincrby(keys.nodeReserved(NODE), IB, 1);
  kubelet = await FakeKubeletDeviceManager.start();
  running = await startAgent(
    parseConfig({
      RDMASCHED_NODE_NAME: NODE,
      RDMASCHED_HOST_MODE: 'simulated',
      RDMASCHED_SIM_DIR: host.dir,
      RDMASCHED_REDIS_URL: url,
      RDMASCHED_REDIS_KEY_PREFIX: keys.prefix,
      RDMASCHED_HTTP_HOST: '127.0.0.1',
      RDMASCHED_HTTP_PORT: '0',
      RDMASCHED_HEARTBEAT_INTERVAL_MS: '200',
      RDMASCHED_DISCOVERY_INTERVAL_MS: '300',
      RDMASCHED_DEVICE_PLUGIN: 'on',
      RDMASCHED_DEVICE_PLUGIN_DIR: kubelet.pluginDir,
      RDMASCHED_POD_RESOURCES_SOCKET: kubelet.podResourcesSocket,
      RDMASCHED_DEV_ROOT: devRoot,
      RDMASCHED_DEVICE_PLUGIN_RECONCILE_INTERVAL_MS: '200',
      RDMASCHED_DEVICE_PLUGIN_RELEASE_GRACE_MS: '0',
      RDMASCHED_LOG_LEVEL: 'silent',
    }),
  );
});
afterAll(async () => {
  await running.stop();
  await kubelet.stop();
  await r.quit();
  host.cleanup();
  rmSync(devRoot, { recursive: true, force: true });
});

describe('the agent daemon with its device plugin', () => {
  it('registers its VF resources with the kubelet and owns VF usage', async () => {
    expect(running.usage).toBeInstanceOf(DevicePluginVfUsage);
    await kubelet.waitForDevices(
      VF_RESOURCE.ib,
      (d) => d.length === 4 && d.every((x) => x.health === 'Healthy'),
    );
    expect(kubelet.devices(VF_RESOURCE.roce)).toHaveLength(4);
  });

  it("names the pod of an allocated VF through the ledger; a foreign pod's VF counts as foreignInUse", async () => {
    const mine = await kubelet.allocate(VF_RESOURCE.ib, { count: 1, namespace: 'team-a', pod: 'pod-a' });
    const ours = mine.deviceIds[0] ?? '';
    await eventually(async () => expect(await vf(ours)).toMatchObject({ state: 'in-use', podUid: 'uid-a' }));
    // The capacity hash ({ledger} slot) is written right after the report ({node} slot), so it may
    // still hold the publish from before the pod was named (its VF then counted foreign).
    await eventually(async () => expect((await capacity(IB))?.foreignInUse).toBe(0));
    expect(await vf(ours)).toMatchObject({ state: 'in-use', podUid: 'uid-a' });

    const other = await kubelet.allocate(VF_RESOURCE.ib, {
      count: 1,
      namespace: 'elsewhere',
      pod: 'foreign',
    });
    const theirs = other.deviceIds[0] ?? '';
    await eventually(async () => expect((await capacity(IB))?.foreignInUse).toBe(1));
    const v = await vf(theirs);
    expect(v?.state).toBe('in-use');
    expect(v?.podUid ?? null).toBeNull();

    kubelet.release('elsewhere', 'foreign');
    await eventually(async () => expect((await capacity(IB))?.foreignInUse).toBe(0));
    expect((await vf(theirs))?.state).not.toBe('in-use');
    expect(await vf(ours)).toMatchObject({ state: 'in-use', podUid: 'uid-a' });
  });
});

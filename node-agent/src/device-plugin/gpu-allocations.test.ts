import { join } from 'node:path';
import { pino } from 'pino';
import { describe, expect, it } from 'vitest';
import { GPU_RESOURCE, VF_RESOURCE } from '@rdmasched/contracts';
import { FsSysfsReader } from '../adapters/fs/fs-sysfs-reader.js';
import { InMemoryLedger } from '../adapters/memory/in-memory-ledger.js';
import { presetSpec } from '../adapters/sim/presets.js';
import { SimulatedHost } from '../adapters/sim/simulated-host.js';
import { SimulatedHostTemplates } from '../adapters/sim/templates.js';
import { buildReportBody } from '../core/report.js';
import { parseGpuUuid } from '../core/nvidia-proc.js';
import { discover } from '../discovery/discover.js';
import type { KubeletAssignment } from './allocated-devices.js';
import { KubeletGpuUsage, readGpuUuids } from './gpu-allocations.js';
import { LedgerPodUidResolver } from './ledger-pod-uids.js';

const silent = pino({ level: 'silent' });
const host = SimulatedHost.inMemory(presetSpec('reference-host', {}), {
  hostname: 'gpu-node',
  templates: new SimulatedHostTemplates(),
});
const proc = new FsSysfsReader(host.procRoot, host.fs.promises);
const uuidOf = (bdf: string) =>
  parseGpuUuid(host.fs.readFileSync(join(host.procRoot, 'driver/nvidia/gpus', bdf, 'information'), 'utf8'));
const gpu = (bdf: string, pod = 'p'): KubeletAssignment => ({
  resource: GPU_RESOURCE,
  deviceId: uuidOf(bdf) ?? '',
  namespace: 'team-a',
  pod,
  container: 'main',
});

describe('GPU allocations from the PodResources API', () => {
  it('maps GPU UUIDs to PCI addresses from the NVIDIA procfs information files', async () => {
    const map = await readGpuUuids(proc);
    expect([...map.values()].sort()).toEqual([
      '0000:18:00.0',
      '0000:19:00.0',
      '0000:9c:00.0',
      '0000:9d:00.0',
    ]);
    expect(map.get((uuidOf('0000:19:00.0') ?? '').toLowerCase())).toBe('0000:19:00.0');
  });

  it.each([
    ['no GPU', [], []],
    [
      'two GPUs of one pod, VFs ignored',
      [gpu('0000:18:00.0'), gpu('0000:9c:00.0')],
      ['0000:18:00.0', '0000:9c:00.0'],
    ],
    [
      'a UUID this node does not have is left out',
      [gpu('0000:19:00.0'), { ...gpu('0000:19:00.0'), deviceId: 'GPU-00000000-0000-0000-0000-000000000000' }],
      ['0000:19:00.0'],
    ],
  ] as const)('%s', async (_what, gpus, expected) => {
    const usage = new KubeletGpuUsage({ proc, logger: silent });
    const vf: KubeletAssignment = {
      resource: VF_RESOURCE.ib,
      deviceId: '0000:1a:00.1',
      namespace: 'team-a',
      pod: 'p',
      container: 'main',
    };
    await usage.applyKubeletView([...gpus, vf]);
    expect([...usage.allocated()].sort()).toEqual(expected);
  });

  it('tells listeners on change only, and the report marks exactly those GPUs allocated', async () => {
    const usage = new KubeletGpuUsage({ proc, logger: silent });
    let changes = 0;
    usage.onChange(() => changes++);
    await usage.applyKubeletView([gpu('0000:9d:00.0')]);
    await usage.applyKubeletView([gpu('0000:9d:00.0')]);
    expect(changes).toBe(1);
    const body = buildReportBody(await discover(host.reader()), {
      nodeName: 'gpu-node',
      agentVersion: 't',
      heartbeatIntervalMs: 1000,
      maxVfs: (_pf, totalVfs) => totalVfs,
      resizing: new Set(),
      reserved: new Map(),
      inUse: new Map(),
      reservations: new Map(),
      allocatedGpus: usage.allocated(),
    });
    expect(body.body.gpus.filter((g) => g.allocated).map((g) => g.pciAddress)).toEqual(['0000:9d:00.0']);
  });
});

describe('pod UIDs through the ledger', () => {
  it("resolves a pod with a reservation on the node to its UID, others to null, and follows the ledger's changes", async () => {
    let now = 0;
    const ledger = new InMemoryLedger();
    const r = (uid: string, ns: string, name: string, node = 'gpu-node') => ({
      podUid: uid,
      namespace: ns,
      podName: name,
      tenant: 't',
      node,
      pfs: [{ pfPciAddress: '0000:1a:00.0', linkType: 'ib' as const, count: 1 }],
      gpus: [],
      state: 'bound' as const,
      createdAtMs: 0,
      expiresAtMs: 0,
    });
    ledger.reserve(r('uid-1', 'team-a', 'w-0'));
    ledger.reserve(r('uid-9', 'team-a', 'w-9', 'other-node'));
    const resolver = new LedgerPodUidResolver({
      ledger,
      nodeName: 'gpu-node',
      logger: silent,
      nowMs: () => now,
    });
    expect(await resolver.resolve('team-a', 'w-0')).toBe('uid-1');
    expect(await resolver.resolve('team-a', 'w-9')).toBeNull();
    expect(await resolver.resolve('other', 'w-0')).toBeNull();
    // The pod is deleted and recreated under the same name: a new reservation, a new UID.
    ledger.unreserve('uid-1');
    ledger.reserve(r('uid-2', 'team-a', 'w-0'));
    now += 10_000;
    expect(await resolver.resolve('team-a', 'w-0')).toBe('uid-2');
  });
});

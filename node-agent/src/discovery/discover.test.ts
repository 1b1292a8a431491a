import { mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { DistanceClass } from '@rdmasched/contracts';
import { referenceHostFixture } from '../../test/support/fixture-tree.js';
import { scratchBase, tempHostDir } from '../../test/support/harness.js';
import { FsSysfsReader } from '../adapters/fs/fs-sysfs-reader.js';
import { PRESETS, presetSpec } from '../adapters/sim/presets.js';
import { SimulatedHost } from '../adapters/sim/simulated-host.js';
import { buildReportBody, stampReport } from '../core/report.js';
import { discover } from './discover.js';
import type { Discovery } from './types.js';

const EXPECTED_73: [string, string, DistanceClass][] = [
  ['0000:18:00.0', '0000:1a:00.0', 'PIX'],
  ['0000:19:00.0', '0000:1a:00.0', 'PIX'],
  ['0000:9c:00.0', '0000:1a:00.0', 'SYS'],
  ['0000:9d:00.0', '0000:1a:00.0', 'SYS'],
  ['0000:18:00.0', '0000:9e:00.0', 'SYS'],
  ['0000:19:00.0', '0000:9e:00.0', 'SYS'],
  ['0000:9c:00.0', '0000:9e:00.0', 'PXB'],
  ['0000:9d:00.0', '0000:9e:00.0', 'PXB'],
];
const classOf = (d: Discovery, gpu: string, pf: string) =>
  d.distances.find((x) => x.gpu === gpu && x.pf === pf)?.class;

function reportOf(d: Discovery) {
  const body = buildReportBody(d, {
    nodeName: 'node-a',
    agentVersion: 'test',
    heartbeatIntervalMs: 5000,
    maxVfs: (_pf, totalVfs) => totalVfs,
    resizing: new Set(),
    reserved: new Map(),
    inUse: new Map(),
    reservations: new Map(),
  });
  return stampReport(body, 1, Date.UTC(2026, 10, 26)).report;
}

describe('discovery on the hand-written reference tree (reference §7)', () => {
  let fx: ReturnType<typeof referenceHostFixture>;
  let d: Discovery;
  beforeAll(async () => {
    fx = referenceHostFixture();
    d = await discover(new FsSysfsReader(fx.sysfsRoot));
  });
  afterAll(() => fx.cleanup());

  it.each(EXPECTED_73)('%s <-> %s is %s (§7.3)', (gpu, pf, cls) => expect(classOf(d, gpu, pf)).toBe(cls));

  it('finds both PFs with their link type, port, NUMA node, PCIe path and 4 unconfigured VFs each', () => {
    expect(
      d.pfs.map((p) => [
        p.pciAddress,
        p.linkType,
        p.netdev,
        p.rdmaDevice,
        p.portState,
        p.rateGbps,
        p.mtu,
        p.numaNode,
      ]),
    ).toEqual([
      ['0000:1a:00.0', 'ib', 'ibp26s0', 'mlx5_0', 'ACTIVE', 400, 2044, 0],
      ['0000:9e:00.0', 'roce', 'enp158s0np0', 'mlx5_1', 'ACTIVE', 400, 9000, 1],
    ]);
    expect(d.pfs[0]!.pciePath).toEqual([
      'pci0000:15',
      '0000:15:01.0',
      '0000:16:00.0',
      '0000:17:02.0',
      '0000:1a:00.0',
    ]);
    expect(d.pfs[0]!.sriov).toEqual({ totalVfs: 16, numVfs: 4, offset: 1, stride: 1, vfDeviceId: '0x101e' });
    expect(d.pfs[0]!.firmwareVersion).toBe('28.39.1002');
    for (const pf of d.pfs) {
      expect(pf.vfs.map((v) => v.index)).toEqual([0, 1, 2, 3]);
      expect(pf.vfs.every((v) => !v.configured && v.guid === null && v.driver === 'mlx5_core')).toBe(true);
    }
    expect(d.pfs[1]!.vfs.map((v) => v.rdmaDevice)).toEqual(['mlx5_6', 'mlx5_7', 'mlx5_8', 'mlx5_9']);
    expect(d.gpus.map((g) => [g.pciAddress, g.model, g.numaNode])).toEqual([
      ['0000:18:00.0', 'H100 SXM5 80GB', 0],
      ['0000:19:00.0', 'H100 SXM5 80GB', 0],
      ['0000:9c:00.0', 'H100 SXM5 80GB', 1],
      ['0000:9d:00.0', 'H100 SXM5 80GB', 1],
    ]);
    expect(d.numaNodes).toEqual([
      { id: 0, cpuList: '0-31,64-95' },
      { id: 1, cpuList: '32-63,96-127' },
    ]);
    expect(d.warnings).toEqual([]);
  });

  it('produces a report the contract accepts', () => {
    const r = reportOf(d);
    expect(r.ok ? [] : r.errors).toEqual([]);
  });

  it('the simulator gives the same topology for the same host', async () => {
    const h = tempHostDir();
    try {
      const sim = SimulatedHost.create(h.dir, presetSpec('reference-host'));
      const s = await discover(sim.reader());
      const strip = (x: Discovery) => ({
        gpus: x.gpus,
        distances: x.distances,
        numaNodes: x.numaNodes,
        // (the hand-written fixture lists no attributes of VF netdevs, so no VF MTU)
        pfs: x.pfs.map((p) => ({ ...p, vfs: p.vfs.map((v) => ({ ...v, mac: null, mtu: null })) })),
      });
      expect(strip(s)).toEqual(strip(d));
    } finally {
      h.cleanup();
    }
  });
});

describe('discovery on every preset', () => {
  it.each(PRESETS.map((p) => p.name))('%s: a valid report, nothing skipped', async (name) => {
    const h = tempHostDir();
    try {
      const sim = SimulatedHost.create(
        h.dir,
        presetSpec(name, name === 'sriov-disabled' ? {} : { numVfs: 2, configuredVfs: 1 }),
      );
      const d = await discover(sim.reader());
      expect(d.warnings).toEqual([]);
      const r = reportOf(d);
      expect(r.ok ? [] : r.errors).toEqual([]);
      expect(d.pfs.length).toBeGreaterThan(0);
    } finally {
      h.cleanup();
    }
  });

  it('dgx-h100: same switch PIX, other switch on the same socket NODE, other socket SYS', async () => {
    const h = tempHostDir();
    try {
      const d = await discover(SimulatedHost.create(h.dir, presetSpec('dgx-h100')).reader());
      expect(d.gpus).toHaveLength(8);
      expect(d.pfs).toHaveLength(8);
      expect(d.pfs.every((p) => p.linkType === 'ib' && p.rateGbps === 400 && p.model === 'ConnectX-7')).toBe(
        true,
      );
      const counts = new Map<DistanceClass, number>();
      for (const x of d.distances) counts.set(x.class, (counts.get(x.class) ?? 0) + 1);
      // per GPU: 2 NICs on its switch, 2 on the other switch of its socket, 4 on the other socket
      expect(Object.fromEntries(counts)).toEqual({ PIX: 16, NODE: 16, SYS: 32 });
      expect(classOf(d, '0000:18:00.0', '0000:1a:00.0')).toBe('PIX');
      expect(classOf(d, '0000:18:00.0', '0000:3c:00.0')).toBe('NODE');
      expect(classOf(d, '0000:18:00.0', '0000:9c:00.0')).toBe('SYS');
    } finally {
      h.cleanup();
    }
  });

  it('roce-single: no GPUs, one RoCE PF', async () => {
    const h = tempHostDir();
    try {
      const d = await discover(SimulatedHost.create(h.dir, presetSpec('roce-single')).reader());
      expect(d.gpus).toEqual([]);
      expect(d.pfs.map((p) => [p.linkType, p.linkLayer, p.rateGbps, p.netdev])).toEqual([
        ['roce', 'Ethernet', 200, 'enp1s0np0'],
      ]);
      expect(d.distances).toEqual([]);
    } finally {
      h.cleanup();
    }
  });

  it('sriov-disabled: the PF is reported with sriov null and no VFs', async () => {
    const h = tempHostDir();
    try {
      const d = await discover(SimulatedHost.create(h.dir, presetSpec('sriov-disabled')).reader());
      expect(d.pfs).toHaveLength(1);
      expect(d.pfs[0]).toMatchObject({ sriov: null, vfs: [], linkType: 'ib' });
    } finally {
      h.cleanup();
    }
  });
});

describe('read errors are "no value", never a crash (reference §0.5)', () => {
  it('EINVAL on gid_attrs/ndevs, node_guid, rate and numa_node leaves those fields empty', async () => {
    const h = tempHostDir();
    try {
      const sim = SimulatedHost.create(h.dir, presetSpec('reference-host', { configuredVfs: 4 }), {
        readFaults: [
          { path: /gid_attrs\/ndevs\//, errno: 'EINVAL' },
          { path: /0000:1a:00\.2\/infiniband\/[^/]+\/node_guid$/, errno: 'EINVAL' },
          { path: /0000:9e:00\.0\/infiniband\/[^/]+\/ports\/1\/rate$/, errno: 'EINVAL' },
          { path: /0000:18:00\.0\/numa_node$/, errno: 'EIO' },
          { path: /0000:9e:00\.0\/net$/, errno: 'EIO' },
        ],
      });
      const d = await discover(sim.reader());
      const ib = d.pfs.find((p) => p.pciAddress === '0000:1a:00.0')!;
      expect(ib.vfs.find((v) => v.pciAddress === '0000:1a:00.2')).toMatchObject({
        configured: false,
        guid: null,
      });
      expect(ib.vfs.filter((v) => v.configured)).toHaveLength(3);
      const roce = d.pfs.find((p) => p.pciAddress === '0000:9e:00.0')!;
      expect(roce).toMatchObject({ rateGbps: 0, netdev: null, mtu: null, linkType: 'roce' });
      expect(d.gpus.find((g) => g.pciAddress === '0000:18:00.0')?.numaNode).toBe(-1);
      const r = reportOf(d);
      expect(r.ok ? [] : r.errors).toEqual([]);
    } finally {
      h.cleanup();
    }
  });

  it('an unfaithful tree (plain directories, dangling physfn, garbage values) gives warnings, not a crash', async () => {
    const dir = mkdtempSync(join(scratchBase(), 'rdmasched-bad-'));
    try {
      const devs = join(dir, 'bus/pci/devices');
      const pf = join(devs, '0000:01:00.0');
      mkdirSync(join(pf, 'infiniband/mlx5_0/ports/1'), { recursive: true });
      writeFileSync(join(pf, 'vendor'), '0x15b3\n');
      writeFileSync(join(pf, 'device'), '0x1021\n');
      writeFileSync(join(pf, 'class'), '1024\n');
      writeFileSync(join(pf, 'sriov_totalvfs'), 'lots\n');
      writeFileSync(join(pf, 'infiniband/mlx5_0/ports/1/link_layer'), 'InfiniBand\n');
      writeFileSync(join(pf, 'infiniband/mlx5_0/ports/1/rate'), 'fast\n');
      symlinkSync('../0000:01:00.1', join(pf, 'virtfn0'));
      mkdirSync(join(devs, 'not-a-bdf'));
      const d = await discover(new FsSysfsReader(dir));
      expect(d.pfs).toHaveLength(1);
      expect(d.pfs[0]).toMatchObject({ pciePath: [], sriov: null, rateGbps: 0, numaNode: -1, vfs: [] });
      expect(d.warnings.join('\n')).toMatch(/no PCIe path/);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('the reader refuses paths that leave the root', async () => {
    const r = new FsSysfsReader('/sys');
    expect(await r.read('../etc/passwd')).toBeUndefined();
    expect(await r.read('/etc/passwd')).toBeUndefined();
    expect(await r.list('bus/../../etc')).toEqual([]);
  });
});

import { describe, expect, it } from 'vitest';
import type { PortState } from '@rdmasched/contracts';
import type { DiscoveredPf, DiscoveredVf, Discovery } from '../discovery/types.js';
import { deviceList, inventoryFromDiscovery, sameDeviceList, vfHealth, type VfDevice } from './inventory.js';

/** A PF with `n` VFs; `configured` says which ones are configured. */
function pf(
  address: string,
  o: {
    linkType?: 'ib' | 'roce';
    numaNode?: number;
    portState?: PortState;
    vfs?: number;
    configured?: (i: number) => boolean;
    sriov?: boolean;
  } = {},
): DiscoveredPf {
  const linkType = o.linkType ?? 'ib';
  const numaNode = o.numaNode ?? 0;
  const bus = address.slice(0, 7);
  const vfs: DiscoveredVf[] = Array.from({ length: o.vfs ?? 2 }, (_, i) => ({
    index: i,
    pciAddress: `${bus}:00.${i + 1}`,
    pfPciAddress: address,
    linkType,
    numaNode,
    netdev: null,
    mtu: null,
    rdmaDevice: `mlx5_${i + 2}`,
    driver: 'mlx5_core',
    configured: o.configured?.(i) ?? true,
    guid: null,
    mac: null,
  }));
  return {
    pciAddress: address,
    vendorId: '0x15b3',
    deviceId: '0x1021',
    model: 'ConnectX-7',
    driver: 'mlx5_core',
    netdev: 'ib0',
    rdmaDevice: 'mlx5_0',
    port: 1,
    linkType,
    linkLayer: linkType === 'ib' ? 'InfiniBand' : 'Ethernet',
    portState: o.portState ?? 'ACTIVE',
    rateGbps: 400,
    mtu: 4092,
    numaNode,
    pciePath: [],
    firmwareVersion: null,
    sriov:
      o.sriov === false
        ? null
        : { totalVfs: 16, numVfs: vfs.length, offset: 1, stride: 1, vfDeviceId: '0x101e' },
    vfs: o.sriov === false ? [] : vfs,
  };
}

const discovery = (...pfs: DiscoveredPf[]): Discovery => ({
  numaNodes: [],
  gpus: [],
  pfs,
  distances: [],
  warnings: [],
});

describe('vfHealth', () => {
  const vf: VfDevice = {
    id: '0000:1a:00.1',
    pf: '0000:1a:00.0',
    linkType: 'ib',
    numaNode: 0,
    rdmaDevice: 'mlx5_2',
    configured: true,
    portActive: true,
  };
  it.each<[string, Partial<VfDevice>, boolean, string | undefined]>([
    ['configured, port ACTIVE, unlocked', {}, false, undefined],
    ['not configured', { configured: false }, false, 'NOT_CONFIGURED'],
    ['port not ACTIVE', { portActive: false }, false, 'PORT_NOT_ACTIVE'],
    ['PF locked', {}, true, 'PF_LOCKED'],
    ['not configured wins over a lock', { configured: false }, true, 'NOT_CONFIGURED'],
  ])('%s', (_name, over, locked, reason) => {
    const h = vfHealth({ ...vf, ...over }, locked);
    expect(h.healthy ? undefined : h.reason).toBe(reason);
  });
});

describe('deviceList', () => {
  const inv = inventoryFromDiscovery(
    discovery(
      pf('0000:1a:00.0', { numaNode: 1, configured: (i) => i !== 1 }),
      pf('0000:9e:00.0', { linkType: 'roce', numaNode: -1 }),
      pf('0000:3b:00.0', { portState: 'INIT' }),
      pf('0000:5c:00.0', { sriov: false }),
    ),
  );

  it('lists the VFs of one link type by address, with health and NUMA topology', () => {
    expect(deviceList(inv, 'ib', (p) => p === '0000:3b:00.0')).toEqual([
      { ID: '0000:1a:00.1', health: 'Healthy', topology: { nodes: [{ ID: 1 }] } },
      { ID: '0000:1a:00.2', health: 'Unhealthy', topology: { nodes: [{ ID: 1 }] } },
      { ID: '0000:3b:00.1', health: 'Unhealthy', topology: { nodes: [{ ID: 0 }] } },
      { ID: '0000:3b:00.2', health: 'Unhealthy', topology: { nodes: [{ ID: 0 }] } },
    ]);
  });

  it('omits the topology when the NUMA node is unknown (-1)', () => {
    expect(deviceList(inv, 'roce', () => false)).toEqual([
      { ID: '0000:9e:00.1', health: 'Healthy', topology: null },
      { ID: '0000:9e:00.2', health: 'Healthy', topology: null },
    ]);
  });

  it('knows no VF of a PF with SR-IOV off', () => {
    expect([...inv.vfs.values()].some((v) => v.pf === '0000:5c:00.0')).toBe(false);
  });

  it('tells lists apart by ID, health and NUMA node only', () => {
    const a = deviceList(inv, 'ib', () => false);
    expect(
      sameDeviceList(
        a,
        deviceList(inv, 'ib', () => false),
      ),
    ).toBe(true);
    expect(
      sameDeviceList(
        a,
        deviceList(inv, 'ib', () => true),
      ),
    ).toBe(false);
    expect(sameDeviceList(a, a.slice(1))).toBe(false);
    expect(
      sameDeviceList(
        a,
        a.map((d) => ({ ...d, topology: { nodes: [{ ID: 7 }] } })),
      ),
    ).toBe(false);
  });
});

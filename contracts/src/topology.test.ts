import { describe, expect, it } from 'vitest';
import { classifyDistance, pciePathFromRealpath, type DistanceClass } from './topology.js';

// The example host of reference/sysfs-sriov-rdma.md §7, and its expected matrix (§7.3).
const host = {
  GPU0: {
    pciePath: ['pci0000:15', '0000:15:01.0', '0000:16:00.0', '0000:17:00.0', '0000:18:00.0'],
    numaNode: 0,
  },
  GPU1: {
    pciePath: ['pci0000:15', '0000:15:01.0', '0000:16:00.0', '0000:17:01.0', '0000:19:00.0'],
    numaNode: 0,
  },
  GPU2: {
    pciePath: [
      'pci0000:97',
      '0000:97:01.0',
      '0000:98:00.0',
      '0000:99:00.0',
      '0000:9a:00.0',
      '0000:9b:00.0',
      '0000:9c:00.0',
    ],
    numaNode: 1,
  },
  GPU3: {
    pciePath: [
      'pci0000:97',
      '0000:97:01.0',
      '0000:98:00.0',
      '0000:99:00.0',
      '0000:9a:00.0',
      '0000:9b:01.0',
      '0000:9d:00.0',
    ],
    numaNode: 1,
  },
  mlx5_0: {
    pciePath: ['pci0000:15', '0000:15:01.0', '0000:16:00.0', '0000:17:02.0', '0000:1a:00.0'],
    numaNode: 0,
  },
  mlx5_1: {
    pciePath: ['pci0000:97', '0000:97:01.0', '0000:98:00.0', '0000:99:01.0', '0000:9e:00.0'],
    numaNode: 1,
  },
};
type Dev = keyof typeof host;

const expected: [Dev, Dev, DistanceClass][] = [
  ['GPU0', 'GPU1', 'PIX'],
  ['GPU0', 'GPU2', 'SYS'],
  ['GPU0', 'mlx5_0', 'PIX'],
  ['GPU0', 'mlx5_1', 'SYS'],
  ['GPU1', 'mlx5_0', 'PIX'],
  ['GPU2', 'GPU3', 'PIX'],
  ['GPU2', 'mlx5_1', 'PXB'],
  ['GPU3', 'mlx5_1', 'PXB'],
  ['GPU2', 'mlx5_0', 'SYS'],
  ['mlx5_0', 'mlx5_1', 'SYS'],
];

describe('classifyDistance', () => {
  it.each(expected)('%s <-> %s is %s (reference §7.3)', (a, b, cls) => {
    expect(classifyDistance(host[a], host[b])).toBe(cls);
    expect(classifyDistance(host[b], host[a])).toBe(cls);
  });

  it('different root ports under one host bridge is PHB', () => {
    const a = { pciePath: ['pci0000:00', '0000:00:01.0', '0000:01:00.0'], numaNode: 0 };
    const b = { pciePath: ['pci0000:00', '0000:00:03.0', '0000:02:00.0'], numaNode: 0 };
    expect(classifyDistance(a, b)).toBe('PHB');
  });

  it('different host bridges on one NUMA node is NODE, unknown NUMA is SYS', () => {
    const a = { pciePath: ['pci0000:00', '0000:00:01.0', '0000:01:00.0'], numaNode: 0 };
    const b = { pciePath: ['pci0000:40', '0000:40:01.0', '0000:41:00.0'], numaNode: 0 };
    expect(classifyDistance(a, b)).toBe('NODE');
    expect(classifyDistance({ ...a, numaNode: -1 }, { ...b, numaNode: -1 })).toBe('SYS');
  });

  it('treats an unknown path as SYS', () => {
    expect(classifyDistance({ pciePath: [], numaNode: 0 }, host.GPU0)).toBe('SYS');
  });
});

describe('pciePathFromRealpath', () => {
  it('takes the host bridge and the BDF chain', () => {
    expect(
      pciePathFromRealpath('/sys/devices/pci0000:15/0000:15:01.0/0000:16:00.0/0000:17:02.0/0000:1a:00.0'),
    ).toEqual(host.mlx5_0.pciePath);
  });
  it('stops at the first non-BDF component', () => {
    expect(pciePathFromRealpath('/x/sys/devices/pci0000:15/0000:15:01.0/net/eth0')).toEqual([
      'pci0000:15',
      '0000:15:01.0',
    ]);
  });
  it('returns [] without a host bridge', () => {
    expect(pciePathFromRealpath('/sys/devices/virtual/net/lo')).toEqual([]);
  });
});

import { mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { FsSysfsReader } from '../adapters/fs/fs-sysfs-reader.js';
import { hasRdmaCm, rdmaDeviceOf, readCharDeviceIndex } from './char-devices.js';

const dirs: string[] = [];
afterEach(() => {
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

/** A sysfs root holding the char-device classes, written as the kernel lays them out (§3.2). */
function sysfs(entries: Record<string, Record<string, string>>): string {
  const root = mkdtempSync(join(tmpdir(), 'rdmasched-chardev-'));
  dirs.push(root);
  for (const [path, attrs] of Object.entries(entries)) {
    mkdirSync(join(root, path), { recursive: true });
    for (const [k, v] of Object.entries(attrs)) writeFileSync(join(root, path, k), `${v}\n`);
  }
  return root;
}

describe('readCharDeviceIndex', () => {
  it('maps each RDMA device to its uverbs, umad, issm and ucm nodes by their ibdev', async () => {
    const root = sysfs({
      'class/infiniband_verbs': { abi_version: '6' },
      'class/infiniband_verbs/uverbs0': { ibdev: 'mlx5_0', dev: '231:192' },
      'class/infiniband_verbs/uverbs10': { ibdev: 'mlx5_2' },
      'class/infiniband_verbs/uverbs2': { ibdev: 'mlx5_2' },
      'class/infiniband_mad': { abi_version: '5' },
      'class/infiniband_mad/umad2': { ibdev: 'mlx5_2', port: '1' },
      'class/infiniband_mad/issm2': { ibdev: 'mlx5_2', port: '1' },
      'class/infiniband_mad/umad0': { ibdev: 'mlx5_0', port: '1' },
      'class/infiniband_cm/ucm2': { ibdev: 'mlx5_2' },
    });
    const index = await readCharDeviceIndex(new FsSysfsReader(root));
    expect(index.get('mlx5_2')).toEqual([
      '/dev/infiniband/uverbs2',
      '/dev/infiniband/uverbs10',
      '/dev/infiniband/umad2',
      '/dev/infiniband/issm2',
      '/dev/infiniband/ucm2',
    ]);
    expect(index.get('mlx5_0')).toEqual(['/dev/infiniband/uverbs0', '/dev/infiniband/umad0']);
  });

  it('ignores entries that are not kernel char-device names and ibdev values that are not device names', async () => {
    const root = sysfs({
      'class/infiniband_verbs/uverbs1': { ibdev: '../../etc' },
      'class/infiniband_verbs/evil': { ibdev: 'mlx5_3' },
      'class/infiniband_verbs/uverbs3': { ibdev: 'mlx5_3' },
      'class/infiniband_mad/umad3x': { ibdev: 'mlx5_3' },
      'class/infiniband_verbs/uverbs4': {},
    });
    const index = await readCharDeviceIndex(new FsSysfsReader(root));
    expect([...index]).toEqual([['mlx5_3', ['/dev/infiniband/uverbs3']]]);
  });

  it('is empty when the classes do not exist (no RDMA stack)', async () => {
    expect((await readCharDeviceIndex(new FsSysfsReader(sysfs({})))).size).toBe(0);
  });
});

describe('rdmaDeviceOf / hasRdmaCm', () => {
  it('reads the VF’s RDMA device from <vf>/infiniband through the bus link', async () => {
    const root = sysfs({ 'devices/pci0000:15/0000:1a:00.1/infiniband/mlx5_4': { node_type: '1: CA' } });
    mkdirSync(join(root, 'bus/pci/devices'), { recursive: true });
    symlinkSync('../../../devices/pci0000:15/0000:1a:00.1', join(root, 'bus/pci/devices/0000:1a:00.1'));
    const reader = new FsSysfsReader(root);
    expect(await rdmaDeviceOf(reader, '0000:1a:00.1')).toBe('mlx5_4');
    expect(await rdmaDeviceOf(reader, '0000:1a:00.2')).toBeUndefined();
  });

  it('finds rdma_cm only where the host has it', async () => {
    const dev = mkdtempSync(join(tmpdir(), 'rdmasched-dev-'));
    dirs.push(dev);
    expect(await hasRdmaCm(dev)).toBe(false);
    mkdirSync(join(dev, 'infiniband'));
    writeFileSync(join(dev, 'infiniband', 'rdma_cm'), '');
    expect(await hasRdmaCm(dev)).toBe(true);
  });
});

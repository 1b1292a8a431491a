import { describe, expect, it } from 'vitest';
import { kernfsLinkTarget } from './kernfs.js';

const dev = '/r/sys/devices/pci0000:15/0000:15:01.0/0000:16:00.0/0000:17:02.0';

describe('kernfs-style relative symlinks (reference §0.2)', () => {
  it.each([
    // net/<if>/device climbs to the target's parent, not just to the target
    [`${dev}/0000:1a:00.0/net/ibp26s0/device`, `${dev}/0000:1a:00.0`, '../../../0000:1a:00.0'],
    [`${dev}/0000:1a:00.0/virtfn0`, `${dev}/0000:1a:00.1`, '../0000:1a:00.1'],
    [`${dev}/0000:1a:00.1/physfn`, `${dev}/0000:1a:00.0`, '../0000:1a:00.0'],
    [
      `${dev}/0000:1a:00.0/driver`,
      '/r/sys/bus/pci/drivers/mlx5_core',
      '../../../../../../bus/pci/drivers/mlx5_core',
    ],
    [
      '/r/sys/bus/pci/devices/0000:1a:00.0',
      `${dev}/0000:1a:00.0`,
      '../../../devices/pci0000:15/0000:15:01.0/0000:16:00.0/0000:17:02.0/0000:1a:00.0',
    ],
    [
      '/r/sys/class/net/ibp26s0',
      `${dev}/0000:1a:00.0/net/ibp26s0`,
      '../../devices/pci0000:15/0000:15:01.0/0000:16:00.0/0000:17:02.0/0000:1a:00.0/net/ibp26s0',
    ],
    [
      '/r/sys/kernel/iommu_groups/7/devices/0000:1a:00.0',
      `${dev}/0000:1a:00.0`,
      '../../../../devices/pci0000:15/0000:15:01.0/0000:16:00.0/0000:17:02.0/0000:1a:00.0',
    ],
  ])('%s -> %s', (link, target, expected) => {
    expect(kernfsLinkTarget(link, target)).toBe(expected);
  });
});

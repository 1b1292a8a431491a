import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { tempHostDir } from '../../../test/support/harness.js';
import { discover } from '../../discovery/discover.js';
import { PRESETS, presetSpec } from './presets.js';
import { SimulatedHost } from './simulated-host.js';
import { SimulatedHostTemplates } from './templates.js';

describe('simulated hosts in memory, from templates', () => {
  it.each(PRESETS.map((p) => p.name))(
    '%s: discovery reads the same topology in memory as on disk',
    async (name) => {
      const spec = presetSpec(name, {});
      const d = tempHostDir();
      try {
        const disk = SimulatedHost.create(d.dir, spec, { hostname: 'h1' });
        const mem = SimulatedHost.inMemory(spec, { hostname: 'h1', templates: new SimulatedHostTemplates() });
        expect(await discover(mem.reader())).toEqual(await discover(disk.reader()));
        // Same host name: the files that carry it match too.
        for (const host of [disk, mem]) expect(host.hostname).toBe('h1');
        const ib = disk.fs.readdirSync(join(disk.sysfsRoot, 'class/infiniband')).sort();
        for (const dev of ib)
          expect(mem.fs.readFileSync(join(mem.sysfsRoot, 'class/infiniband', dev, 'node_desc'), 'utf8')).toBe(
            disk.fs.readFileSync(join(disk.sysfsRoot, 'class/infiniband', dev, 'node_desc'), 'utf8'),
          );
      } finally {
        d.cleanup();
      }
    },
  );

  it('builds one template per spec; hosts made from it are apart and carry their own names', async () => {
    const templates = new SimulatedHostTemplates();
    const spec = presetSpec('dgx-h100', {});
    const a = SimulatedHost.inMemory(spec, { hostname: 'node-a', templates });
    const b = SimulatedHost.inMemory(spec, { hostname: 'node-b', templates });
    SimulatedHost.inMemory(presetSpec('dgx-h100', { totalVfs: 8 }), { hostname: 'node-c', templates });
    expect(templates.size).toBe(2);
    expect(await a.setNumVfs('0000:1a:00.0', 4)).toEqual({ ok: true });
    const pf = async (h: SimulatedHost) =>
      (await discover(h.reader())).pfs.find((p) => p.pciAddress === '0000:1a:00.0')?.vfs.length;
    expect([await pf(a), await pf(b)]).toEqual([4, 0]);
    const desc = (h: SimulatedHost) =>
      h.fs.readFileSync(join(h.sysfsRoot, 'class/infiniband/mlx5_0/node_desc'), 'utf8');
    expect([desc(a), desc(b)]).toEqual(['node-a mlx5_0\n', 'node-b mlx5_0\n']);
    const uuid = (h: SimulatedHost) =>
      /GPU UUID:\s*(\S+)/.exec(
        h.fs.readFileSync(join(h.procRoot, 'driver/nvidia/gpus/0000:18:00.0/information'), 'utf8'),
      )?.[1];
    expect(uuid(a)).toMatch(/^GPU-[0-9a-f]{8}-/);
    expect(uuid(a)).not.toBe(uuid(b));
  });
});

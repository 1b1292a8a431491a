import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { tempHostDir } from '../../../test/support/harness.js';
import type { SimFs } from '../fs/sim-fs.js';
import { discover } from '../../discovery/discover.js';
import type { HostErrno } from '../../ports/host-control.js';
import { presetSpec } from './presets.js';
import type { HostSpec } from './spec.js';
import { SimulatedHost, type HostEvent, type SimulatedHostOptions } from './simulated-host.js';
import { SimulatedHostTemplates } from './templates.js';

/** Every test runs on a host written to disk and on one in memory (made from a shared template). */
type MakeHost = (spec: HostSpec, opts?: SimulatedHostOptions) => { sim: SimulatedHost; cleanup: () => void };
const templates = new SimulatedHostTemplates();
let hostSeq = 0;
const BACKENDS: [string, MakeHost][] = [
  [
    'on disk',
    (spec, opts = {}) => {
      const d = tempHostDir();
      return { sim: SimulatedHost.create(d.dir, spec, opts), cleanup: d.cleanup };
    },
  ],
  [
    'in memory',
    (spec, opts = {}) => ({
      sim: SimulatedHost.inMemory(spec, { ...opts, hostname: `mem-${++hostSeq}`, templates }),
      cleanup: () => undefined,
    }),
  ],
];

const PF = '0000:1a:00.0';
const ROCE = '0000:9e:00.0';
const numvfs = `bus/pci/devices/${PF}/sriov_numvfs`;

function lstatSafe(fs: SimFs, p: string): boolean {
  try {
    fs.lstatSync(p);
    return true;
  } catch {
    return false;
  }
}

describe.each(BACKENDS)('the simulated host %s', (_backend, makeHost) => {
  let dir: { cleanup: () => void };
  let sim: SimulatedHost;
  const fs = (): SimFs => sim.fs;
  const read = (rel: string) => fs().readFileSync(join(sim.sysfsRoot, rel), 'utf8');
  const exists = (rel: string) => {
    try {
      fs().lstatSync(join(sim.sysfsRoot, rel));
      return true;
    } catch {
      return false;
    }
  };
  const fail = (errno: HostErrno): unknown => expect.objectContaining({ ok: false, errno }) as unknown;

  beforeEach(() => {
    const made = makeHost(presetSpec('reference-host', { numVfs: 0 }));
    dir = made;
    sim = made.sim;
  });
  afterEach(() => dir.cleanup());

  describe('sriov_numvfs write semantics (reference §1.2, §7.5)', () => {
    it.each([
      ['garbage', 'EINVAL'],
      ['-1', 'EINVAL'],
      ['65536', 'ERANGE'],
      ['17', 'ERANGE'],
    ] as const)('%j -> %s and nothing changes', async (value, errno) => {
      expect(await sim.writeSysfs(numvfs, value)).toEqual(fail(errno));
      expect(read(numvfs)).toBe('0\n');
      expect(exists(`bus/pci/devices/${PF}/virtfn0`)).toBe(false);
    });

    it('0 -> N creates sibling VFs with links, drivers, netdevs and RDMA devices; same value is a no-op', async () => {
      expect(await sim.writeSysfs(numvfs, '4\n')).toEqual({ ok: true });
      expect(read(numvfs)).toBe('4\n');
      const pfReal = fs().realpathSync(join(sim.sysfsRoot, 'bus/pci/devices', PF));
      for (let i = 0; i < 4; i++) {
        const vf = `0000:1a:00.${i + 1}`;
        expect(fs().readlinkSync(join(sim.sysfsRoot, `bus/pci/devices/${PF}/virtfn${i}`))).toBe(`../${vf}`);
        expect(fs().readlinkSync(join(sim.sysfsRoot, `bus/pci/devices/${vf}/physfn`))).toBe(`../${PF}`);
        // Siblings of the PF: same parent directory (the switch downstream port).
        expect(fs().realpathSync(join(sim.sysfsRoot, 'bus/pci/devices', vf))).toBe(join(pfReal, '..', vf));
        expect(fs().readlinkSync(join(sim.sysfsRoot, `bus/pci/devices/${vf}/driver`))).toBe(
          '../../../../../../bus/pci/drivers/mlx5_core',
        );
        expect(read(`bus/pci/devices/${vf}/device`)).toBe('0x101e\n');
        expect(read(`bus/pci/devices/${vf}/modalias`)).toMatch(/^pci:v000015B3d0000101Esv.*bc02sc07i00\n$/);
        expect(fs().readdirSync(join(sim.sysfsRoot, `bus/pci/devices/${vf}/net`))).toEqual([`ibp26s0v${i}`]);
        const [ib] = fs().readdirSync(join(sim.sysfsRoot, `bus/pci/devices/${vf}/infiniband`));
        expect(read(`class/infiniband/${ib}/node_guid`)).toBe('0000:0000:0000:0000\n');
        expect(read(`class/infiniband/${ib}/ports/1/state`)).toBe('1: DOWN\n');
      }
      expect(await sim.writeSysfs(numvfs, '4')).toEqual({ ok: true });
      expect(await sim.writeSysfs(numvfs, '0x4')).toEqual({ ok: true });
    });

    it('N -> M with both non-zero is EBUSY; N -> 0 removes every trace of the VFs', async () => {
      await sim.writeSysfs(numvfs, '4');
      expect(await sim.writeSysfs(numvfs, '8')).toEqual(fail('EBUSY'));
      expect(await sim.writeSysfs(numvfs, '+2')).toEqual(fail('EBUSY'));
      expect(read(numvfs)).toBe('4\n');
      expect(await sim.writeSysfs(numvfs, '0')).toEqual({ ok: true });
      expect(read(numvfs)).toBe('0\n');
      expect(exists('bus/pci/devices/0000:1a:00.1')).toBe(false);
      expect(exists(`bus/pci/devices/${PF}/virtfn0`)).toBe(false);
      expect(fs().readdirSync(join(sim.sysfsRoot, 'class/infiniband')).sort()).toEqual(['mlx5_0', 'mlx5_1']);
      expect(fs().readdirSync(join(sim.sysfsRoot, 'class/net')).sort()).toEqual(['enp158s0np0', 'ibp26s0']);
      expect(
        fs()
          .readdirSync(join(sim.sysfsRoot, 'bus/pci/drivers/mlx5_core'))
          .filter((n) => n.startsWith('0000:'))
          .sort(),
      ).toEqual([PF, ROCE]);
    });

    it('ENOENT without a bound driver, and on a PF with SR-IOV disabled in firmware', async () => {
      expect(await sim.writeSysfs('bus/pci/drivers/mlx5_core/unbind', PF)).toEqual({ ok: true });
      expect(await sim.writeSysfs(numvfs, '2')).toEqual(fail('ENOENT'));
      const d2 = makeHost(presetSpec('sriov-disabled'));
      const off = d2.sim;
      try {
        expect(lstatSafe(off.fs, join(off.sysfsRoot, 'bus/pci/devices/0000:03:00.0/sriov_totalvfs'))).toBe(
          false,
        );
        expect(await off.writeSysfs('bus/pci/devices/0000:03:00.0/sriov_numvfs', '1')).toEqual(
          fail('ENOENT'),
        );
      } finally {
        d2.cleanup();
      }
    });

    it('refuses read-only attributes, missing files and paths outside sysfs', async () => {
      expect(await sim.writeSysfs(`bus/pci/devices/${PF}/vendor`, '0x1234')).toEqual(fail('EACCES'));
      expect(await sim.writeSysfs(`bus/pci/devices/${PF}/no_such_attr`, '1')).toEqual(fail('ENOENT'));
      expect(await sim.writeSysfs('../../etc/passwd', 'x')).toEqual(fail('ENOENT'));
      expect(read(`bus/pci/devices/${PF}/vendor`)).toBe('0x15b3\n');
    });

    it('sriov_drivers_autoprobe=0 leaves new VFs unbound until drivers_probe', async () => {
      expect(await sim.writeSysfs(`bus/pci/devices/${PF}/sriov_drivers_autoprobe`, 'off')).toEqual({
        ok: true,
      });
      await sim.writeSysfs(numvfs, '2');
      expect(exists('bus/pci/devices/0000:1a:00.1/driver')).toBe(false);
      expect(exists('bus/pci/devices/0000:1a:00.1/net')).toBe(false);
      expect(await sim.writeSysfs('bus/pci/drivers_probe', '0000:1a:00.1\n')).toEqual({ ok: true });
      expect(fs().readlinkSync(join(sim.sysfsRoot, 'bus/pci/devices/0000:1a:00.1/driver'))).toMatch(
        /mlx5_core$/,
      );
      expect(await sim.writeSysfs(`bus/pci/devices/${PF}/sriov_drivers_autoprobe`, 'maybe')).toEqual(
        fail('EINVAL'),
      );
    });
  });

  describe('driver binding (reference §1.5)', () => {
    const vf = '0000:1a:00.1';
    beforeEach(async () => {
      await sim.writeSysfs(numvfs, '2');
    });

    it('bind EBUSY when bound, ENODEV for a driver that does not match; unbind ENODEV from the wrong driver', async () => {
      expect(await sim.writeSysfs('bus/pci/drivers/mlx5_core/bind', vf)).toEqual(fail('EBUSY'));
      expect(await sim.writeSysfs('bus/pci/drivers/nvidia/unbind', vf)).toEqual(fail('ENODEV'));
      expect(await sim.writeSysfs('bus/pci/drivers/mlx5_core/unbind', vf)).toEqual({ ok: true });
      expect(exists(`bus/pci/devices/${vf}/driver`)).toBe(false);
      expect(exists(`bus/pci/drivers/mlx5_core/${vf}`)).toBe(false);
      expect(exists(`bus/pci/devices/${vf}/net`)).toBe(false);
      expect(await sim.writeSysfs('bus/pci/drivers/nvidia/bind', vf)).toEqual(fail('ENODEV'));
      expect(await sim.writeSysfs('bus/pci/drivers/mlx5_core/bind', '0000:77:00.0')).toEqual(fail('ENODEV'));
      expect(await sim.writeSysfs('bus/pci/drivers/mlx5_core/bind', vf)).toEqual({ ok: true });
    });

    it('driver_override restricts matching, has no bind side effect, and clears with a newline', async () => {
      await sim.writeSysfs('bus/pci/drivers/mlx5_core/unbind', vf);
      expect(await sim.writeSysfs(`bus/pci/devices/${vf}/driver_override`, 'vfio-pci\n')).toEqual({
        ok: true,
      });
      expect(read(`bus/pci/devices/${vf}/driver_override`)).toBe('vfio-pci\n');
      expect(exists(`bus/pci/devices/${vf}/driver`)).toBe(false);
      expect(await sim.writeSysfs('bus/pci/drivers/mlx5_core/bind', vf)).toEqual(fail('ENODEV'));
      expect(await sim.writeSysfs('bus/pci/drivers_probe', vf)).toEqual({ ok: true });
      expect(fs().readlinkSync(join(sim.sysfsRoot, `bus/pci/devices/${vf}/driver`))).toMatch(/vfio-pci$/);
      expect(exists(`bus/pci/devices/${vf}/infiniband`)).toBe(false);
      await sim.writeSysfs('bus/pci/drivers/vfio-pci/unbind', vf);
      expect(await sim.writeSysfs(`bus/pci/devices/${vf}/driver_override`, '\n')).toEqual({ ok: true });
      expect(read(`bus/pci/devices/${vf}/driver_override`)).toBe('(null)\n');
      expect(await sim.writeSysfs(`bus/pci/devices/${vf}/driver_override`, 'x'.repeat(5000))).toEqual(
        fail('EINVAL'),
      );
    });
  });

  describe('VF GUIDs and MACs through the emulated ip (reference §4.1, §7.5)', () => {
    it('an IB VF GUID reads all zeros until set with ip and the VF is rebound', async () => {
      await sim.setNumVfs(PF, 2);
      const guid = '02:00:00:00:00:00:00:07';
      expect(await sim.setVfGuids('ibp26s0', 0, { nodeGuid: guid, portGuid: guid })).toEqual({ ok: true });
      const ib = () => fs().readdirSync(join(sim.sysfsRoot, 'bus/pci/devices/0000:1a:00.1/infiniband'))[0]!;
      expect(read(`bus/pci/devices/0000:1a:00.1/infiniband/${ib()}/node_guid`)).toBe('0000:0000:0000:0000\n');
      const admin = await sim.vfAdminConfig('ibp26s0');
      expect(admin).toEqual({
        ok: true,
        vfs: [
          { vf: 0, mac: null, nodeGuid: guid, portGuid: guid },
          { vf: 1, mac: null, nodeGuid: null, portGuid: null },
        ],
      });
      await sim.unbindDriver('0000:1a:00.1', 'mlx5_core');
      await sim.bindDriver('0000:1a:00.1', 'mlx5_core');
      expect(read(`bus/pci/devices/0000:1a:00.1/infiniband/${ib()}/node_guid`)).toBe('0200:0000:0000:0007\n');
      const d = await discover(sim.reader());
      const vfs = d.pfs.find((p) => p.pciAddress === PF)!.vfs;
      expect(vfs.map((v) => [v.configured, v.guid])).toEqual([
        [true, guid],
        [false, null],
      ]);
    });

    it('a RoCE VF takes its admin MAC at the next bind', async () => {
      await sim.setNumVfs(ROCE, 1);
      expect(await sim.setVfMac('enp158s0np0', 0, '02:00:00:00:01:01')).toEqual({ ok: true });
      await sim.unbindDriver('0000:9e:00.1', 'mlx5_core');
      await sim.bindDriver('0000:9e:00.1', 'mlx5_core');
      const vf = (await discover(sim.reader())).pfs.find((p) => p.pciAddress === ROCE)!.vfs[0]!;
      expect(vf).toMatchObject({ configured: true, mac: '02:00:00:00:01:01', guid: null });
    });

    it.each([
      [['link', 'set', 'dev', 'ibp26s0', 'vf', '0', 'node_guid', '02:00'], 255, /Invalid GUID format/],
      [
        ['link', 'set', 'dev', 'ibp26s0', 'vf', '9', 'node_guid', '02:00:00:00:00:00:00:01'],
        2,
        /Invalid argument/,
      ],
      [
        ['link', 'set', 'dev', 'ibp26s0', 'vf', '0', 'mac', '02:00:00:00:00:01'],
        2,
        /Operation not supported/,
      ],
      [
        ['link', 'set', 'dev', 'enp158s0np0', 'vf', '0', 'node_guid', '02:00:00:00:00:00:00:01'],
        2,
        /Operation not supported|Invalid argument/,
      ],
      [
        ['link', 'set', 'dev', 'nope0', 'vf', '0', 'mac', '02:00:00:00:00:01'],
        1,
        /Cannot find device "nope0"/,
      ],
    ])('ip %j exits %d', async (argv, code, stderr) => {
      await sim.setNumVfs(PF, 2);
      const r = await sim.executor.run('ip', argv);
      expect(r.exitCode).toBe(code);
      expect(r.stderr).toMatch(stderr);
    });

    it('devlink answers legacy for Ethernet and fails on IB (read as legacy)', async () => {
      expect(await sim.eswitchMode(ROCE)).toBe('legacy');
      expect(
        (await sim.executor.run('devlink', ['-j', 'dev', 'eswitch', 'show', `pci/${PF}`])).exitCode,
      ).toBe(1);
      expect(await sim.eswitchMode(PF)).toBe('legacy');
    });

    it('HostControl methods refuse malformed arguments without writing', async () => {
      const events: HostEvent[] = [];
      const d2 = makeHost(presetSpec('roce-single'), { onEvent: (e) => events.push(e) });
      const s2 = d2.sim;
      try {
        expect(await s2.setNumVfs('../../x', 1)).toEqual(fail('UNSAFE'));
        expect(await s2.setNumVfs('0000:01:00.0', -1)).toEqual(fail('UNSAFE'));
        expect(await s2.bindDriver('0000:01:00.0', '../evil')).toEqual(fail('UNSAFE'));
        expect(await s2.setVfMac('eth0/../x', 0, '02:00:00:00:00:01')).toEqual(fail('UNSAFE'));
        expect(events).toEqual([]);
      } finally {
        d2.cleanup();
      }
    });
  });

  describe('fault injection and delays', () => {
    it('injected write errors come back as errno and change nothing', async () => {
      const d2 = makeHost(presetSpec('roce-single'), {
        writeFaults: [{ path: /sriov_numvfs$/, errno: 'ENOMEM', times: 1 }],
      });
      const s2 = d2.sim;
      try {
        expect(await s2.setNumVfs('0000:01:00.0', 2)).toEqual(fail('ENOMEM'));
        expect(
          s2.fs.readFileSync(join(s2.sysfsRoot, 'bus/pci/devices/0000:01:00.0/sriov_numvfs'), 'utf8'),
        ).toBe('0\n');
        expect(await s2.setNumVfs('0000:01:00.0', 2)).toEqual({ ok: true });
      } finally {
        d2.cleanup();
      }
    });

    it('with a probe delay, VFs appear at once and bind later', async () => {
      const d2 = makeHost(presetSpec('roce-single'), { vfProbeDelayMs: 30 });
      const s2 = d2.sim;
      try {
        await s2.setNumVfs('0000:01:00.0', 2);
        const before = (await discover(s2.reader())).pfs[0]!.vfs;
        expect(before.map((v) => v.driver)).toEqual([null, null]);
        await s2.settle();
        const after = (await discover(s2.reader())).pfs[0]!.vfs;
        expect(after.map((v) => v.driver)).toEqual(['mlx5_core', 'mlx5_core']);
      } finally {
        d2.cleanup();
      }
    });
  });

  describe('tree fidelity (reference §0)', () => {
    it('values end with a newline, every PCI function has modalias, links are relative and resolve', async () => {
      await sim.writeSysfs(numvfs, '3');
      const problems: string[] = [];
      const walk = (abs: string, rel: string) => {
        for (const name of fs().readdirSync(abs)) {
          const p = join(abs, name);
          const r = `${rel}/${name}`;
          const st = fs().lstatSync(p);
          if (st.isSymbolicLink()) {
            const target = fs().readlinkSync(p);
            if (target.startsWith('/')) problems.push(`${r}: absolute link`);
            try {
              fs().statSync(p);
            } catch {
              problems.push(`${r}: dangling link -> ${target}`);
            }
          } else if (st.isDirectory()) {
            if (
              /^[0-9a-f]{4}:[0-9a-f]{2}:[0-9a-f]{2}\.[0-7]$/.test(name) &&
              rel.includes('devices/pci') &&
              !lstatSafe(fs(), join(p, 'modalias'))
            )
              problems.push(`${r}: PCI function without modalias`);
            walk(p, r);
          } else if (st.mode & 0o044 && name !== 'config') {
            const text = fs().readFileSync(p, 'utf8');
            if (!text.endsWith('\n')) problems.push(`${r}: value without trailing newline`);
          }
        }
      };
      walk(sim.sysfsRoot, 'sys');
      expect(problems).toEqual([]);
    });
  });
});

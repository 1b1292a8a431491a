import {
  existsSync,
  mkdirSync,
  mkdtempSync,
  readFileSync,
  rmSync,
  symlinkSync,
  writeFileSync,
} from 'node:fs';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { scratchBase } from '../../../test/support/harness.js';
import type { CommandExecutor, CommandResult } from '../../ports/command-executor.js';
import { relativeWritePath, resolveUnderRoot } from './path-guard.js';
import { SysfsHost } from './sysfs-host.js';

/** Records every command and answers from a script, like the real tools would. */
class ScriptedExecutor implements CommandExecutor {
  readonly calls: string[][] = [];
  constructor(private readonly answer: (argv: readonly string[]) => CommandResult) {}
  run(file: string, args: readonly string[]): Promise<CommandResult> {
    this.calls.push([file, ...args]);
    return Promise.resolve(this.answer(args));
  }
}
const okRun: CommandResult = { exitCode: 0, stdout: '', stderr: '' };

let root: string;
let outside: string;
beforeEach(() => {
  root = mkdtempSync(join(scratchBase(), 'rdmasched-sysfs-'));
  outside = mkdtempSync(join(scratchBase(), 'rdmasched-outside-'));
  mkdirSync(join(root, 'bus/pci/devices/0000:01:00.0'), { recursive: true });
  writeFileSync(join(root, 'bus/pci/devices/0000:01:00.0/sriov_numvfs'), '0\n');
  writeFileSync(join(root, 'bus/pci/devices/0000:01:00.0/driver_override'), '(null)\n');
  mkdirSync(join(root, 'bus/pci/drivers/mlx5_core'), { recursive: true });
  writeFileSync(join(root, 'bus/pci/drivers/mlx5_core/bind'), '');
  writeFileSync(join(root, 'bus/pci/drivers/mlx5_core/unbind'), '');
  writeFileSync(join(root, 'bus/pci/drivers_probe'), '');
  writeFileSync(join(outside, 'sriov_numvfs'), 'untouched\n');
  symlinkSync(outside, join(root, 'bus/pci/devices/0000:02:00.0'));
});
afterEach(() => {
  rmSync(root, { recursive: true, force: true });
  rmSync(outside, { recursive: true, force: true });
});

describe('SysfsHost writes (Linux adapter)', () => {
  const host = () => new SysfsHost({ sysfsRoot: root, executor: new ScriptedExecutor(() => okRun) });

  it('writes the value the kernel expects to exactly the owned file', async () => {
    expect(await host().setNumVfs('0000:01:00.0', 4)).toEqual({ ok: true });
    expect(readFileSync(join(root, 'bus/pci/devices/0000:01:00.0/sriov_numvfs'), 'utf8')).toBe('4\n');
    expect(await host().bindDriver('0000:01:00.1', 'mlx5_core')).toEqual({ ok: true });
    expect(readFileSync(join(root, 'bus/pci/drivers/mlx5_core/bind'), 'utf8')).toBe('0000:01:00.1\n');
    expect(await host().probeDriver('0000:01:00.1')).toEqual({ ok: true });
    expect(await host().setDriverOverride('0000:01:00.0', null)).toEqual({ ok: true });
    expect(readFileSync(join(root, 'bus/pci/devices/0000:01:00.0/driver_override'), 'utf8')).toBe('\n');
  });

  it.each([
    ['a path-traversal PCI address', (h: SysfsHost) => h.setNumVfs('../../../etc', 1)],
    ['a negative count', (h: SysfsHost) => h.setNumVfs('0000:01:00.0', -1)],
    ['an absurd count', (h: SysfsHost) => h.setNumVfs('0000:01:00.0', 1e9)],
    ['a driver the agent does not manage', (h: SysfsHost) => h.bindDriver('0000:01:00.1', 'nvidia')],
    ['a driver name with a slash', (h: SysfsHost) => h.unbindDriver('0000:01:00.1', '../mlx5_core')],
    ['a device whose sysfs link leaves the root', (h: SysfsHost) => h.setNumVfs('0000:02:00.0', 1)],
    ['an interface name with a slash', (h: SysfsHost) => h.setVfMac('eth0/../x', 0, '02:00:00:00:00:01')],
    [
      'a malformed GUID',
      (h: SysfsHost) => h.setVfGuids('ib0', 0, { nodeGuid: '1; rm -rf /', portGuid: '00' }),
    ],
  ])('refuses %s with UNSAFE and writes nothing', async (_name, act) => {
    const exec = new ScriptedExecutor(() => okRun);
    const h = new SysfsHost({ sysfsRoot: root, executor: exec });
    expect(await act(h)).toEqual(expect.objectContaining({ ok: false, errno: 'UNSAFE' }));
    expect(readFileSync(join(outside, 'sriov_numvfs'), 'utf8')).toBe('untouched\n');
    expect(readFileSync(join(root, 'bus/pci/devices/0000:01:00.0/sriov_numvfs'), 'utf8')).toBe('0\n');
    expect(exec.calls).toEqual([]);
  });

  it('a missing attribute is ENOENT and is not created', async () => {
    expect(await host().setNumVfs('0000:03:00.0', 1)).toEqual(expect.objectContaining({ ok: false }));
    expect(existsSync(join(root, 'bus/pci/devices/0000:03:00.0'))).toBe(false);
  });

  it('path guard: only the owned attributes, only under the root', async () => {
    expect(relativeWritePath({ kind: 'sriov_numvfs', device: '0000:1a:00.0' })).toEqual({
      ok: true,
      path: 'bus/pci/devices/0000:1a:00.0/sriov_numvfs',
    });
    expect(relativeWritePath({ kind: 'bind', driver: 'nvidia' }).ok).toBe(false);
    expect((await resolveUnderRoot(root, 'bus/pci/devices/0000:02:00.0/sriov_numvfs')).ok).toBe(false);
    expect((await resolveUnderRoot(root, 'bus/../../etc/passwd')).ok).toBe(false);
  });
});

describe('SysfsHost commands', () => {
  it('runs ip with an argument vector and maps RTNETLINK errors to errno', async () => {
    const exec = new ScriptedExecutor((argv) =>
      argv.includes('9')
        ? { exitCode: 2, stdout: '', stderr: 'RTNETLINK answers: Invalid argument\n' }
        : okRun,
    );
    const h = new SysfsHost({ sysfsRoot: root, executor: exec, ipPath: '/usr/sbin/ip' });
    const g = '02:00:00:00:00:00:00:01';
    expect(await h.setVfGuids('ibp26s0', 0, { nodeGuid: g, portGuid: g })).toEqual({ ok: true });
    expect(exec.calls).toEqual([
      ['/usr/sbin/ip', 'link', 'set', 'dev', 'ibp26s0', 'vf', '0', 'node_guid', g],
      ['/usr/sbin/ip', 'link', 'set', 'dev', 'ibp26s0', 'vf', '0', 'port_guid', g],
    ]);
    expect(await h.setVfMac('enp1s0np0', 9, '02:00:00:00:00:01')).toEqual(
      expect.objectContaining({ ok: false, errno: 'EINVAL' }),
    );
  });

  it('reads vfinfo_list, and refuses a truncated one', async () => {
    const json = JSON.stringify([
      {
        ifname: 'ibp26s0',
        vfinfo_list: [
          { vf: 0, 'node guid': '02:00:00:00:00:00:00:01', 'port guid': '02:00:00:00:00:00:00:01' },
        ],
      },
    ]);
    const h = new SysfsHost({
      sysfsRoot: root,
      executor: new ScriptedExecutor(() => ({ exitCode: 0, stdout: json, stderr: '' })),
    });
    expect(await h.vfAdminConfig('ibp26s0')).toEqual({
      ok: true,
      vfs: [{ vf: 0, mac: null, nodeGuid: '02:00:00:00:00:00:00:01', portGuid: '02:00:00:00:00:00:00:01' }],
    });
    const t = new SysfsHost({
      sysfsRoot: root,
      executor: new ScriptedExecutor(() => ({
        exitCode: 0,
        stdout: json,
        stderr: 'Truncated VF list: ibp26s0\n',
      })),
    });
    expect(await t.vfAdminConfig('ibp26s0')).toEqual(expect.objectContaining({ ok: false, errno: 'ECMD' }));
  });

  it('reads devlink eswitch mode; a failing devlink (IB) is legacy', async () => {
    const sw = new SysfsHost({
      sysfsRoot: root,
      executor: new ScriptedExecutor(() => ({
        exitCode: 0,
        stdout: '{"dev":{"pci/0000:01:00.0":{"mode":"switchdev"}}}',
        stderr: '',
      })),
    });
    expect(await sw.eswitchMode('0000:01:00.0')).toBe('switchdev');
    const ib = new SysfsHost({
      sysfsRoot: root,
      executor: new ScriptedExecutor(() => ({ exitCode: 1, stdout: '', stderr: 'Operation not supported' })),
    });
    expect(await ib.eswitchMode('0000:01:00.0')).toBe('legacy');
  });
});

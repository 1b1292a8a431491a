import { mkdtempSync, rmSync } from 'node:fs';
import * as nodeFs from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { MemoryFs } from './memory-fs.js';
import type { SimFs } from './sim-fs.js';

/** The same script on the host's filesystem and on a MemoryFs must give the same answers. */
const diskRoot = mkdtempSync(join(tmpdir(), 'rdmasched-memfs-'));
afterAll(() => rmSync(diskRoot, { recursive: true, force: true }));

function outcome(f: () => unknown): unknown {
  try {
    const v = f();
    return { ok: Array.isArray(v) ? [...(v as string[])].sort() : v };
  } catch (err: unknown) {
    return { code: (err as { code?: string }).code };
  }
}

function script(fs: SimFs, root: string): unknown[] {
  const p = (rel: string) => join(root, rel);
  const out: unknown[] = [];
  const run = (f: () => unknown) => out.push(outcome(f));
  // (mkdir's return value differs by design: node returns the first directory it made)
  run(() => void fs.mkdirSync(p('sys/devices/pci0000:15/0000:15:01.0/0000:1a:00.0'), { recursive: true }));
  run(() => void fs.mkdirSync(p('sys/bus/pci/devices'), { recursive: true }));
  run(() => fs.writeFileSync(p('sys/devices/pci0000:15/0000:15:01.0/0000:1a:00.0/vendor'), '0x15b3\n'));
  run(() =>
    fs.symlinkSync(
      '../../../devices/pci0000:15/0000:15:01.0/0000:1a:00.0',
      p('sys/bus/pci/devices/0000:1a:00.0'),
    ),
  );
  run(() => fs.readFileSync(p('sys/bus/pci/devices/0000:1a:00.0/vendor'), 'utf8'));
  run(() => fs.readlinkSync(p('sys/bus/pci/devices/0000:1a:00.0')));
  run(() => fs.realpathSync(p('sys/bus/pci/devices/0000:1a:00.0')).slice(root.length));
  run(() => fs.realpathSync(p('sys/bus/pci/devices/0000:1a:00.0/../../../bus')).slice(root.length));
  run(() => fs.readdirSync(p('sys/bus/pci/devices/0000:1a:00.0')));
  run(() => fs.lstatSync(p('sys/bus/pci/devices/0000:1a:00.0')).isSymbolicLink());
  run(() => fs.statSync(p('sys/bus/pci/devices/0000:1a:00.0')).isDirectory());
  run(() => fs.readlinkSync(p('sys/devices'))); // EINVAL: not a link
  run(() => fs.readFileSync(p('sys/nope'), 'utf8')); // ENOENT
  run(() => fs.readdirSync(p('sys/devices/pci0000:15/0000:15:01.0/0000:1a:00.0/vendor'))); // ENOTDIR
  run(() => fs.mkdirSync(p('sys/devices'))); // EEXIST
  run(() => fs.symlinkSync('loop-b', p('sys/loop-a')));
  run(() => fs.symlinkSync('loop-a', p('sys/loop-b')));
  run(() => fs.readFileSync(p('sys/loop-a'), 'utf8')); // ELOOP
  run(() => fs.symlinkSync('missing', p('sys/dangling')));
  run(() => fs.statSync(p('sys/dangling'))); // ENOENT
  run(() => fs.lstatSync(p('sys/dangling')).isSymbolicLink());
  run(() => fs.rmSync(p('sys/dangling')));
  run(() => fs.rmSync(p('sys/dangling'), { force: true }));
  run(() => fs.rmSync(p('sys/dangling'))); // ENOENT
  run(() => fs.writeFileSync(p('sys/a'), 'x'));
  run(() => fs.renameSync(p('sys/a'), p('sys/b')));
  run(() => fs.readdirSync(p('sys')));
  run(() => fs.rmSync(p('sys/devices'), { recursive: true }));
  run(() => fs.readFileSync(p('sys/bus/pci/devices/0000:1a:00.0/vendor'), 'utf8')); // ENOENT via dangling link
  return out;
}

describe('MemoryFs', () => {
  it('answers a script of sysfs-like operations exactly as the host filesystem does', () => {
    const mem = new MemoryFs();
    expect(script(mem, '/r')).toEqual(script(nodeFs, join(diskRoot, 'script')));
  });

  it('clones in O(1) and keeps clones apart: a change in one is seen by no other', () => {
    const template = new MemoryFs();
    template.mkdirSync('/host/sys/devices/x', { recursive: true });
    template.writeFileSync('/host/sys/devices/x/numvfs', '0\n');
    const a = template.clone();
    const b = template.clone();
    a.writeFileSync('/host/sys/devices/x/numvfs', '4\n');
    a.mkdirSync('/host/sys/devices/x/vf0');
    b.rmSync('/host/sys/devices/x', { recursive: true });
    template.writeFileSync('/host/sys/devices/x/numvfs', '8\n');
    expect(a.readFileSync('/host/sys/devices/x/numvfs', 'utf8')).toBe('4\n');
    expect(a.readdirSync('/host/sys/devices/x').sort()).toEqual(['numvfs', 'vf0']);
    expect(b.readdirSync('/host/sys/devices')).toEqual([]);
    expect(template.readFileSync('/host/sys/devices/x/numvfs', 'utf8')).toBe('8\n');
    expect(template.readdirSync('/host/sys/devices/x')).toEqual(['numvfs']);
    const c = a.clone();
    expect(c.readdirSync('/host/sys/devices/x').sort()).toEqual(['numvfs', 'vf0']);
  });

  it('keeps binary files and modes, and serves the promise API the reader uses', async () => {
    const fs = new MemoryFs();
    fs.mkdirSync('/d');
    fs.writeFileSync('/d/config', Uint8Array.from([0xb3, 0x15]));
    fs.writeFileSync('/d/bind', '');
    fs.chmodSync('/d/bind', 0o200);
    expect(fs.lstatSync('/d/bind').mode & 0o777).toBe(0o200);
    expect(await fs.promises.readdir('/d')).toEqual(['config', 'bind']);
    await expect(fs.promises.readFile('/d/none', { encoding: 'utf8' })).rejects.toMatchObject({
      code: 'ENOENT',
    });
    expect(fs.readFileSync('/d/bind', 'utf8')).toBe('');
  });
});

import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { validateNodeReport } from '@rdmasched/contracts';
import { referenceHostFixture } from '../test/support/fixture-tree.js';
import { tempHostDir } from '../test/support/harness.js';
import { main } from './cli.js';

let out: string[];
let err: string[];
beforeEach(() => {
  out = [];
  err = [];
  vi.spyOn(console, 'log').mockImplementation((...a: unknown[]) => void out.push(a.join(' ')));
  vi.spyOn(console, 'error').mockImplementation((...a: unknown[]) => void err.push(a.join(' ')));
});
afterEach(() => vi.restoreAllMocks());

describe('rdmasched-agent discover', () => {
  it('prints the topology as a table with the distance matrix', async () => {
    const fx = referenceHostFixture();
    try {
      expect(await main(['discover', '--sysfs-root', fx.sysfsRoot])).toBe(0);
      const text = out.join('\n');
      expect(text).toMatch(
        /0000:1a:00\.0\s+ConnectX-7\s+ib\s+ibp26s0\s+mlx5_0\s+ACTIVE\s+400G\s+2044\s+0\s+4\/16/,
      );
      expect(text).toMatch(/GPU2\s+SYS\s+SYS\s+X\s+PIX\s+SYS\s+PXB/);
    } finally {
      fx.cleanup();
    }
  });

  it('prints JSON with --json and a valid v1 report with --report', async () => {
    const fx = referenceHostFixture();
    try {
      expect(await main(['discover', '--sysfs-root', fx.sysfsRoot, '--json'])).toBe(0);
      expect((JSON.parse(out.join('\n')) as { pfs: unknown[] }).pfs).toHaveLength(2);
      out.length = 0;
      expect(
        await main(['discover', '--sysfs-root', fx.sysfsRoot, '--report', '--node-name', 'gpu-node-01']),
      ).toBe(0);
      expect(validateNodeReport(JSON.parse(out.join('\n'))).ok).toBe(true);
    } finally {
      fx.cleanup();
    }
  });

  it('says clearly when the directory is not a sysfs root', async () => {
    expect(await main(['discover', '--sysfs-root', '/nonexistent'])).toBe(1);
    expect(err.join('\n')).toMatch(
      /does not look like a sysfs root: \/nonexistent\/bus\/pci\/devices is missing/,
    );
  });
});

describe('rdmasched-agent sim', () => {
  it('creates a preset host that discover reads', async () => {
    const d = tempHostDir();
    try {
      expect(await main(['sim', 'create', '--preset', 'roce-single', '--num-vfs', '2', d.dir])).toBe(0);
      expect(readFileSync(join(d.dir, 'sys/bus/pci/devices/0000:01:00.0/sriov_numvfs'), 'utf8')).toBe('2\n');
      out.length = 0;
      expect(await main(['discover', '--sysfs-root', join(d.dir, 'sys'), '--json'])).toBe(0);
      expect((JSON.parse(out.join('\n')) as { pfs: { vfs: unknown[] }[] }).pfs[0]!.vfs).toHaveLength(2);
    } finally {
      d.cleanup();
    }
  });

  it('lists presets, prints a spec, and refuses bad input with the reason', async () => {
    expect(await main(['sim', 'presets'])).toBe(0);
    expect(out.join('\n')).toMatch(/dgx-h100 .*reference-host|dgx-h100/s);
    out.length = 0;
    expect(await main(['sim', 'spec', '--preset', 'sriov-disabled'])).toBe(0);
    expect(out.join('\n')).toMatch(/sriov: null/);
    expect(await main(['sim', 'create', '--preset', 'nope', '/tmp/x'])).toBe(2);
    expect(err.join('\n')).toMatch(/unknown preset "nope"/);
    expect(await main(['sim', 'create', '--preset', 'roce-single', '--num-vfs', '-1', '/tmp/x'])).toBe(2);
    expect(await main(['sim', 'create', '--preset', 'roce-single', '--num-vfs=-1', '/tmp/x'])).toBe(2);
    expect(err.join('\n')).toMatch(/--num-vfs: "-1" is not a count/);
    expect(await main(['sim', 'create', '/tmp/x'])).toBe(2);
    expect(err.join('\n')).toMatch(/exactly one of --preset NAME or --spec FILE/);
  });
});

describe('rdmasched-agent run', () => {
  it('prints its settings with --help and lists every bad setting', async () => {
    expect(await main(['run', '--help'])).toBe(0);
    expect(out.join('\n')).toMatch(/RDMASCHED_NODE_NAME\s+--node-name/);
    expect(await main(['run', '--http-port', 'x'])).toBe(2);
    expect(err.join('\n')).toMatch(/RDMASCHED_NODE_NAME: required[\s\S]*RDMASCHED_HTTP_PORT/);
    expect(await main(['run', '--no-such-flag', '1'])).toBe(2);
  });
  it('unknown commands exit 2 with the usage', async () => {
    expect(await main(['frobnicate'])).toBe(2);
    expect(err.join('\n')).toMatch(/unknown command "frobnicate"/);
  });
});

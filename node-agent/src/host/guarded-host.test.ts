import { describe, expect, it } from 'vitest';
import { InMemoryVfUsage } from '../adapters/memory/in-memory-vf-usage.js';
import type { Discovery } from '../discovery/types.js';
import type { HostControl, HostOutcome } from '../ports/host-control.js';
import type { SysfsReader } from '../ports/sysfs-reader.js';
import { GuardedHost } from './guarded-host.js';

/** Records what passes the guard. */
class RecordingHost implements HostControl {
  readonly calls: string[] = [];
  #ok(call: string): Promise<HostOutcome> {
    this.calls.push(call);
    return Promise.resolve({ ok: true });
  }
  setNumVfs = (pf: string, n: number) => this.#ok(`numvfs ${pf} ${n}`);
  unbindDriver = (d: string, drv: string) => this.#ok(`unbind ${d} ${drv}`);
  bindDriver = (d: string, drv: string) => this.#ok(`bind ${d} ${drv}`);
  setDriverOverride = (d: string, drv: string | null) => this.#ok(`override ${d} ${String(drv)}`);
  probeDriver = (d: string) => this.#ok(`probe ${d}`);
  setVfGuids = (pf: string, vf: number) => this.#ok(`guids ${pf} ${vf}`);
  setVfMac = (pf: string, vf: number) => this.#ok(`mac ${pf} ${vf}`);
  setMtu = (netdev: string, mtu: number) => this.#ok(`mtu ${netdev} ${mtu}`);
  vfAdminConfig = () => Promise.resolve({ ok: true as const, vfs: [] });
  eswitchMode = () => Promise.resolve('legacy' as const);
}

const PF = '0000:1a:00.0';
const discovery = {
  numaNodes: [],
  gpus: [],
  distances: [],
  warnings: [],
  pfs: [
    {
      pciAddress: PF,
      netdev: 'ibp26s0',
      sriov: { totalVfs: 16, numVfs: 2, offset: 1, stride: 1, vfDeviceId: '0x101e' },
      vfs: [0, 1].map((i) => ({
        index: i,
        pciAddress: `0000:1a:00.${i + 1}`,
        pfPciAddress: PF,
        netdev: `ibp26s0v${i}`,
      })),
    },
  ],
} as unknown as Discovery;
const reader = (total: string): SysfsReader =>
  ({
    read: (p: string) => Promise.resolve(p.endsWith('sriov_totalvfs') ? total : undefined),
  }) as unknown as SysfsReader;

function guard(o: { claimed?: string[]; total?: string; maxVfs?: number; managed?: boolean } = {}) {
  const inner = new RecordingHost();
  const usage = new InMemoryVfUsage();
  const refusals: string[] = [];
  const host = new GuardedHost(inner, {
    discovery: () => discovery,
    reader: reader(o.total ?? '16'),
    usage,
    claimed: () => new Set(o.claimed ?? [PF]),
    limits: { managed: () => o.managed ?? true, maxVfs: () => o.maxVfs ?? 16 },
    vfDriver: 'mlx5_core',
    onRefused: (w, r) => refusals.push(`${w}: ${r}`),
  });
  return { inner, usage, host, refusals };
}
const refused = expect.objectContaining({ ok: false, errno: 'UNSAFE' }) as unknown;

describe('GuardedHost', () => {
  it('lets a resize through only for a claimed, locked, idle PF within the limits', async () => {
    const g = guard();
    expect(await g.host.setNumVfs(PF, 8)).toEqual(refused); // not locked
    expect(g.usage.tryLockPf(PF)).toBe(true);
    expect(await g.host.setNumVfs(PF, 8)).toEqual({ ok: true });
    expect(await g.host.setNumVfs(PF, 17)).toEqual(refused);
    expect(await g.host.setNumVfs('0000:18:00.0', 1)).toEqual(refused);
    expect(g.inner.calls).toEqual([`numvfs ${PF} 8`]);
  });

  it.each([
    ['without the claim', { claimed: [] }, /resize claim/],
    ['above the policy maximum', { maxVfs: 4 }, /above the maximum 4/],
    ['on a PF the agent does not manage', { managed: false }, /not managed/],
    ['when sriov_totalvfs is unreadable', { total: 'garbage' }, /unreadable/],
  ])('refuses a resize %s', async (_n, o, reason) => {
    const g = guard(o);
    g.usage.tryLockPf(PF);
    expect(await g.host.setNumVfs(PF, 8)).toEqual(refused);
    expect(g.refusals.join('\n')).toMatch(reason);
    expect(g.inner.calls).toEqual([]);
  });

  it('never touches a VF in use, a PF, a foreign driver or an unknown netdev', async () => {
    const g = guard();
    g.usage.allocate({ vf: '0000:1a:00.1', pf: PF, podUid: 'p' });
    expect(await g.host.unbindDriver('0000:1a:00.1', 'mlx5_core')).toEqual(refused);
    expect(
      await g.host.setVfGuids('ibp26s0', 0, {
        nodeGuid: '02:00:00:00:00:00:00:01',
        portGuid: '02:00:00:00:00:00:00:01',
      }),
    ).toEqual(refused);
    expect(await g.host.bindDriver(PF, 'mlx5_core')).toEqual(refused);
    expect(await g.host.bindDriver('0000:1a:00.2', 'nvidia')).toEqual(refused);
    expect(await g.host.setVfMac('eth9', 1, '02:00:00:00:00:01')).toEqual(refused);
    expect(await g.host.setVfMac('ibp26s0', 5, '02:00:00:00:00:01')).toEqual(refused);
    expect(await g.host.probeDriver('0000:1a:00.2')).toEqual({ ok: true });
    expect(g.inner.calls).toEqual(['probe 0000:1a:00.2']);
  });

  it('sets the MTU only on the netdev of a discovered VF nobody uses, within range', async () => {
    const g = guard();
    g.usage.allocate({ vf: '0000:1a:00.2', pf: PF, podUid: 'p' });
    expect(await g.host.setMtu('ibp26s0v0', 4092)).toEqual({ ok: true });
    expect(await g.host.setMtu('ibp26s0v1', 4092)).toEqual(refused); // in use
    expect(await g.host.setMtu('ibp26s0', 4092)).toEqual(refused); // the PF's own netdev
    expect(await g.host.setMtu('ibp26s0v0', 10)).toEqual(refused);
    expect(g.inner.calls).toEqual(['mtu ibp26s0v0 4092']);
    expect(await guard({ managed: false }).host.setMtu('ibp26s0v0', 4092)).toEqual(refused);
  });

  it('never configures a VF of a PF the agent does not manage (no governing RdmaNodePolicy)', async () => {
    const g = guard({ managed: false });
    expect(await g.host.unbindDriver('0000:1a:00.1', 'mlx5_core')).toEqual(refused);
    expect(await g.host.setVfMac('ibp26s0', 0, '02:00:00:00:00:01')).toEqual(refused);
    expect(await g.host.probeDriver('0000:1a:00.2')).toEqual(refused);
    expect(g.inner.calls).toEqual([]);
  });
});

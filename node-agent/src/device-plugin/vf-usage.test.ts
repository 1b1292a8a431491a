/**
 * DevicePluginVfUsage against a model of the kubelet, over random interleavings of allocations,
 * locks, releases, delayed reconciles and agent restarts. The safety property: a PF is never
 * locked while the kubelet holds (or is about to record) one of its VFs, and no allocation is
 * ever recorded on a locked PF.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { DevicePluginVfUsage, type KubeletHeldVf } from './vf-usage.js';

const PFS = ['pf-a', 'pf-b', 'pf-c'];
const VFS = PFS.flatMap((pf) => [0, 1, 2].map((i) => ({ vf: `${pf}.${i}`, pf })));
const pfOf = (vf: string) => VFS.find((v) => v.vf === vf)!.pf;
const RESOURCE = 'rdmasched.io/ib-vf';
const GRACE = 3;

type Op =
  | { kind: 'lock'; pf: number }
  | { kind: 'unlock'; pf: number }
  | { kind: 'allocate'; vfs: number[] }
  | { kind: 'kubeletRecords' }
  | { kind: 'release'; vf: number }
  | { kind: 'ask' }
  | { kind: 'apply' }
  | { kind: 'restart' };

const arbOp: fc.Arbitrary<Op> = fc.oneof(
  fc.record({ kind: fc.constant('lock' as const), pf: fc.nat(PFS.length - 1) }),
  fc.record({ kind: fc.constant('unlock' as const), pf: fc.nat(PFS.length - 1) }),
  fc.record({
    kind: fc.constant('allocate' as const),
    vfs: fc.uniqueArray(fc.nat(VFS.length - 1), { minLength: 1, maxLength: 3 }),
  }),
  fc.record({ kind: fc.constant('kubeletRecords' as const) }),
  fc.record({ kind: fc.constant('release' as const), vf: fc.nat(VFS.length - 1) }),
  fc.record({ kind: fc.constant('ask' as const) }),
  fc.record({ kind: fc.constant('apply' as const) }),
  fc.record({ kind: fc.constant('restart' as const) }),
);

describe('DevicePluginVfUsage', () => {
  it('never locks a PF with a VF in use and never records an allocation on a locked PF', () => {
    fc.assert(
      fc.property(fc.array(arbOp, { maxLength: 60 }), (ops) => {
        let now = 0;
        let usage = new DevicePluginVfUsage({ nowMs: () => now });
        /** The kubelet's checkpoint: VF -> pod. */
        const kubelet = new Map<string, string>();
        /** Allocate answered, not yet in the kubelet's records (it writes them after the answer). */
        let pending: { vf: string; at: number }[] = [];
        let asked: { held: Map<string, KubeletHeldVf>; at: number } | undefined;
        let pod = 0;
        const flush = () => {
          for (const p of pending) kubelet.set(p.vf, `pod-${pod}`);
          pending = [];
        };
        for (const op of ops) {
          now++;
          // The kubelet records an allocation within the grace period (it does so right away).
          if (pending.some((p) => now - p.at >= GRACE)) flush();
          switch (op.kind) {
            case 'lock': {
              const pf = PFS[op.pf]!;
              const busy = [...usage.inUse().values()].some((a) => a.pf === pf);
              const was = usage.isLocked(pf);
              const ok = usage.tryLockPf(pf);
              expect(ok).toBe(was || (usage.synced && !busy));
              break;
            }
            case 'unlock':
              usage.unlockPf(PFS[op.pf]!);
              break;
            case 'allocate': {
              const entries = op.vfs.map((i) => ({ ...VFS[i]!, resource: RESOURCE }));
              // The kubelet only hands out devices it considers free.
              if (entries.some((e) => kubelet.has(e.vf) || pending.some((p) => p.vf === e.vf))) break;
              const anyLocked = entries.some((e) => usage.isLocked(e.pf));
              const before = new Map(usage.inUse());
              const out = usage.tryAllocate(entries);
              expect(out.ok).toBe(!anyLocked);
              if (out.ok) {
                pod++;
                for (const e of entries) pending.push({ vf: e.vf, at: now });
              } else {
                expect(new Map(usage.inUse())).toEqual(before);
              }
              break;
            }
            case 'kubeletRecords':
              flush();
              break;
            case 'release': {
              const vf = VFS[op.vf]!.vf;
              kubelet.delete(vf);
              break;
            }
            case 'ask':
              asked = {
                at: now,
                held: new Map(
                  [...kubelet].map(([vf, p]) => [
                    vf,
                    {
                      vf,
                      pf: pfOf(vf),
                      resource: RESOURCE,
                      namespace: 'ns',
                      podName: p,
                      container: 'c',
                      podUid: null,
                    },
                  ]),
                ),
              };
              break;
            case 'apply':
              if (asked !== undefined)
                usage.applyKubeletView({ held: asked.held, askedAtMs: asked.at, graceMs: GRACE });
              asked = undefined;
              break;
            case 'restart':
              // A new agent process: nothing in memory, no locks, no question in flight.
              usage = new DevicePluginVfUsage({ nowMs: () => now });
              asked = undefined;
              break;
          }
          // Safety: what the kubelet holds (or is about to record) is never on a locked PF.
          for (const pf of usage.lockedPfs()) {
            for (const vf of kubelet.keys()) expect(pfOf(vf), `${vf} in use on locked ${pf}`).not.toBe(pf);
            for (const p of pending) expect(pfOf(p.vf), `${p.vf} allocated on locked ${pf}`).not.toBe(pf);
            for (const a of usage.inUse().values()) expect(a.pf).not.toBe(pf);
          }
        }
      }),
      { numRuns: 500 },
    );
  });

  it('refuses every lock until the first reconcile, then locks idle PFs', async () => {
    const usage = new DevicePluginVfUsage({ nowMs: () => 100 });
    expect(usage.tryLockPf('pf-a')).toBe(false);
    let synced = false;
    const waiting = usage.whenSynced().then(() => (synced = true));
    usage.applyKubeletView({ held: new Map(), askedAtMs: 100, graceMs: 0 });
    await waiting;
    expect(synced).toBe(true);
    expect(usage.tryLockPf('pf-a')).toBe(true);
    expect(usage.tryLockPf('pf-a')).toBe(true);
    expect(usage.tryAllocate([{ vf: 'pf-a.0', pf: 'pf-a', resource: RESOURCE }])).toEqual({
      ok: false,
      lockedPf: 'pf-a',
      vf: 'pf-a.0',
    });
  });

  it('after a restart, trusts only a question asked a grace period after it started', () => {
    let now = 1_000;
    // The previous process answered Allocate at 990; the kubelet records it at 1_010.
    const usage = new DevicePluginVfUsage({ nowMs: () => now });
    now = 1_005;
    usage.applyKubeletView({ held: new Map(), askedAtMs: 1_005, graceMs: 30 });
    expect(usage.synced).toBe(false);
    expect(usage.tryLockPf('pf-a')).toBe(false);
    now = 1_029;
    usage.applyKubeletView({ held: new Map(), askedAtMs: 1_029, graceMs: 30 });
    expect(usage.synced).toBe(false);
    now = 1_030;
    const held = new Map<string, KubeletHeldVf>([
      [
        'pf-a.0',
        {
          vf: 'pf-a.0',
          pf: 'pf-a',
          resource: RESOURCE,
          namespace: 'ns',
          podName: 'p',
          container: 'c',
          podUid: null,
        },
      ],
    ]);
    usage.applyKubeletView({ held, askedAtMs: 1_030, graceMs: 30 });
    expect(usage.synced).toBe(true);
    expect(usage.tryLockPf('pf-a')).toBe(false);
    expect(usage.tryLockPf('pf-b')).toBe(true);
  });

  it('moves a VF the kubelet allocates again to its new container, and tells listeners', () => {
    let now = 1;
    const usage = new DevicePluginVfUsage({ nowMs: () => now });
    const changes: number[] = [];
    const locks: number[] = [];
    usage.onChange(() => changes.push(usage.inUse().size));
    usage.onLockChange(() => locks.push(usage.lockedPfs().size));
    usage.tryAllocate([{ vf: 'pf-a.0', pf: 'pf-a', resource: RESOURCE }]);
    now = 5;
    usage.tryAllocate([{ vf: 'pf-a.0', pf: 'pf-a', resource: RESOURCE }]);
    expect(usage.inUse().get('pf-a.0')?.allocatedAtMs).toBe(5);
    expect(changes).toEqual([1, 1]);
    usage.applyKubeletView({ held: new Map(), askedAtMs: 5, graceMs: 0 });
    expect(usage.inUse().has('pf-a.0')).toBe(true); // recorded when the question was asked: kept
    usage.applyKubeletView({ held: new Map(), askedAtMs: 10, graceMs: 2 });
    expect(usage.inUse().size).toBe(0);
    expect(usage.tryLockPf('pf-a')).toBe(true);
    usage.unlockPf('pf-a');
    usage.unlockPf('pf-a');
    expect(changes).toEqual([1, 1, 0]);
    expect(locks).toEqual([1, 0]);
  });

  it('keeps a lock or an allocation it made even when a listener throws', () => {
    const usage = new DevicePluginVfUsage();
    usage.applyKubeletView({ held: new Map(), askedAtMs: Date.now(), graceMs: 0 });
    usage.onLockChange(() => {
      throw new Error('listener bug');
    });
    usage.onChange(() => {
      throw new Error('listener bug');
    });
    expect(usage.tryLockPf('pf-b')).toBe(true);
    expect(usage.isLocked('pf-b')).toBe(true);
    expect(usage.tryAllocate([{ vf: 'pf-a.0', pf: 'pf-a', resource: RESOURCE }])).toEqual({ ok: true });
  });
});

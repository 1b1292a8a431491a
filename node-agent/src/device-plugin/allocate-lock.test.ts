/**
 * Allocate (the real handler, which awaits sysfs reads between its checks and its record) racing
 * PF locks, unlocks and releases in random interleavings on a simulated host: never a VF recorded
 * in use on a locked PF, never a lock taken while a VF of the PF is in use.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import fc from 'fast-check';
import { pino } from 'pino';
import { Registry } from 'prom-client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { presetSpec } from '../adapters/sim/presets.js';
import { SimulatedHost } from '../adapters/sim/simulated-host.js';
import { systemClock, type Clock } from '../ports/clock.js';
import { InMemoryAllocatedDevices } from './allocated-devices.js';
import { AllocateRefusal } from './codes.js';
import { DevicePluginManager } from './manager.js';

const IB_VFS = ['0000:1a:00.1', '0000:1a:00.2', '0000:1a:00.3', '0000:1a:00.4'];
const ROCE_VFS = ['0000:9e:00.1', '0000:9e:00.2', '0000:9e:00.3', '0000:9e:00.4'];
const PFS = ['0000:1a:00.0', '0000:9e:00.0'];

let base: string;
let manager: DevicePluginManager;
let now = 0;
const clock: Clock = { nowMs: () => now, sleep: systemClock.sleep };

beforeAll(async () => {
  base = mkdtempSync(join(tmpdir(), 'rdmasched-dp-race-'));
  const sim = SimulatedHost.create(
    join(base, 'host'),
    presetSpec('reference-host', { numVfs: 4, configuredVfs: 4 }),
  );
  manager = new DevicePluginManager({
    reader: sim.reader(),
    pluginDir: join(base, 'no-kubelet'),
    allocatedDevices: new InMemoryAllocatedDevices(),
    registry: new Registry(),
    logger: pino({ level: 'silent' }),
    clock,
  });
  await manager.refresh();
});
afterAll(() => rmSync(base, { recursive: true, force: true }));

type Op =
  | { kind: 'allocate'; link: 'ib' | 'roce'; vfs: number[] }
  | { kind: 'lock'; pf: number }
  | { kind: 'unlock'; pf: number }
  | { kind: 'releaseAll' };

const arbOp: fc.Arbitrary<{ op: Op; yields: number }> = fc.record({
  op: fc.oneof(
    fc.record({
      kind: fc.constant('allocate' as const),
      link: fc.constantFrom('ib' as const, 'roce' as const),
      vfs: fc.uniqueArray(fc.nat(3), { minLength: 1, maxLength: 2 }),
    }),
    fc.record({ kind: fc.constant('lock' as const), pf: fc.nat(1) }),
    fc.record({ kind: fc.constant('unlock' as const), pf: fc.nat(1) }),
    fc.record({ kind: fc.constant('releaseAll' as const) }),
  ),
  yields: fc.nat(6),
});

const tick = () => new Promise<void>((resolve) => setImmediate(resolve));

describe('Allocate racing PF locks', () => {
  it('never records a VF on a locked PF, never locks a PF with a VF in use', async () => {
    const usage = manager.usage;
    const violations: string[] = [];
    const check = (when: string) => {
      for (const a of usage.inUse().values())
        if (usage.isLocked(a.pf)) violations.push(`${when}: ${a.vf} in use on locked ${a.pf}`);
    };
    const offChange = usage.onChange(() => check('after an allocation change'));
    const offLock = usage.onLockChange(() => check('after a lock change'));
    await fc.assert(
      fc.asyncProperty(fc.array(arbOp, { minLength: 1, maxLength: 25 }), async (steps) => {
        // A clean start: nothing in use, nothing locked, usage synced.
        for (const pf of PFS) usage.unlockPf(pf);
        now += 1_000;
        usage.applyKubeletView({ held: new Map(), askedAtMs: now, graceMs: 0 });
        violations.length = 0;
        const running: Promise<void>[] = [];
        for (const { op, yields } of steps) {
          now++;
          switch (op.kind) {
            case 'allocate': {
              const ids = op.vfs.map((i) => (op.link === 'ib' ? IB_VFS : ROCE_VFS)[i]!);
              const server = manager.servers.get(op.link)!;
              running.push(
                server.allocate({ container_requests: [{ devices_ids: ids }] }).then(
                  () => {
                    for (const id of ids) expect(usage.inUse().has(id)).toBe(true);
                  },
                  (err: unknown) => {
                    expect(err).toBeInstanceOf(AllocateRefusal);
                    expect((err as AllocateRefusal).code).toBe('PF_LOCKED');
                  },
                ),
              );
              break;
            }
            case 'lock': {
              const pf = PFS[op.pf]!;
              const busy = [...usage.inUse().values()].some((a) => a.pf === pf);
              const was = usage.isLocked(pf);
              expect(usage.tryLockPf(pf)).toBe(was || !busy);
              break;
            }
            case 'unlock':
              usage.unlockPf(PFS[op.pf]!);
              break;
            case 'releaseAll':
              // Every pod ended and the kubelet said so.
              usage.applyKubeletView({ held: new Map(), askedAtMs: now + 1, graceMs: 0 });
              break;
          }
          for (let i = 0; i < yields; i++) await tick();
        }
        await Promise.all(running);
        expect(violations).toEqual([]);
      }),
      { numRuns: 40 },
    );
    offChange();
    offLock();
  });
});

/**
 * Kill the agent at every host change of a resize (just before it, or just after it landed), start
 * a new agent on the same host and stores, and check it converges (docs/adr/0003 §5): the PF ends
 * at its target with every VF configured, each GUID owned by its VF in the pool and nothing else,
 * the claim and the note gone, and the request answered.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { discover } from '../../src/discovery/discover.js';
import { identityOwner } from '../../src/core/identity.js';
import { Crash } from '../support/crash.js';
import { agentHarness, makeReservation, requestJson, type Harness } from '../support/harness.js';

const PF = '0000:1a:00.0';
const TARGET = 4;
// 2 sriov_numvfs writes (0, then 4) + 4 VFs x (ip GUIDs, unbind, bind)
const CHANGES = 2 + TARGET * 3;

let h: Harness | undefined;
afterEach(() => h?.cleanup());

async function converged(x: Harness): Promise<void> {
  const d = await discover(x.sim.reader());
  const pf = d.pfs.find((p) => p.pciAddress === PF)!;
  expect(pf.sriov?.numVfs).toBe(TARGET);
  expect(pf.vfs.map((v) => v.configured)).toEqual(Array<boolean>(TARGET).fill(true));
  const guids = pf.vfs.map((v) => v.guid);
  expect(new Set(guids).size).toBe(TARGET);
  const owned = await x.pool.ofNode('node-a');
  for (const v of pf.vfs) {
    expect(owned.get(v.pciAddress)).toBe(v.guid);
    expect(x.pool.owners.get(v.guid!)).toBe(identityOwner('node-a', v.pciAddress));
  }
  // No identity is held for a VF that does not exist.
  const existing = new Set(d.pfs.flatMap((p) => p.vfs.map((v) => v.pciAddress)));
  expect([...owned.keys()].filter((vf) => !existing.has(vf))).toEqual([]);
  expect(x.ledger.claims.get('node-a')?.size ?? 0).toBe(0);
  expect(x.agent.ctx.notes.state.op).toBeNull();
  expect(x.usage.isLocked(PF)).toBe(false);
  const answers = x.queue.results.filter((r) => r.id === 'req');
  expect(answers.length).toBeGreaterThanOrEqual(1);
  expect(answers.every((r) => r.status === 'ready')).toBe(true);
  expect(x.queue.pending()).toBe(0);
}

describe('crash and restart in the middle of provisioning', () => {
  const points = Array.from({ length: CHANGES }, (_, i) => i + 1).flatMap((n) => [
    [n, 'before'] as const,
    [n, 'after'] as const,
  ]);

  it.each(points)('killed at host change %d (%s it) converges on restart', async (n, when) => {
    h = agentHarness().preset('reference-host', { numVfs: 2, configuredVfs: 2 }).maxVfsPerPf(TARGET).build();
    await h.agent.recover();
    h.restart({ dieAt: { n, when } });
    await h.agent.recover();
    h.ledger.reserve(makeReservation('pod-1', PF, 3), PF);
    h.queue.push(requestJson({ id: 'req', pfPciAddress: PF, minReadyVfs: 3, podUid: 'pod-1' }));
    await expect(h.agent.processQueueOnce()).rejects.toBeInstanceOf(Crash);
    expect(h.life.dead).toBe(true);
    // A new process: recovery, then the redelivered request.
    h.restart();
    await h.agent.recover();
    while ((await h.agent.processQueueOnce(0)) > 0);
    await converged(h);
  });

  it('the crash really interrupts the resize (the note records where)', async () => {
    h = agentHarness().preset('reference-host', { numVfs: 2, configuredVfs: 2 }).maxVfsPerPf(TARGET).build();
    await h.agent.recover();
    h.restart({ dieAt: { n: 1, when: 'after' } });
    await h.agent.recover();
    h.ledger.reserve(makeReservation('pod-1', PF, 3), PF);
    h.queue.push(requestJson({ id: 'req', pfPciAddress: PF, minReadyVfs: 3, podUid: 'pod-1' }));
    await expect(h.agent.processQueueOnce()).rejects.toBeInstanceOf(Crash);
    const notes = JSON.parse(h.states.states.get('node-a')!) as {
      op: { pf: string; step: string; targetVfs: number };
    };
    expect(notes.op).toMatchObject({ pf: PF, step: 'claimed', targetVfs: TARGET });
    expect((await discover(h.sim.reader())).pfs.find((p) => p.pciAddress === PF)!.sriov!.numVfs).toBe(0);
    expect(h.ledger.claims.get('node-a')?.get(PF)).toBe('pod-1');
  });
});

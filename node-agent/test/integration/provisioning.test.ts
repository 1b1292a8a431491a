/**
 * Provisioning end to end on a simulated host, with in-memory stores (the Redis adapters obey the
 * same contract: see redis-*.test.ts). Every rejection is checked to have written nothing.
 */
import { afterEach, describe, expect, it } from 'vitest';
import type { HostEvent } from '../../src/adapters/sim/simulated-host.js';
import { agentHarness, makeReservation, requestJson, type Harness } from '../support/harness.js';

const IB = '0000:1a:00.0';
const ROCE = '0000:9e:00.0';

let h: Harness | undefined;
afterEach(() => h?.cleanup());

function build(
  events: HostEvent[] = [],
  o: { maxVfsPerPf?: number; configuredVfs?: number; numVfs?: number } = {},
): Harness {
  h = agentHarness()
    .preset('reference-host', { numVfs: o.numVfs ?? 0, configuredVfs: o.configuredVfs ?? 0 })
    .simOptions({ onEvent: (e) => events.push(e) })
    .maxVfsPerPf(o.maxVfsPerPf ?? 0)
    .build();
  return h;
}
const writes = (events: HostEvent[]) =>
  events.filter(
    (e) => e.kind === 'write' || (e.kind === 'command' && e.argv[1] === 'link' && e.argv[2] === 'set'),
  );

describe('a reservation that needs VFs provisioned', () => {
  it('enables the PF to maxVfs, configures every VF with a unique pool GUID, answers ready and releases the claim', async () => {
    const events: HostEvent[] = [];
    const { agent, ledger, queue, reports, pool } = build(events, { maxVfsPerPf: 8 });
    await agent.recover();
    ledger.reserve(makeReservation('pod-1', IB, 2), IB);
    queue.push(requestJson({ id: 'r1', pfPciAddress: IB, minReadyVfs: 2, podUid: 'pod-1' }));
    expect(await agent.processQueueOnce()).toBe(1);
    expect(queue.results).toEqual([
      expect.objectContaining({ id: 'r1', status: 'ready', code: 'OK', readyVfs: 8 }),
    ]);
    const pf = reports.latest.get('node-a')!.report.pfs.find((p) => p.pciAddress === IB)!;
    expect(pf.sriov).toEqual({ totalVfs: 16, numVfs: 8, maxVfs: 8, resizing: false });
    expect(pf.vfs.every((v) => v.configured && v.guid !== null)).toBe(true);
    expect(new Set(pf.vfs.map((v) => v.guid)).size).toBe(8);
    expect(pf.vfs.filter((v) => v.state === 'reserved')).toHaveLength(2);
    expect((await pool.ofNode('node-a')).size).toBe(8);
    expect(ledger.claims.get('node-a')?.size ?? 0).toBe(0);
    // The writes, in order: enable, then per VF ip node_guid, port_guid, unbind, bind.
    const numvfs = events.filter((e) => e.kind === 'write' && e.path.endsWith('sriov_numvfs'));
    expect(numvfs.map((e) => (e.kind === 'write' ? e.value : ''))).toEqual(['8\n']);
    const capacity = reports.latest.get('node-a')!.capacity.get(IB);
    expect(capacity).toMatchObject({
      linkType: 'ib',
      numVfs: 8,
      maxVfs: 8,
      configured: 8,
      resizing: false,
      portActive: true,
    });
  });

  it('a RoCE PF gets MACs derived from pool identities', async () => {
    const { agent, ledger, queue, reports } = build();
    await agent.recover();
    ledger.reserve(
      { ...makeReservation('pod-2', ROCE, 1), pfs: [{ pfPciAddress: ROCE, linkType: 'roce', count: 1 }] },
      ROCE,
    );
    queue.push(requestJson({ id: 'r2', pfPciAddress: ROCE, minReadyVfs: 1, podUid: 'pod-2' }));
    await agent.processQueueOnce();
    expect(queue.results[0]).toMatchObject({ status: 'ready' });
    const pf = reports.latest.get('node-a')!.report.pfs.find((p) => p.pciAddress === ROCE)!;
    expect(pf.vfs).toHaveLength(16);
    expect(pf.vfs.every((v) => v.configured && v.mac?.startsWith('02:') === true && v.guid === null)).toBe(
      true,
    );
    expect(new Set(pf.vfs.map((v) => v.mac)).size).toBe(16);
  });

  it('a request already satisfied is answered ready with no write; the same id is answered once', async () => {
    const events: HostEvent[] = [];
    const { agent, ledger, queue } = build(events, { numVfs: 4, configuredVfs: 4 });
    await agent.recover();
    events.length = 0;
    ledger.reserve(makeReservation('pod-1', IB, 2), IB);
    queue.push(requestJson({ id: 'same', pfPciAddress: IB, minReadyVfs: 2, podUid: 'pod-1' }));
    queue.push(requestJson({ id: 'same', pfPciAddress: IB, minReadyVfs: 2, podUid: 'pod-1' }));
    await agent.processQueueOnce();
    expect(queue.results).toEqual([expect.objectContaining({ id: 'same', status: 'ready', readyVfs: 4 })]);
    expect(writes(events)).toEqual([]);
    expect(queue.pending()).toBe(0);
    expect(ledger.claims.get('node-a')?.size ?? 0).toBe(0);
  });
});

describe('bad or unsafe requests are refused with a reason and no write at all', () => {
  const bad: [string, Record<string, unknown>, string, RegExp][] = [
    ['an unknown PF', { pfPciAddress: '0000:55:00.0' }, 'UNKNOWN_PF', /no ConnectX PF 0000:55:00.0/],
    ['a GPU address', { pfPciAddress: '0000:18:00.0' }, 'UNKNOWN_PF', /no ConnectX PF/],
    [
      'a path-traversal PF address',
      { pfPciAddress: '../../../etc/passwd' },
      'INVALID_REQUEST',
      /pfPciAddress/,
    ],
    ['a negative count', { minReadyVfs: -3 }, 'INVALID_REQUEST', /minReadyVfs/],
    ['an absurd count', { minReadyVfs: 1e9 }, 'INVALID_REQUEST', /minReadyVfs/],
    [
      'more than sriov_totalvfs',
      { minReadyVfs: 17 },
      'EXCEEDS_TOTALVFS',
      /sriov_totalvfs of 0000:1a:00.0 is 16/,
    ],
    ['another node', { node: 'node-b' }, 'WRONG_NODE', /node-b/],
    ['a malformed node name', { node: 'Node_A/..' }, 'INVALID_REQUEST', /node/],
    ['no podUid', { podUid: undefined }, 'MISSING_POD_UID', /podUid/],
    ['a string count', { minReadyVfs: '4' }, 'INVALID_REQUEST', /minReadyVfs/],
  ];
  it.each(bad)('%s -> %s', async (_name, fields, code, message) => {
    const events: HostEvent[] = [];
    const { agent, queue } = build(events);
    await agent.recover();
    events.length = 0;
    queue.push(requestJson({ id: 'bad', pfPciAddress: IB, minReadyVfs: 2, podUid: 'pod-1', ...fields }));
    await agent.processQueueOnce();
    expect(queue.results).toEqual([expect.objectContaining({ status: 'rejected', code })]);
    expect(queue.results[0]!.message).toMatch(message);
    expect(writes(events)).toEqual([]);
  });

  it('not JSON at all is rejected, acknowledged, and nothing is written', async () => {
    const events: HostEvent[] = [];
    const { agent, queue } = build(events);
    await agent.recover();
    events.length = 0;
    queue.push('{"id":"x1","pfPciAddress":');
    queue.push(undefined);
    await agent.processQueueOnce();
    expect(queue.results.map((r) => [r.id, r.status, r.code])).toEqual([
      ['invalid', 'rejected', 'INVALID_REQUEST'],
      ['invalid', 'rejected', 'INVALID_REQUEST'],
    ]);
    expect(queue.pending()).toBe(0);
    expect(writes(events)).toEqual([]);
  });

  it('a PF with a VF in use is never resized (PF_BUSY), and its pod claim is released', async () => {
    const events: HostEvent[] = [];
    const { agent, ledger, queue, usage } = build(events, { numVfs: 2, configuredVfs: 2 });
    await agent.recover();
    usage.allocate({ vf: '0000:1a:00.1', pf: IB, podUid: 'someone' });
    events.length = 0;
    ledger.reserve(makeReservation('pod-1', IB, 4), IB);
    queue.push(requestJson({ id: 'busy', pfPciAddress: IB, minReadyVfs: 4, podUid: 'pod-1' }));
    await agent.processQueueOnce();
    expect(queue.results[0]).toMatchObject({ status: 'failed', code: 'PF_BUSY' });
    expect(writes(events)).toEqual([]);
    expect(ledger.claims.get('node-a')?.has(IB)).toBe(false);
  });

  it('a PF reserved by other pods is not resized for a new one (PF_HELD)', async () => {
    const events: HostEvent[] = [];
    const { agent, ledger, queue } = build(events, { numVfs: 2, configuredVfs: 2 });
    await agent.recover();
    ledger.reserve(makeReservation('pod-0', IB, 2));
    ledger.reserve(makeReservation('pod-1', IB, 2), IB);
    events.length = 0;
    queue.push(requestJson({ id: 'held', pfPciAddress: IB, minReadyVfs: 4, podUid: 'pod-1' }));
    await agent.processQueueOnce();
    expect(queue.results[0]).toMatchObject({ status: 'failed', code: 'PF_HELD' });
    expect(writes(events)).toEqual([]);
  });

  it('a PF on firmware with SR-IOV disabled is refused', async () => {
    h = agentHarness().preset('sriov-disabled').build();
    await h.agent.recover();
    h.queue.push(requestJson({ id: 'fw', pfPciAddress: '0000:03:00.0', minReadyVfs: 1, podUid: 'pod-1' }));
    await h.agent.processQueueOnce();
    expect(h.queue.results[0]).toMatchObject({ status: 'rejected', code: 'SRIOV_DISABLED' });
  });
});

describe('the warm pool', () => {
  it('grows an idle PF to keep the minimum and then stays stable', async () => {
    h = agentHarness()
      .preset('dgx-h100', { totalVfs: 4 })
      .warmPool({ minReady: { ib: 4, roce: 0 }, maxReady: { ib: 6, roce: undefined } })
      .build();
    const { agent, reports, pool, ledger } = h;
    await agent.recover();
    await agent.warmPoolTick();
    const ready = () =>
      reports.latest
        .get('node-a')!
        .report.pfs.flatMap((p) => p.vfs)
        .filter((v) => v.configured && v.state === 'free').length;
    expect(ready()).toBe(4);
    expect((await pool.ofNode('node-a')).size).toBe(4);
    await agent.warmPoolTick();
    expect(ready()).toBe(4); // stable: no flapping
    expect(ledger.claims.get('node-a')?.size ?? 0).toBe(0);
  });

  it('shrinks back when there are too many ready VFs, never a PF someone holds', async () => {
    h = agentHarness()
      .preset('dgx-h100', { totalVfs: 4, numVfs: 4, configuredVfs: 4 })
      .warmPool({ minReady: { ib: 4, roce: 0 }, maxReady: { ib: 8, roce: undefined } })
      .build();
    const { agent, reports, ledger, usage, pool } = h;
    await agent.recover();
    // The pre-configured VFs' GUIDs were adopted into the pool at recovery.
    expect((await pool.ofNode('node-a')).size).toBe(32);
    usage.allocate({ vf: '0000:1a:00.1', pf: '0000:1a:00.0', podUid: 'p' });
    ledger.reserve(makeReservation('pod-r', '0000:1b:00.0', 1));
    for (let i = 0; i < 8; i++) await agent.warmPoolTick();
    const pfs = reports.latest.get('node-a')!.report.pfs;
    const ready = pfs.flatMap((p) => p.vfs).filter((v) => v.configured && v.state === 'free').length;
    expect(ready).toBeLessThanOrEqual(8);
    expect(ready).toBeGreaterThanOrEqual(4);
    expect(pfs.find((p) => p.pciAddress === '0000:1a:00.0')!.sriov!.numVfs).toBe(4);
    expect(pfs.find((p) => p.pciAddress === '0000:1b:00.0')!.sriov!.numVfs).toBe(4);
    // Shrunk PFs gave their GUIDs back.
    const remaining = pfs.flatMap((p) => p.vfs).filter((v) => v.configured).length;
    expect((await pool.ofNode('node-a')).size).toBe(remaining);
    expect(remaining).toBeLessThan(32);
  });
});

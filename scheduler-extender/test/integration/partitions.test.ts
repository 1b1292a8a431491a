/**
 * InfiniBand partitions: the UFM adapter against a small fake UFM (the three REST calls
 * ib-kubernetes makes, basic auth, HTTP status codes), and PKey membership following the
 * reservations and the VFs the node reports in use, with leaked GUIDs removed and foreign ones
 * left alone.
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { UfmSubnetManager, guidFromUfm, ufmPkey } from '../../src/adapters/ufm/ufm-subnet-manager.js';
import { makeReport } from '../../src/testing/builders.js';
import { waitFor } from './agent-writer.js';
import { bindOver, createPod, newKeys, publishNode, tenantObject } from './replica.js';
import { useFakeApi } from './fixture.js';

/** The UFM REST calls rdmasched makes, with UFM's shapes: GUIDs as 16 hex digits, PKeys as 0x%04X. */
class FakeUfm {
  readonly pkeys = new Map<string, Set<string>>();
  readonly calls: { method: string; path: string; body: unknown }[] = [];
  private server: Server | undefined;
  failNext = 0;

  constructor(
    private readonly user: string,
    private readonly password: string,
  ) {}

  async start(): Promise<string> {
    this.server = createServer((req, res) => void this.handle(req, res));
    await new Promise<void>((r) => this.server?.listen(0, '127.0.0.1', r));
    return `http://127.0.0.1:${(this.server?.address() as AddressInfo).port}`;
  }

  async stop(): Promise<void> {
    await new Promise<void>((r) => this.server?.close(() => r()));
  }

  private async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const chunks: Buffer[] = [];
    for await (const c of req) chunks.push(c as Buffer);
    const text = Buffer.concat(chunks).toString('utf8');
    const body: unknown = text === '' ? undefined : JSON.parse(text);
    const url = new URL(req.url ?? '/', 'http://x');
    this.calls.push({ method: req.method ?? '', path: `${url.pathname}${url.search}`, body });
    const send = (status: number, payload: unknown) => {
      res.writeHead(status, { 'content-type': 'application/json' });
      res.end(JSON.stringify(payload));
    };
    const expected = `Basic ${Buffer.from(`${this.user}:${this.password}`).toString('base64')}`;
    if (req.headers.authorization !== expected) return send(401, { error: 'Unauthorized' });
    if (this.failNext > 0) {
      this.failNext--;
      return send(500, { error: 'internal' });
    }
    const b = body as { pkey?: string; guids?: string[] } | undefined;
    if (req.method === 'GET' && url.pathname === '/ufmRest/app/ufm_version') return send(200, '6.14.0');
    if (
      req.method === 'GET' &&
      url.pathname === '/ufmRest/resources/pkeys/' &&
      url.searchParams.get('guids_data') === 'true'
    ) {
      const out: Record<string, unknown> = {};
      for (const [k, v] of this.pkeys)
        out[k] = {
          partition: 'p',
          ip_over_ib: true,
          guids: [...v].map((g) => ({ guid: g.toUpperCase(), membership: 'full', index0: true })),
        };
      return send(200, out);
    }
    if (req.method === 'POST' && url.pathname === '/ufmRest/resources/pkeys') {
      if (!/^0x[0-9A-F]{4}$/.test(b?.pkey ?? '') || (body as { membership?: string }).membership !== 'full')
        return send(400, { error: 'bad pkey' });
      const set = this.pkeys.get((b?.pkey ?? '').toLowerCase()) ?? new Set<string>();
      for (const g of b?.guids ?? []) set.add(g);
      this.pkeys.set((b?.pkey ?? '').toLowerCase(), set);
      return send(200, {});
    }
    if (req.method === 'POST' && url.pathname === '/ufmRest/actions/remove_guids_from_pkey') {
      const set = this.pkeys.get((b?.pkey ?? '').toLowerCase());
      for (const g of b?.guids ?? []) set?.delete(g);
      return send(200, {});
    }
    return send(404, { error: 'not found' });
  }

  members(pkey: number): string[] {
    return [...(this.pkeys.get(`0x${pkey.toString(16).padStart(4, '0')}`) ?? [])]
      .map((g) => guidFromUfm(g) ?? g)
      .sort();
  }
}

describe('UfmSubnetManager against a fake UFM', () => {
  let ufm: FakeUfm;
  let url: string;
  beforeEach(async () => {
    ufm = new FakeUfm('admin', 's3cret');
    url = await ufm.start();
  });
  afterEach(async () => {
    await ufm.stop();
  });

  it('adds, lists and removes GUIDs with the wire format ib-kubernetes uses', async () => {
    const sm = new UfmSubnetManager({ url, username: 'admin', password: 's3cret' });
    expect(await sm.version()).toBe('"6.14.0"');
    await sm.addGuidsToPKey(0x0a01, ['02:00:00:00:00:00:00:0a', '02:00:00:00:00:00:00:0b']);
    expect(ufm.calls.at(-1)).toEqual({
      method: 'POST',
      path: '/ufmRest/resources/pkeys',
      body: {
        pkey: '0x0A01',
        index0: true,
        ip_over_ib: true,
        membership: 'full',
        guids: ['020000000000000a', '020000000000000b'],
      },
    });
    expect(await sm.listGuids()).toEqual(
      new Map([[0x0a01, new Set(['02:00:00:00:00:00:00:0a', '02:00:00:00:00:00:00:0b'])]]),
    );
    await sm.removeGuidsFromPKey(0x0a01, ['02:00:00:00:00:00:00:0a']);
    expect(ufm.calls.at(-1)).toEqual({
      method: 'POST',
      path: '/ufmRest/actions/remove_guids_from_pkey',
      body: { pkey: '0x0A01', guids: ['020000000000000a'] },
    });
    expect(ufm.members(0x0a01)).toEqual(['02:00:00:00:00:00:00:0b']);
    expect(ufmPkey(0x7fff)).toBe('0x7FFF');
  });

  it('an error names the call and the status, never the password', async () => {
    const sm = new UfmSubnetManager({ url, username: 'admin', password: 'wrong-secret' });
    const err = await sm.addGuidsToPKey(1, ['02:00:00:00:00:00:00:01']).catch((e: unknown) => e as Error);
    expect(err).toBeInstanceOf(Error);
    expect((err as Error).message).toMatch(/^UFM POST \/ufmRest\/resources\/pkeys answered HTTP 401/);
    expect(String((err as Error).message)).not.toContain('wrong-secret');
  });
});

describe('PKey membership follows the reservations', () => {
  let ufm: FakeUfm;
  // Registered before the fake API's hooks, so that UFM stops after the replicas that call it.
  beforeEach(() => {
    ufm = new FakeUfm('admin', 'pw');
  });
  afterEach(async () => {
    await ufm.stop();
  });
  const api = useFakeApi(
    [{ name: 'a-ns' }, { name: 'b-ns' }],
    [
      tenantObject('alpha', { namespaces: ['a-ns'], infiniband: { pkey: '0x0a01' } }),
      tenantObject('beta', { namespaces: ['b-ns'], infiniband: { pkey: '0x0b02' } }),
    ],
  );

  /**
   * The fake UFM started with a subnet manager on it, and node-a (one PF of `vfs` ready VFs) published
   * to a fresh ledger; `build` makes node-a's later reports.
   */
  async function ufmAndNodeA(vfs: number) {
    const url = await ufm.start();
    const sm = new UfmSubnetManager({ url, username: 'admin', password: 'pw' });
    const keys = newKeys();
    const admin = api.conns.client();
    const build = (inUse: (string | null)[], generation: number) =>
      makeReport('node-a')
        .generation(generation)
        .reportedAtMs(Date.now())
        .pf({ numVfs: vfs, configured: vfs, maxVfs: vfs, inUse })
        .build();
    await publishNode(admin, keys, build([], 1));
    return { sm, keys, admin, build };
  }

  it('GUIDs join their tenant PKey once the node reports them in use, leave on release, and leaks are removed', async () => {
    const { sm, keys, admin, build } = await ufmAndNodeA(4);
    const r = await api.replica({
      keys,
      subnetManager: sm,
      timings: { partitionIntervalMs: 3_600_000 },
    });
    await r.ready();
    await waitFor(() => r.x.snapshot.get('node-a') !== undefined, 'node-a');
    // Leftovers from before: a GUID of the pool whose VF is long gone, and an admin's host GUID.
    ufm.pkeys.set('0x0a01', new Set(['0200000000990001', 'A088C20300000001']));

    const a = createPod(api.fake, { namespace: 'a-ns', name: 'a-0', ib: 1 });
    const b = createPod(api.fake, { namespace: 'b-ns', name: 'b-0', ib: 1 });
    expect(await bindOver(r, a, 'node-a')).toBe('');
    expect(await bindOver(r, b, 'node-a')).toBe('');
    // The kubelet admitted them: the agent reports VF 0 in use by a, VF 1 by b (and 2 by a pod it cannot name).
    await publishNode(admin, keys, build([a.uid, b.uid, null], 2));
    await waitFor(() => r.x.snapshot.get('node-a')?.generation === 2, 'report 2');
    const report = await r.x.partitions?.run();
    expect(report).toMatchObject({ added: 2, removed: 1, failed: 0 });
    const g0 = '02:00:00:00:00:00:00:00';
    const g1 = '02:00:00:00:00:00:00:01';
    expect(ufm.members(0x0a01)).toEqual([g0, 'a0:88:c2:03:00:00:00:01'].sort());
    expect(ufm.members(0x0b02)).toEqual([g1]);

    // a's reservation is released (pod deleted): its GUID leaves the PKey even while the old
    // report still shows the VF in use.
    await r.ledger.release(a.uid);
    await waitFor(() => r.x.mirror.reservation(a.uid) === undefined, 'release mirrored');
    expect(await r.x.partitions?.run()).toMatchObject({ added: 0, removed: 1 });
    expect(ufm.members(0x0a01)).toEqual(['a0:88:c2:03:00:00:00:01']);
    expect(ufm.members(0x0b02)).toEqual([g1]);
    expect(await r.registry.getSingleMetricAsString('rdmasched_extender_pkey_guid_changes_total')).toContain(
      'op="add",result="ok"} 2',
    );
  });

  it('as the leader, it follows report events without being asked; a failed UFM call is retried', async () => {
    const { sm, keys, admin, build } = await ufmAndNodeA(2);
    const { InMemoryLeaderLock, LeaderBoard } =
      await import('../../src/adapters/memory/in-memory-leader-lock.js');
    const r = await api.replica({
      keys,
      subnetManager: sm,
      leaderLock: new InMemoryLeaderLock(new LeaderBoard(), 'r'),
      timings: { partitionIntervalMs: 200, leaderLeaseMs: 3000 },
    });
    await r.ready();
    r.x.duties?.start();
    const a = createPod(api.fake, { namespace: 'a-ns', name: 'a-1', ib: 1 });
    await waitFor(() => r.x.snapshot.get('node-a') !== undefined, 'node-a');
    expect(await bindOver(r, a, 'node-a')).toBe('');
    ufm.failNext = 1;
    await publishNode(admin, keys, build([a.uid], 2));
    await waitFor(() => ufm.members(0x0a01).length === 1, 'GUID added to the PKey');
    expect(ufm.members(0x0a01)).toEqual(['02:00:00:00:00:00:00:00']);
  });
});

/**
 * The HTTP surface through `app.inject()`: bad input, both nodeCacheCapable modes, pass-through,
 * invalid pod requests, probes, metrics and the operator endpoints.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { makePod, makeReport } from '../src/testing/builders.js';
import { GOLDEN_NOW_MS, publishGoldenReports, testExtender } from './helpers.js';

const json = { 'content-type': 'application/json' };

async function golden(opts: Parameters<typeof testExtender>[0] = {}) {
  const t = await testExtender({ ...opts, start: false });
  publishGoldenReports(t.store);
  await t.store.start();
  return t;
}

function post(t: Awaited<ReturnType<typeof golden>>, url: string, body: unknown) {
  return t.app.inject({
    method: 'POST',
    url,
    headers: json,
    payload: typeof body === 'string' ? body : JSON.stringify(body),
  });
}

const ibPod = makePod().vfs('ib', 1).build();

describe('bad input', () => {
  it.each([
    ['malformed JSON', '{"Pod": ', 400, 'INVALID_JSON', undefined],
    ['empty body', '', 400, 'INVALID_JSON', undefined],
    ['an array', '[]', 400, 'INVALID_FIELD', '(body)'],
    ['missing Pod', { NodeNames: ['a'] }, 400, 'INVALID_FIELD', 'Pod'],
    ['Pod null', { Pod: null, NodeNames: ['a'] }, 400, 'INVALID_FIELD', 'Pod'],
    ['Pod a string', { Pod: 'x', NodeNames: ['a'] }, 400, 'INVALID_FIELD', 'Pod'],
    ['NodeNames not an array', { Pod: ibPod, NodeNames: 'a' }, 400, 'INVALID_FIELD', 'NodeNames'],
    ['NodeNames with a number', { Pod: ibPod, NodeNames: ['a', 7] }, 400, 'INVALID_FIELD', 'NodeNames[1]'],
    [
      'neither NodeNames nor Nodes',
      { Pod: ibPod, NodeNames: null, Nodes: null },
      400,
      'INVALID_FIELD',
      'NodeNames',
    ],
    [
      'Nodes without names',
      { Pod: ibPod, Nodes: { items: [{ metadata: {} }] } },
      400,
      'INVALID_FIELD',
      'Nodes.items[0].metadata.name',
    ],
    ['Nodes.items not an array', { Pod: ibPod, Nodes: { items: {} } }, 400, 'INVALID_FIELD', 'Nodes.items'],
    [
      'pod containers not an array',
      { Pod: { spec: { containers: 5 } }, NodeNames: [] },
      400,
      'INVALID_FIELD',
      'Pod.spec.containers',
    ],
  ])('%s is answered with a clear 4xx', async (_name, body, status, code, field) => {
    const t = await golden();
    for (const url of ['/filter', '/prioritize']) {
      const res = await post(t, url, body);
      expect(res.statusCode).toBe(status);
      const err = res.json<{ error: { code: string; message: string; field?: string } }>().error;
      expect(err.code).toBe(code);
      if (field !== undefined) {
        expect(err.field).toBe(field);
        expect(err.message.startsWith(`${field}: `)).toBe(true);
      }
    }
  });

  it('a body over the limit is 413, under it is fine', async () => {
    const t = await golden({ options: { bodyLimitBytes: 2048 } });
    const big = { Pod: ibPod, NodeNames: Array.from({ length: 300 }, (_, i) => `node-${i}`) };
    const res = await post(t, '/filter', big);
    expect(res.statusCode).toBe(413);
    expect(res.json()).toMatchObject({
      error: { code: 'BODY_TOO_LARGE', message: expect.stringContaining('2048 bytes') as unknown },
    });
    expect((await post(t, '/filter', { Pod: ibPod, NodeNames: ['gpu-node-01'] })).statusCode).toBe(200);
  });

  it('a body that is not JSON is 415', async () => {
    const t = await golden();
    const res = await t.app.inject({
      method: 'POST',
      url: '/filter',
      headers: { 'content-type': 'text/plain' },
      payload: 'x',
    });
    expect(res.statusCode).toBe(415);
    expect(res.json()).toMatchObject({ error: { code: 'UNSUPPORTED_MEDIA_TYPE' } });
  });

  it('unknown routes are 404 with a code', async () => {
    const t = await golden();
    const res = await t.app.inject({ method: 'GET', url: '/nope' });
    expect(res.statusCode).toBe(404);
    expect(res.json()).toMatchObject({ error: { code: 'ROUTE_NOT_FOUND' } });
  });

  it('bad input changes nothing: the next good request gets the same answer', async () => {
    const t = await golden();
    const body = { Pod: makePod().vfs('ib', 1).gpus(1).build(), NodeNames: ['gpu-node-01', 'gpu-node-06'] };
    const before = (await post(t, '/filter', body)).payload;
    await post(t, '/filter', '{"Pod":');
    await post(t, '/filter', { Pod: 1 });
    expect((await post(t, '/filter', body)).payload).toBe(before);
  });
});

describe('filter and prioritize', () => {
  it('pods without VFs pass through untouched: every input node, neutral score', async () => {
    const t = await golden();
    const pod = makePod().gpus(2).build();
    const names = ['gpu-node-02', 'ghost-node', 'gpu-node-05'];
    const res = await post(t, '/filter', { Pod: pod, NodeNames: names });
    expect(res.json()).toEqual({
      Nodes: null,
      NodeNames: names,
      FailedNodes: {},
      FailedAndUnresolvableNodes: {},
      Error: '',
    });
    const prio = await post(t, '/prioritize', { Pod: pod, NodeNames: names });
    expect(prio.json()).toEqual(names.map((Host) => ({ Host, Score: 0 })));
  });

  it('an invalid annotation rejects every node as unresolvable, naming the annotation', async () => {
    const t = await golden();
    const pod = makePod().vfs('ib', 1).locality('strict').build();
    const res = await post(t, '/filter', { Pod: pod, NodeNames: ['gpu-node-01', 'ghost-node'] });
    expect(res.statusCode).toBe(200);
    const body = res.json<{ NodeNames: string[]; FailedAndUnresolvableNodes: Record<string, string> }>();
    expect(body.NodeNames).toEqual([]);
    expect(Object.keys(body.FailedAndUnresolvableNodes)).toEqual(['gpu-node-01', 'ghost-node']);
    expect(body.FailedAndUnresolvableNodes['gpu-node-01']).toMatch(
      /^invalid pod request: annotation rdmasched\.io\/gpu-locality="strict" must be one of required, preferred, none$/,
    );
    const metrics = await t.app.inject({ method: 'GET', url: '/metrics' });
    expect(metrics.payload).toMatch(/rdmasched_extender_invalid_pod_requests_total\{verb="filter"\} 1/);
  });

  it('nodeCacheCapable false: answers with the filtered NodeList and no NodeNames', async () => {
    const t = await golden();
    const node = (name: string) => ({ metadata: { name, labels: { a: 'b' } }, spec: {}, status: {} });
    const res = await post(t, '/filter', {
      Pod: makePod().vfs('ib', 1).build(),
      Nodes: {
        kind: 'NodeList',
        apiVersion: 'v1',
        metadata: {},
        items: [node('gpu-node-02'), node('gpu-node-06')],
      },
    });
    expect(res.json()).toEqual({
      Nodes: { kind: 'NodeList', apiVersion: 'v1', metadata: {}, items: [node('gpu-node-06')] },
      NodeNames: null,
      FailedNodes: {},
      FailedAndUnresolvableNodes: { 'gpu-node-02': 'node has no InfiniBand PF' },
      Error: '',
    });
  });

  it('returned names are always a subset of the input, and scores integers in 0..10', async () => {
    const t = await golden();
    const known = ['gpu-node-01', 'gpu-node-02', 'gpu-node-03', 'gpu-node-04', 'gpu-node-05', 'gpu-node-06'];
    await fc.assert(
      fc.asyncProperty(
        fc.array(fc.oneof(fc.constantFrom(...known), fc.string({ maxLength: 12 })), { maxLength: 12 }),
        fc.integer({ min: 0, max: 3 }),
        fc.integer({ min: 0, max: 2 }),
        fc.integer({ min: 0, max: 3 }),
        async (names, ib, roce, gpus) => {
          const pod = makePod().vfs('ib', ib).vfs('roce', roce).gpus(gpus).build();
          const filter = (await post(t, '/filter', { Pod: pod, NodeNames: names })).json<{
            NodeNames: string[];
            FailedNodes: Record<string, string>;
            FailedAndUnresolvableNodes: Record<string, string>;
          }>();
          const input = new Set(names);
          for (const n of filter.NodeNames) expect(input.has(n)).toBe(true);
          for (const n of [
            ...Object.keys(filter.FailedNodes),
            ...Object.keys(filter.FailedAndUnresolvableNodes),
          ]) {
            expect(input.has(n)).toBe(true);
            expect(filter.NodeNames).not.toContain(n);
          }
          const prio = (await post(t, '/prioritize', { Pod: pod, NodeNames: names })).json<
            { Host: string; Score: number }[]
          >();
          expect(prio.map((p) => p.Host)).toEqual(names);
          for (const p of prio) expect(Number.isInteger(p.Score) && p.Score >= 0 && p.Score <= 10).toBe(true);
        },
      ),
      { numRuns: 60 },
    );
  });

  it('builds answers larger than its scratch buffer (20,000 names, some needing escapes)', async () => {
    const t = await golden();
    const names = Array.from({ length: 20_000 }, (_, i) =>
      i % 1000 === 0 ? `nœud-"${i}"` : `absent-node-${i}`,
    );
    names[5] = 'gpu-node-01';
    const body = { Pod: makePod().vfs('ib', 1).build(), NodeNames: names };
    const filter = (await post(t, '/filter', body)).json<{
      NodeNames: string[];
      FailedNodes: Record<string, string>;
    }>();
    expect(filter.NodeNames).toEqual(['gpu-node-01']);
    expect(Object.keys(filter.FailedNodes)).toHaveLength(19_999);
    expect(filter.FailedNodes['nœud-"1000"']).toMatch(/^unknown node/);
    const prio = (await post(t, '/prioritize', body)).json<{ Host: string; Score: number }[]>();
    expect(prio.map((p) => p.Host)).toEqual(names);
  });

  it('serves the verbs under a configured prefix', async () => {
    const t = await golden({ options: { urlPrefix: 'scheduler/' } });
    const body = { Pod: ibPod, NodeNames: ['gpu-node-01'] };
    expect((await post(t, '/scheduler/filter', body)).statusCode).toBe(200);
    expect((await post(t, '/scheduler/prioritize', body)).statusCode).toBe(200);
    expect((await post(t, '/filter', body)).statusCode).toBe(404);
  });

  it('a stale node becomes schedulable again after its next heartbeat', async () => {
    const t = await golden();
    const body = { Pod: makePod().vfs('ib', 1).build(), NodeNames: ['gpu-node-05'] };
    expect((await post(t, '/filter', body)).json()).toMatchObject({
      NodeNames: [],
      FailedNodes: { 'gpu-node-05': expect.stringMatching(/stale/) as unknown },
    });
    expect(t.store.heartbeat('gpu-node-05', GOLDEN_NOW_MS)).toBe(true);
    expect((await post(t, '/filter', body)).json()).toMatchObject({ NodeNames: ['gpu-node-05'] });
  });

  it('a reservation in the view takes VFs away from the next pod', async () => {
    const t = await testExtender();
    const report = makeReport('solo').pf({ numVfs: 2, configured: 2 }).reportedAtMs(GOLDEN_NOW_MS).build();
    t.store.publish(report, GOLDEN_NOW_MS);
    const body = { Pod: makePod().vfs('ib', 2).build(), NodeNames: ['solo'] };
    expect((await post(t, '/filter', body)).json()).toMatchObject({ NodeNames: ['solo'] });
    t.reservations.reserve({
      podUid: 'other',
      namespace: 'ns',
      podName: 'other',
      tenant: '',
      node: 'solo',
      pfs: [{ pfPciAddress: report.pfs[0]?.pciAddress ?? '', linkType: 'ib', count: 1 }],
      gpus: [],
      state: 'bound',
      createdAtMs: 0,
      expiresAtMs: 0,
    });
    expect((await post(t, '/filter', body)).json()).toMatchObject({
      NodeNames: [],
      FailedNodes: { solo: 'too few free InfiniBand VFs now' },
    });
  });

  it('explain shows each node’s decision with its plan and score parts', async () => {
    const t = await golden();
    const res = await post(t, '/v1/explain', {
      Pod: makePod().vfs('ib', 1).gpus(1).build(),
      NodeNames: ['gpu-node-01', 'gpu-node-02'],
    });
    expect(res.statusCode).toBe(200);
    const body = res.json<{
      nodes: { node: string; result: string; score: number; plan?: { distance: string } }[];
    }>();
    expect(body.nodes[0]).toMatchObject({
      node: 'gpu-node-01',
      result: 'feasible',
      plan: { distance: 'PIX' },
    });
    expect(body.nodes[0]?.score).toBeGreaterThan(0);
    expect(body.nodes[1]).toMatchObject({
      node: 'gpu-node-02',
      result: 'unresolvable',
      reason: 'node has no InfiniBand PF',
      score: 0,
    });
  });
});

describe('probes, metrics and operator endpoints', () => {
  it('readyz is 503 until the first load, then 200; healthz is always 200', async () => {
    const t = await testExtender({ start: false });
    expect((await t.app.inject({ method: 'GET', url: '/healthz' })).statusCode).toBe(200);
    const before = await t.app.inject({ method: 'GET', url: '/readyz' });
    expect(before.statusCode).toBe(503);
    expect(before.json()).toMatchObject({ error: { code: 'NOT_READY' } });
    await t.store.start();
    expect((await t.app.inject({ method: 'GET', url: '/readyz' })).statusCode).toBe(200);
  });

  it('/metrics exposes request, decision and snapshot metrics', async () => {
    const t = await golden();
    await post(
      t,
      '/filter',
      JSON.parse(
        JSON.stringify({
          Pod: makePod().vfs('ib', 1).build(),
          NodeNames: ['gpu-node-01', 'gpu-node-02', 'ghost-node'],
        }),
      ),
    );
    t.store.publish({ nodeName: 'broken' });
    const res = await t.app.inject({ method: 'GET', url: '/metrics' });
    expect(res.statusCode).toBe(200);
    const text = res.payload;
    expect(text).toMatch(/rdmasched_extender_http_requests_total\{verb="filter",code="200"\} 1/);
    expect(text).toMatch(/rdmasched_extender_http_request_duration_seconds_count\{verb="filter"\} 1/);
    expect(text).toMatch(
      /rdmasched_extender_filter_decisions_total\{result="feasible",reason="none",link_type="ib"\} 1/,
    );
    expect(text).toMatch(
      /rdmasched_extender_filter_decisions_total\{result="unresolvable",reason="NO_LINK_TYPE",link_type="ib"\} 1/,
    );
    expect(text).toMatch(
      /rdmasched_extender_filter_decisions_total\{result="failed",reason="UNKNOWN_NODE",link_type="ib"\} 1/,
    );
    expect(text).toMatch(/rdmasched_extender_snapshot_nodes 6/);
    expect(text).toMatch(/rdmasched_extender_snapshot_stale_nodes 1/);
    expect(text).toMatch(/rdmasched_extender_reports_total\{outcome="rejected"\} 1/);
    expect(text).toMatch(/rdmasched_extender_reports_total\{outcome="accepted"\} 6/);
    for (const line of text.split('\n'))
      if (line.startsWith('rdmasched_')) expect(line.startsWith('rdmasched_extender_')).toBe(true);
  });

  it('/v1/nodes lists every node with staleness and VFs per link type', async () => {
    const t = await golden();
    const res = await t.app.inject({ method: 'GET', url: '/v1/nodes' });
    const body = res.json<{
      count: number;
      stale: number;
      nodes: { name: string; stale: boolean; linkTypes: Record<string, unknown> }[];
    }>();
    expect(body.count).toBe(6);
    expect(body.stale).toBe(1);
    const n1 = body.nodes.find((n) => n.name === 'gpu-node-01');
    // Example host: IB PF with 4 VFs, 2 configured, 1 in use -> 1 free now, 2 ready, 2 creatable (configure).
    expect(n1?.linkTypes).toEqual({
      ib: { pfs: 1, freeVfs: 1, readyVfs: 2, creatableVfs: 2, maxRateGbps: 400 },
      roce: { pfs: 1, freeVfs: 1, readyVfs: 2, creatableVfs: 2, maxRateGbps: 400 },
    });
    expect(body.nodes.find((n) => n.name === 'gpu-node-05')?.stale).toBe(true);
  });

  it('/v1/nodes/NAME returns the full report and the derived view; unknown is 404', async () => {
    const t = await golden();
    const res = await t.app.inject({ method: 'GET', url: '/v1/nodes/gpu-node-01' });
    expect(res.statusCode).toBe(200);
    const body = res.json<{
      report: { nodeName: string };
      pfs: { heldVfs: number }[];
      gpus: { distanceToPfs: Record<string, string> }[];
    }>();
    expect(body.report.nodeName).toBe('gpu-node-01');
    expect(body.pfs[0]?.heldVfs).toBe(1);
    expect(body.gpus[0]?.distanceToPfs).toEqual({ '0000:1a:00.0': 'PIX', '0000:9e:00.0': 'SYS' });
    const missing = await t.app.inject({ method: 'GET', url: '/v1/nodes/nope' });
    expect(missing.statusCode).toBe(404);
    expect(missing.json()).toMatchObject({
      error: { code: 'NODE_NOT_FOUND', message: expect.stringContaining('"nope"') as unknown },
    });
  });
});

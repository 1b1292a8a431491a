/**
 * Node report sources: the extender's `GET /v1/nodes/NAME` over real HTTP (a small server that
 * answers with the extender's shapes: the node detail with its `report`, and its error body),
 * and `--node-report` files.
 */
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ExtenderNodeReports, FileNodeReports } from '../../src/rdma-run/node-reports.js';
import { nodeReport } from '../builders.js';

let server: Server;
let url = '';
const seen: { path: string; auth: string | undefined }[] = [];

beforeAll(async () => {
  server = createServer((req, res) => {
    seen.push({ path: req.url ?? '', auth: req.headers.authorization });
    const name = decodeURIComponent((req.url ?? '').replace(/^\/prefix\/v1\/nodes\//, ''));
    const json = (status: number, body: unknown) => {
      res.writeHead(status, { 'content-type': 'application/json' });
      res.end(JSON.stringify(body));
    };
    if (name === 'node-a')
      json(200, { summary: { name }, pfs: [], gpus: [], report: nodeReport({ rateGbps: 200 }) });
    else if (name === 'broken') json(200, { summary: { name }, report: { ...nodeReport(), pfs: 'none' } });
    else if (name === 'liar') json(200, { report: nodeReport() });
    else
      json(404, {
        error: {
          code: 'NODE_NOT_FOUND',
          message: `node ${JSON.stringify(name)} is not in the snapshot (3 nodes known): no valid report from its node agent`,
        },
      });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
  url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/prefix`;
});
afterAll(async () => {
  await new Promise((r) => server.close(r));
});

describe('ExtenderNodeReports', () => {
  it('reads the report out of the node detail, and sends the token when given', async () => {
    const source = new ExtenderNodeReports({ url, token: 'tok' });
    const r = await source.get('node-a');
    expect(r.ok && r.report.pfs[0]?.rateGbps).toBe(200);
    expect(seen.at(-1)).toEqual({ path: '/prefix/v1/nodes/node-a', auth: 'Bearer tok' });
  });

  it.each([
    ['node-z', /HTTP 404: NODE_NOT_FOUND node "node-z" is not in the snapshot/],
    ['broken', /not a valid v1 node report: \/pfs/],
    ['liar', /the report is for node node-a, not liar/],
  ])('%s: an error sentence, never a report', async (node, message) => {
    const r = await new ExtenderNodeReports({ url }).get(node);
    expect(r.ok).toBe(false);
    if (!r.ok) expect(r.error).toMatch(message);
  });

  it('an extender that does not answer is an error sentence too', async () => {
    const r = await new ExtenderNodeReports({ url: 'http://127.0.0.1:1/', timeoutMs: 2000 }).get('node-a');
    expect(r.ok).toBe(false);
    if (!r.ok)
      expect(r.error).toMatch(/^extender http:\/\/127\.0\.0\.1:1\/v1\/nodes\/node-a: .*ECONNREFUSED/);
  });
});

describe('FileNodeReports', () => {
  it('loads reports, the extender answer and arrays; refuses bad files naming them', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'node-reports-'));
    try {
      const a = join(dir, 'a.json');
      const b = join(dir, 'b.json');
      await writeFile(a, JSON.stringify({ report: nodeReport() }));
      await writeFile(
        b,
        JSON.stringify([
          { ...nodeReport(), nodeName: 'node-b' },
          { ...nodeReport(), nodeName: 'node-c' },
        ]),
      );
      const ok = await FileNodeReports.load([a, b]);
      expect(ok.ok).toBe(true);
      if (ok.ok) {
        expect((await ok.source.get('node-c')).ok).toBe(true);
        const missing = await ok.source.get('node-d');
        expect(missing).toEqual({
          ok: false,
          error: 'no --node-report for node node-d (reports given for: node-a, node-b, node-c)',
        });
      }
      const bad = join(dir, 'bad.json');
      await writeFile(bad, JSON.stringify([nodeReport(), { kind: 'NodeReport' }]));
      const r = await FileNodeReports.load([a, bad, join(dir, 'none.json')]);
      expect(r.ok).toBe(false);
      if (!r.ok) {
        expect(r.errors[0]).toBe(`--node-report ${bad}[0]: a second report for node node-a`);
        expect(r.errors[1]).toMatch(new RegExp(`^--node-report ${bad}\\[1\\]: not a valid v1 node report`));
        expect(r.errors[2]).toMatch(/none\.json: ENOENT/);
      }
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});

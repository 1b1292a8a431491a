/**
 * Golden wire tests: ExtenderArgs written from the extender v1 wire format (reference/
 * extender-api.md) go in, and the answer must equal the pinned file byte for byte, key order
 * included. The fixtures cover nodeCacheCapable true (NodeNames) and false (Nodes, full v1.Node
 * objects), lower-cased keys, and a full v1.Pod with an init container and a sidecar.
 * The pod asks 2 IB VFs (1 in the trainer + 1 in the nccl-proxy sidecar; the fetch-dataset init
 * container's 1 does not add), 2 GPUs, min-rate-gbps 200, gpu-locality required.
 */
import { describe, expect, it } from 'vitest';
import { fixtureText, publishGoldenReports, testExtender } from './helpers.js';

const cases = [
  { args: 'filter-nodenames', verb: 'filter' },
  { args: 'filter-nodes', verb: 'filter' },
  { args: 'filter-lowercase', verb: 'filter' },
  { args: 'prioritize-nodenames', verb: 'prioritize' },
] as const;

describe('golden extender wire format', () => {
  it.each(cases)('$args', async ({ args, verb }) => {
    const t = await testExtender({ start: false });
    publishGoldenReports(t.store);
    await t.store.start();
    const res = await t.app.inject({
      method: 'POST',
      url: `/${verb}`,
      headers: { 'content-type': 'application/json' },
      payload: fixtureText(`${args}.args.json`),
    });
    expect(res.statusCode).toBe(200);
    expect(res.headers['content-type']).toBe('application/json; charset=utf-8');
    expect(res.payload).toBe(fixtureText(`${args}.result.json`).replace(/\n$/, ''));
  });

  it('the lower-cased request gets the same answer as the capitalised one', () => {
    expect(fixtureText('filter-lowercase.result.json')).toBe(fixtureText('filter-nodenames.result.json'));
  });

  it('with Nodes, the answer holds the original Node objects of the feasible nodes, untouched', () => {
    const args = JSON.parse(fixtureText('filter-nodes.args.json')) as {
      Nodes: { items: { metadata: { name: string } }[] };
    };
    const result = JSON.parse(fixtureText('filter-nodes.result.json')) as {
      Nodes: { items: unknown[] };
      NodeNames: unknown;
    };
    const byName = new Map(args.Nodes.items.map((n) => [n.metadata.name, n]));
    expect(result.NodeNames).toBeNull();
    expect(result.Nodes.items).toEqual([byName.get('gpu-node-01'), byName.get('gpu-node-06')]);
  });
});

import { describe, expect, it } from 'vitest';
import { parseNetworkRefs } from './multus.js';

describe('parseNetworkRefs', () => {
  it.each([
    ['', []],
    ['ib-net', [{ namespace: 'team-a', name: 'ib-net' }]],
    [
      'other/ib-net@net1, roce-net',
      [
        { namespace: 'other', name: 'ib-net' },
        { namespace: 'team-a', name: 'roce-net' },
      ],
    ],
    [
      '[{"name":"ib-net","namespace":"shared","interface":"net1"}]',
      [{ namespace: 'shared', name: 'ib-net' }],
    ],
    ['[{"name":"ib-net"}]', [{ namespace: 'team-a', name: 'ib-net' }]],
  ])('reads %j', (text, refs) => {
    expect(parseNetworkRefs(text, 'team-a')).toEqual({ ok: true, refs });
  });

  it.each([
    ['a/b/c', '"a/b/c" must be [namespace/]name[@interface]'],
    ['ok,,x', 'has an empty entry'],
    ['[{"namespace":"x"}]', '[0].name must be a string'],
    ['{"name":"x"}', 'the JSON form must be an array of networks'],
    ['[not json', 'is neither a JSON array of networks nor a list of namespace/name'],
    ['Bad_NS/net', 'namespace "Bad_NS" is not a valid namespace name'],
  ])('rejects %j naming the problem', (text, detail) => {
    const r = parseNetworkRefs(text, 'team-a');
    expect(r.ok).toBe(false);
    if (!r.ok) expect(r.message).toContain(detail);
  });
});

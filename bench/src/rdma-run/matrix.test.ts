import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { buildMatrix, rawFromDocument, testsPerPair, type RawMatrix, type TestMatrix } from './matrix.js';
import { planRuns, SWEEP_MAX_BYTES } from './plan.js';
import { buildScript } from './script.js';

const flags = (values: Record<string, unknown>): RawMatrix =>
  Object.fromEntries(Object.entries(values).map(([k, v]) => [k, { value: v, origin: 'flag' as const }]));

function ok(raw: RawMatrix): TestMatrix {
  const r = buildMatrix(raw);
  if (!r.ok) throw new Error(r.errors.join('\n'));
  return r.value;
}

describe('buildMatrix', () => {
  it('fills the defaults around the pairs', () => {
    const m = ok(flags({ pairs: 'node-a:node-b,any:any' }));
    expect(m.pairs).toEqual([
      { server: 'node-a', client: 'node-b' },
      { server: null, client: null },
    ]);
    expect(m.tests).toEqual(['write-bw', 'write-lat']);
    expect(m.sizes).toEqual([65536]);
    expect(m.latSizes).toEqual([2]);
    expect(m.qps).toEqual([1]);
    expect(m.linkType).toBe('ib');
    expect(m.tcpPort).toBe(18515);
  });

  it.each([
    [{ pairs: 'a:b', sizes: '64k' }, '--sizes[0]: must be a whole number from 1 to 2147483648, got "64k"'],
    [
      { pairs: 'a:b', tests: 'write-bw,write_lat' },
      '--tests: takes write-bw, read-bw, send-bw, write-lat, read-lat, send-lat; got "write_lat"',
    ],
    [{ pairs: 'a' }, '--pairs[0]: must be SERVER:CLIENT (node names or "any"), got "a"'],
    [{ pairs: 'a:Node_B' }, '--pairs[0]: client must be a Kubernetes node name or "any", got "Node_B"'],
    [
      { pairs: 'a:a' },
      '--pairs[0]: a:a names one node twice; add --same-node to test a loopback on one node',
    ],
    [
      { pairs: 'a:b', sameNode: true },
      '--pairs[0]: --same-node puts both pods on one node, but the pair names a and b',
    ],
    [{ pairs: 'a:b', useCuda: true }, '--use-cuda needs GPUs in the pods: set --gpus to 1 or more'],
    [
      { pairs: 'a:b', duration: '5', iterations: '1000' },
      '--duration and --iterations exclude each other: a run is timed or counted',
    ],
    [{ pairs: 'a:b', linkType: 'eth' }, '--link-type: must be ib or roce, got "eth"'],
    [{ pairs: 'a:b', qps: '0' }, '--qps[0]: must be a whole number from 1 to 16384, got "0"'],
    [
      { pairs: 'a:b', tcpPort: '65530', qps: '1,2,4,8,16,32' },
      '--tcp-port 65530 + 7 tests runs past port 65535',
    ],
    [{}, '--pairs (or "pairs" in a matrix file) is required: e.g. --pairs node-a:node-b'],
  ])('%j is refused: %s', (values, message) => {
    const r = buildMatrix(flags(values));
    expect(r.ok).toBe(false);
    if (!r.ok) expect(r.errors).toContain(message);
  });

  it('reports every problem at once', () => {
    const r = buildMatrix(flags({ pairs: 'a:a', sizes: 'x', gpus: '-1' }));
    expect(r.ok).toBe(false);
    if (!r.ok) expect(r.errors).toHaveLength(3);
  });

  it('reads a matrix file, names the file and field in errors, and lets flags override it', () => {
    const doc = {
      apiVersion: 'rdmasched.io/v1',
      kind: 'RdmaBenchMatrix',
      pairs: [{ server: 'node-a', client: 'node-b' }, 'node-c:any'],
      tests: ['write-bw', 'read-lat'],
      sizes: [65536, 1048576],
      qps: [1, 4],
      duration: 5,
      linkType: 'roce',
      gpus: 1,
      useCuda: true,
    };
    const r = rawFromDocument(doc, 'm.yaml');
    expect(r.errors).toEqual([]);
    const m = ok({ ...r.raw, ...flags({ sizes: '4096' }) });
    expect(m.pairs).toEqual([
      { server: 'node-a', client: 'node-b' },
      { server: 'node-c', client: null },
    ]);
    expect(m.sizes).toEqual([4096]);
    expect(m.durationS).toBe(5);
    expect(m.linkType).toBe('roce');

    const bad = rawFromDocument({ pairs: [{ server: 'a' }], size: [1], sizes: [0], kind: 'Pod' }, 'm.yaml');
    expect(bad.errors).toEqual([
      'm.yaml: unknown field "size" (known: pairs, tests, sizes, latSizes, qps, duration, iterations, bidirectional, linkType, gpus, useCuda, sameNode, gidIndex, rdmaCm, tcpPort)',
      'm.yaml: kind must be RdmaBenchMatrix, got "Pod"',
    ]);
    const v = buildMatrix(bad.raw);
    expect(v.ok).toBe(false);
    if (!v.ok)
      expect(v.errors).toEqual([
        'm.yaml: pairs[0]: needs both server and client (a node name or "any")',
        'm.yaml: sizes[0]: must be a whole number from 1 to 2147483648, got 0',
      ]);
  });
});

describe('planRuns', () => {
  it('gives each run its own port and the perftest options of both sides', () => {
    const m = ok(
      flags({
        pairs: 'a:b',
        tests: 'write-bw,read-lat',
        qps: '1,4',
        duration: '10',
        bidirectional: true,
        gidIndex: '3',
      }),
    );
    const runs = planRuns(m);
    expect(runs.map((r) => [r.index, r.tool, r.tcpPort, r.label])).toEqual([
      [1, 'ib_write_bw', 18515, 'write bw 64 KiB bidir'],
      [2, 'ib_write_bw', 18516, 'write bw 64 KiB 4 QPs bidir'],
      [3, 'ib_read_lat', 18517, 'read lat 2 B'],
    ]);
    expect(runs[1]?.args).toEqual([
      '-F',
      '-p',
      '18516',
      '-s',
      '65536',
      '-D',
      '10',
      '-x',
      '3',
      '--report_gbits',
      '-q',
      '4',
      '-b',
    ]);
    expect(runs[2]?.args).toEqual(['-F', '-p', '18517', '-s', '2', '-D', '10', '-x', '3']);
    expect(runs[1]?.test).toEqual({
      verb: 'write',
      kind: 'bandwidth',
      bidirectional: true,
      messageSizeBytes: 65536,
      qps: 4,
      useCuda: false,
    });
    expect(runs[2]?.test).toEqual({
      verb: 'read',
      kind: 'latency',
      bidirectional: false,
      messageSizeBytes: 2,
      qps: 1,
      useCuda: false,
    });
  });

  it('runs -a for "all" and --use_cuda=0 on bandwidth runs only', () => {
    const m = ok(flags({ pairs: 'a:b', sizes: 'all', gpus: '1', useCuda: true }));
    const [bw, lat] = planRuns(m);
    expect(bw?.args).toContain('-a');
    expect(bw?.args).toContain('--use_cuda=0');
    expect(bw?.test.messageSizeBytes).toBe(SWEEP_MAX_BYTES);
    expect(bw?.test.useCuda).toBe(true);
    // perftest's latency tools do not support CUDA memory (perftest issue #231).
    expect(lat?.args).not.toContain('--use_cuda=0');
    expect(lat?.test.useCuda).toBe(false);
  });

  it('property: one run per matrix cell, consecutive ports, and a script for any valid matrix', () => {
    const names = ['write-bw', 'read-bw', 'send-bw', 'write-lat', 'read-lat', 'send-lat'];
    fc.assert(
      fc.property(
        fc.subarray(names, { minLength: 1 }),
        fc.uniqueArray(fc.integer({ min: 1, max: 2 ** 24 }), { minLength: 1, maxLength: 4 }),
        fc.uniqueArray(fc.integer({ min: 1, max: 64 }), { minLength: 1, maxLength: 3 }),
        fc.integer({ min: 1024, max: 60000 }),
        (tests, sizes, qps, tcpPort) => {
          const m = ok(
            flags({
              pairs: 'any:any',
              tests: tests.join(','),
              sizes: sizes.join(','),
              qps: qps.join(','),
              tcpPort: String(tcpPort),
            }),
          );
          const runs = planRuns(m);
          expect(runs).toHaveLength(testsPerPair(m));
          runs.forEach((r, i) => {
            expect(r.index).toBe(i + 1);
            expect(r.tcpPort).toBe(tcpPort + i);
            expect(r.args.slice(0, 3)).toEqual(['-F', '-p', String(tcpPort + i)]);
          });
          const script = buildScript({
            role: 'client',
            runs,
            linkType: 'ib',
            perRunTimeoutS: 60,
            connectAttempts: 5,
            connectRetryDelayS: 1,
            reportGpu: false,
          });
          expect(script.split('\n').filter((l) => l.startsWith('run '))).toHaveLength(runs.length);
        },
      ),
    );
  });
});

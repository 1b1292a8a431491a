import { createServer, type IncomingMessage, type Server } from 'node:http';
import { afterEach, describe, expect, it } from 'vitest';
import { SchedulerDriver } from './driver.js';
import type { NodeLike } from './node-cache.js';
import { podRequests, type PodLike } from './pod-resources.js';
import { SchedulingQueue } from './queue.js';

type Handler = (verb: string, body: Record<string, unknown>) => unknown;

interface FakeExtender {
  url: string;
  calls: { verb: string; body: Record<string, unknown> }[];
  close(): Promise<void>;
}

async function fakeExtender(handler: Handler): Promise<FakeExtender> {
  const calls: FakeExtender['calls'] = [];
  const server: Server = createServer((req: IncomingMessage, res) => {
    let data = '';
    req.on('data', (c: Buffer) => (data += c.toString()));
    req.on('end', () => {
      const verb = (req.url ?? '').split('/').pop() ?? '';
      const body = JSON.parse(data) as Record<string, unknown>;
      calls.push({ verb, body });
      res.setHeader('content-type', 'application/json');
      res.end(JSON.stringify(handler(verb, body)));
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const addr = server.address();
  const port = typeof addr === 'object' && addr !== null ? addr.port : 0;
  return {
    url: `http://127.0.0.1:${port}/scheduler`,
    calls,
    close: () => new Promise((r) => server.close(() => r())),
  };
}

const node = (name: string, cpu = '8', extra: Record<string, string> = {}): NodeLike => ({
  metadata: { name, labels: { 'kubernetes.io/hostname': name } },
  status: { allocatable: { cpu, memory: '64Gi', pods: '110', ...extra } },
});

const pod = (
  uid: string,
  requests: Record<string, string>,
  extra: Partial<PodLike['spec']> = {},
): PodLike => ({
  metadata: { name: `p-${uid}`, namespace: 'ns', uid },
  spec: {
    schedulerName: 'rdma-scheduler',
    containers: [{ name: 'c', resources: { requests, limits: requests } }],
    ...extra,
  },
});

const managed = [
  { name: 'rdmasched.io/ib-vf', ignoredByScheduler: true },
  { name: 'rdmasched.io/roce-vf', ignoredByScheduler: true },
];

let ext: FakeExtender | undefined;
afterEach(async () => {
  await ext?.close();
  ext = undefined;
});

describe('podRequests', () => {
  it('takes the max of containers and init containers, counting sidecars', () => {
    const p: PodLike = {
      spec: {
        initContainers: [
          { name: 'init', resources: { requests: { cpu: '3' } } },
          { name: 'sidecar', restartPolicy: 'Always', resources: { requests: { cpu: '500m' } } },
          { name: 'late-init', resources: { requests: { cpu: '2' } } },
        ],
        containers: [
          { name: 'a', resources: { requests: { cpu: '1', 'rdmasched.io/ib-vf': '2' } } },
          { name: 'b', resources: { limits: { cpu: '1', 'rdmasched.io/ib-vf': '1' } } },
        ],
      },
    };
    const r = podRequests(p);
    // containers 2 + sidecar 0.5 = 2.5; init max(3, 0.5 + 2) = 3 -> 3
    expect(r.get('cpu')).toBe(3);
    expect(r.get('rdmasched.io/ib-vf')).toBe(3);
  });
});

describe('SchedulerDriver', () => {
  it('sends NodeNames with capitalised keys, adds score × weight × 10, binds through the extender', async () => {
    ext = await fakeExtender((verb, body) => {
      if (verb === 'filter')
        return {
          NodeNames: (body['NodeNames'] as string[]).filter((n) => n !== 'n3'),
          FailedNodes: { n3: 'no ib VF' },
          FailedAndUnresolvableNodes: {},
          Error: '',
        };
      if (verb === 'prioritize')
        return (body['NodeNames'] as string[]).map((n) => ({ Host: n, Score: n === 'n2' ? 10 : 0 }));
      return { Error: '' };
    });
    const d = new SchedulerDriver({
      extender: {
        urlPrefix: ext.url,
        filterVerb: 'filter',
        prioritizeVerb: 'prioritize',
        bindVerb: 'bind',
        weight: 2,
        nodeCacheCapable: true,
        managedResources: managed,
      },
    });
    for (const n of ['n1', 'n2', 'n3']) d.upsertNode(node(n));
    const r = await d.scheduleOne(pod('u1', { cpu: '1', 'rdmasched.io/ib-vf': '1' }));
    expect(r.outcome).toBe('scheduled');
    if (r.outcome !== 'scheduled') return;
    expect(r.node).toBe('n2');
    await r.bound;
    const filter = ext.calls.find((c) => c.verb === 'filter');
    expect(Object.keys(filter?.body ?? {})).toEqual(['Pod', 'Nodes', 'NodeNames']);
    expect(filter?.body['Nodes']).toBeNull();
    expect(filter?.body['NodeNames']).toEqual(['n1', 'n2', 'n3']);
    expect(ext.calls.find((c) => c.verb === 'bind')?.body).toEqual({
      PodName: 'p-u1',
      PodNamespace: 'ns',
      PodUID: 'u1',
      Node: 'n2',
    });
    // VF resources are ignoredByScheduler: n-nodes have no VF allocatable but still passed in-tree fit.
    expect(d.cache.requestedOf('n2', 'cpu')).toBe(1);
    d.close();
  });

  it('rejects an extender that returns a node it was not given', async () => {
    ext = await fakeExtender(() => ({ NodeNames: ['elsewhere'], FailedNodes: {}, Error: '' }));
    const d = new SchedulerDriver({
      extender: {
        urlPrefix: ext.url,
        filterVerb: 'filter',
        bindVerb: 'bind',
        weight: 1,
        nodeCacheCapable: true,
        managedResources: managed,
      },
    });
    d.upsertNode(node('n1'));
    const r = await d.scheduleOne(pod('u1', { 'rdmasched.io/ib-vf': '1' }));
    expect(r.outcome).toBe('error');
    if (r.outcome === 'error')
      expect(r.message).toMatch(/claims a filtered node elsewhere which is not found/);
    d.close();
  });

  it('sends full Nodes when nodeCacheCapable is false and reads Nodes back', async () => {
    ext = await fakeExtender((verb, body) => {
      const items = ((body['Nodes'] as { items: NodeLike[] }).items ?? []).filter(
        (n) => n.metadata.name === 'n1',
      );
      return verb === 'filter'
        ? { Nodes: { items }, NodeNames: null, FailedNodes: { n2: 'x' }, Error: '' }
        : { Error: '' };
    });
    const d = new SchedulerDriver({
      extender: {
        urlPrefix: ext.url,
        filterVerb: 'filter',
        bindVerb: 'bind',
        weight: 1,
        nodeCacheCapable: false,
        managedResources: managed,
      },
    });
    d.upsertNode(node('n1'));
    d.upsertNode(node('n2'));
    const r = await d.scheduleOne(pod('u1', { 'rdmasched.io/ib-vf': '1' }));
    expect(r.outcome === 'scheduled' && r.node).toBe('n1');
    expect(ext.calls[0]?.body['NodeNames']).toBeNull();
    d.close();
  });

  it('skips the extender for pods that request none of its resources', async () => {
    ext = await fakeExtender(() => ({ NodeNames: [], Error: '' }));
    const bound: string[] = [];
    const d = new SchedulerDriver({
      extender: {
        urlPrefix: ext.url,
        filterVerb: 'filter',
        weight: 1,
        nodeCacheCapable: true,
        managedResources: managed,
      },
      bind: (p, n) => {
        bound.push(`${p.name}@${n}`);
        return Promise.resolve();
      },
    });
    d.upsertNode(node('n1'));
    const r = await d.scheduleOne(pod('u1', { cpu: '1' }));
    expect(r.outcome).toBe('scheduled');
    if (r.outcome === 'scheduled') await r.bound;
    expect(ext.calls).toHaveLength(0);
    expect(bound).toEqual(['p-u1@n1']);
  });

  it('reports unschedulable pods with aggregated reasons, unresolvable when all are', async () => {
    ext = await fakeExtender(() => ({
      NodeNames: [],
      FailedNodes: {},
      FailedAndUnresolvableNodes: { n1: 'no InfiniBand PF', n2: 'no InfiniBand PF' },
      Error: '',
    }));
    const d = new SchedulerDriver({
      extender: {
        urlPrefix: ext.url,
        filterVerb: 'filter',
        bindVerb: 'bind',
        weight: 1,
        nodeCacheCapable: true,
        managedResources: managed,
      },
    });
    d.upsertNode(node('n1'));
    d.upsertNode(node('n2'));
    d.upsertNode(node('small', '1'));
    const r = await d.scheduleOne(pod('u1', { cpu: '2', 'rdmasched.io/ib-vf': '1' }));
    expect(r.outcome).toBe('unschedulable');
    if (r.outcome !== 'unschedulable') return;
    expect(r.message).toBe('0/3 nodes are available: 1 Insufficient cpu, 2 no InfiniBand PF.');
    expect(r.unresolvable).toBe(false);
    d.close();
  });

  it('rotates the start index and samples numFeasibleNodesToFind nodes', async () => {
    ext = await fakeExtender((verb, body) =>
      verb === 'filter' ? { NodeNames: body['NodeNames'], Error: '' } : { Error: '' },
    );
    const d = new SchedulerDriver({
      percentageOfNodesToScore: 50,
      extender: {
        urlPrefix: ext.url,
        filterVerb: 'filter',
        bindVerb: 'bind',
        weight: 1,
        nodeCacheCapable: true,
        managedResources: managed,
      },
    });
    for (let i = 0; i < 300; i++) d.upsertNode(node(`n${i}`));
    await d.scheduleOne(pod('a', { 'rdmasched.io/ib-vf': '1' }));
    await d.scheduleOne(pod('b', { 'rdmasched.io/ib-vf': '1' }));
    const first = ext.calls[0]?.body['NodeNames'] as string[];
    const second = ext.calls[2]?.body['NodeNames'] as string[];
    expect(first).toHaveLength(150);
    expect(first[0]).toBe('n0');
    expect(second[0]).toBe('n150');
    d.close();
  });

  it('breaks ties at random, covering every tied node', async () => {
    ext = await fakeExtender((verb, body) =>
      verb === 'filter' ? { NodeNames: body['NodeNames'], Error: '' } : { Error: '' },
    );
    let seed = 7;
    const random = () => ((seed = (seed * 16807) % 2147483647) - 1) / 2147483646;
    const d = new SchedulerDriver({
      random,
      extender: {
        urlPrefix: ext.url,
        filterVerb: 'filter',
        bindVerb: 'bind',
        weight: 1,
        nodeCacheCapable: true,
        managedResources: managed,
      },
    });
    for (const n of ['a', 'b', 'c']) d.upsertNode(node(n, '1000'));
    const chosen = new Set<string>();
    for (let i = 0; i < 30; i++) {
      const r = await d.scheduleOne(pod(`u${i}`, { 'rdmasched.io/ib-vf': '1' }));
      if (r.outcome === 'scheduled') chosen.add(r.node);
    }
    expect([...chosen].sort()).toEqual(['a', 'b', 'c']);
    d.close();
  });
});

describe('SchedulingQueue', () => {
  it('retries an unschedulable pod after a cluster event and binds it', async () => {
    const bound: string[] = [];
    const d = new SchedulerDriver({
      bind: (p, n) => {
        bound.push(`${p.name}@${n}`);
        return Promise.resolve();
      },
    });
    d.upsertNode(node('n1', '2'));
    const q = new SchedulingQueue(d, { initialBackoffMs: 1, maxBackoffMs: 5 });
    q.start();
    q.add(pod('big', { cpu: '2' }));
    q.add(pod('late', { cpu: '1' }));
    await q.drained();
    expect(bound).toEqual(['p-big@n1']);
    expect(q.pendingUnschedulable).toBe(1);
    d.forgetPod('big');
    q.moveAllToActive();
    await q.drained();
    expect(bound).toEqual(['p-big@n1', 'p-late@n1']);
    await q.stop();
  });

  it('requeues a pod whose binding failed', async () => {
    let fail = true;
    const d = new SchedulerDriver({
      bind: () => {
        if (fail) {
          fail = false;
          return Promise.reject(new Error('conflict'));
        }
        return Promise.resolve();
      },
    });
    d.upsertNode(node('n1', '1'));
    const failures: string[] = [];
    const boundTo: string[] = [];
    const q = new SchedulingQueue(
      d,
      { initialBackoffMs: 1 },
      {
        onBindFailed: (_p, _n, err) => failures.push(String(err)),
        onBound: (_p, n) => boundTo.push(n),
      },
    );
    q.start();
    q.add(pod('u1', { cpu: '1' }));
    await q.drained();
    expect(failures).toEqual(['Error: conflict']);
    expect(boundTo).toEqual(['n1']);
    // The failed attempt's requests were forgotten: exactly one pod's worth is counted.
    expect(d.cache.requestedOf('n1', 'cpu')).toBe(1);
    await q.stop();
  });
});

describe('several extenders', () => {
  let second: FakeExtender | undefined;
  afterEach(async () => {
    await second?.close();
    second = undefined;
  });

  it('filters in order (each narrowing), sums weighted scores, binds through the one binder', async () => {
    ext = await fakeExtender((verb, body) => {
      const names = body['NodeNames'] as string[];
      if (verb === 'filter')
        return {
          NodeNames: names.filter((n) => n !== 'n1'),
          FailedNodes: { n1: 'first says no' },
          Error: '',
        };
      if (verb === 'prioritize') return names.map((n) => ({ Host: n, Score: n === 'n2' ? 10 : 0 }));
      return { Error: '' };
    });
    second = await fakeExtender((verb, body) => {
      const names = body['NodeNames'] as string[];
      if (verb === 'filter') return { NodeNames: names, Error: '' };
      if (verb === 'prioritize') return names.map((n) => ({ Host: n, Score: n === 'n3' ? 10 : 0 }));
      return { Error: '' };
    });
    const d = new SchedulerDriver({
      inTreeScoring: false,
      extenders: [
        {
          urlPrefix: ext.url,
          filterVerb: 'filter',
          prioritizeVerb: 'prioritize',
          weight: 1,
          nodeCacheCapable: true,
          managedResources: managed,
        },
        {
          urlPrefix: second.url,
          filterVerb: 'filter',
          prioritizeVerb: 'prioritize',
          bindVerb: 'bind',
          weight: 3,
          nodeCacheCapable: true,
          managedResources: [],
        },
      ],
    });
    for (const n of ['n1', 'n2', 'n3']) d.upsertNode(node(n));
    const r = await d.scheduleOne(pod('u1', { 'rdmasched.io/ib-vf': '1' }));
    expect(r.outcome === 'scheduled' && r.node).toBe('n3'); // 10 x 3 x 10 beats 10 x 1 x 10
    if (r.outcome === 'scheduled') await r.bound;
    expect(second.calls.find((c) => c.verb === 'filter')?.body['NodeNames']).toEqual(['n2', 'n3']);
    expect(second.calls.map((c) => c.verb)).toContain('bind');
    expect(ext.calls.map((c) => c.verb)).not.toContain('bind');
    d.close();
  });

  it('refuses two binders, a prioritizer without weight and a managed resource listed twice', () => {
    const base = { urlPrefix: 'http://127.0.0.1:1', nodeCacheCapable: true, managedResources: managed };
    let message = '';
    try {
      new SchedulerDriver({
        extenders: [
          { ...base, bindVerb: 'bind', weight: 1 },
          { ...base, bindVerb: 'bind', prioritizeVerb: 'p', weight: 0 },
        ],
      });
    } catch (err: unknown) {
      message = (err as Error).message;
    }
    expect(message).toMatch(/only one extender can implement bind/);
    expect(message).toMatch(/extenders\[1\]\.weight: must have a positive weight/);
    expect(message).toMatch(/duplicate extender managed resource name rdmasched\.io\/ib-vf/);
  });

  it('ignores an ignorable extender that cannot be reached and keeps scheduling', async () => {
    const bound: string[] = [];
    const d = new SchedulerDriver({
      extenders: [
        {
          urlPrefix: 'http://127.0.0.1:9/none',
          filterVerb: 'filter',
          weight: 1,
          nodeCacheCapable: true,
          managedResources: managed,
          ignorable: true,
        },
      ],
      bind: (p, n) => {
        bound.push(`${p.name}@${n}`);
        return Promise.resolve();
      },
    });
    d.upsertNode(node('n1'));
    const r = await d.scheduleOne(pod('u1', { 'rdmasched.io/ib-vf': '1' }));
    expect(r.outcome).toBe('scheduled');
    if (r.outcome === 'scheduled') await r.bound;
    expect(bound).toEqual(['p-u1@n1']);
    d.close();
  });
});

/**
 * `rdma run` end to end against the fake API server (HTTPS with a bearer token, through a
 * kubeconfig file), with FakeCluster playing the scheduler and kubelets: the pods' scripts really
 * run, with fake perftest tools printing the shared perftest samples or synthesised output.
 * Every scenario ends with no pod of the run left in the API and no container process running.
 */
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CoreV1Api, type KubeConfig } from '@kubernetes/client-node';
import { FakeKubeApiServer, POD_RESOURCE, NAMESPACE_RESOURCE } from '@rdmasched/testkit';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { KubeClusterApi } from '../../src/rdma-run/cluster-api.js';
import { createRunCommand, type RunCommandDeps } from '../../src/rdma-run/command.js';
import { RUN_EXIT } from '../../src/rdma-run/run-cluster.js';
import type { BenchReport } from '../../src/report/report.js';
import { nodeReport } from '../builders.js';
import { readFixture } from '../helpers.js';
import { FakeCluster, type FakeNode, type PodPlan } from './fake-cluster.js';
import { kubernetesProblems } from './k8s-schema.js';

const NODES: FakeNode[] = [
  { name: 'node-a', rdmaDevice: 'mlx5_2', vfPciAddress: '0000:1a:00.1', pfPciAddress: '0000:1a:00.0' },
  { name: 'node-b', rdmaDevice: 'mlx5_3', vfPciAddress: '0000:1a:00.2', pfPciAddress: '0000:1a:00.0' },
];
const NS = 'bench';
const RUN_ID = '20261126-101500-test';
const SPARK_BW = readFixture('ib_write_bw_cx7_dgx_spark_rdmacm_4qp_report_gbits_spark-vllm-docker.txt');
const SPARK_LAT = readFixture('ib_write_lat_cx7_dgx_spark_rdmacm_spark-vllm-docker.txt');

interface Harness {
  fake: FakeKubeApiServer;
  cluster: FakeCluster;
  dir: string;
  kubeconfig: string;
  err: string[];
  out: string[];
  interrupt: () => void;
  run: (args: string[]) => Promise<number>;
  report: () => Promise<BenchReport>;
}

async function start(
  opts: { plan?: (pod: { metadata?: { name?: string } }) => PodPlan; nodes?: FakeNode[] } = {},
): Promise<Harness> {
  const fake = await FakeKubeApiServer.start({ tls: true, token: 's3cret-token' });
  const kc: KubeConfig = fake.kubeConfig();
  await kc.makeApiClient(CoreV1Api).createNamespace({ body: { metadata: { name: NS } } });
  const cluster = await FakeCluster.start(fake, {
    nodes: opts.nodes ?? NODES,
    pinCpu0: true,
    ...(opts.plan !== undefined ? { plan: opts.plan } : {}),
  });
  const dir = await mkdtemp(join(tmpdir(), 'rdma-run-test-'));
  const kubeconfig = join(dir, 'kubeconfig.json');
  await writeFile(kubeconfig, kc.exportConfig());
  // Node reports as the agents publish them: the builder's node-a, and node-b alike; 100 Gb/s ports.
  await writeFile(join(dir, 'node-a.json'), JSON.stringify(nodeReport({ rateGbps: 100 })));
  await writeFile(
    join(dir, 'node-b.json'),
    JSON.stringify({ ...nodeReport({ rateGbps: 100 }), nodeName: 'node-b' }),
  );
  const err: string[] = [];
  const out: string[] = [];
  let handler: (() => void) | undefined;
  const deps: RunCommandDeps = {
    io: { out: (t) => out.push(t), err: (t) => err.push(t) },
    env: {},
    cwd: () => dir,
    now: () => new Date('2026-11-26T10:15:00Z'),
    onInterrupt: (h) => {
      handler = h;
      return () => (handler = undefined);
    },
    stderrIsTTY: false,
    tuning: {
      pollIntervalMs: 20,
      retry: { delaysMs: [10, 20, 40], sleep: (ms) => new Promise((r) => setTimeout(r, ms)) },
      connectAttempts: 100,
      connectRetryDelayS: 0.05,
    },
    newRunId: () => RUN_ID,
    makeApi: (k, retry) => new KubeClusterApi(k, retry),
  };
  const command = createRunCommand(deps);
  return {
    fake,
    cluster,
    dir,
    kubeconfig,
    err,
    out,
    interrupt: () => handler?.(),
    run: (args) =>
      command.run([
        '--kubeconfig',
        kubeconfig,
        '-n',
        NS,
        '--node-report',
        join(dir, 'node-a.json'),
        '--node-report',
        join(dir, 'node-b.json'),
        '--out',
        join(dir, 'report'),
        ...args,
      ]),
    report: async () => JSON.parse(await readFile(join(dir, 'report', 'report.json'), 'utf8')) as BenchReport,
  };
}

/** Nothing of the run is left: no pod in the API, no container process (the kubelet's kill is asynchronous). */
async function expectNothingLeft(h: Harness): Promise<void> {
  expect(h.fake.store.list(POD_RESOURCE, NS)).toEqual([]);
  for (let i = 0; i < 200 && h.cluster.running().length > 0; i++) await new Promise((r) => setTimeout(r, 10));
  expect(h.cluster.running()).toEqual([]);
  expect(h.cluster.errors).toEqual([]);
}

let h: Harness | undefined;
afterEach(async () => {
  await h?.cluster.stop();
  await h?.fake.stop();
  if (h !== undefined) await rm(h.dir, { recursive: true, force: true });
  h = undefined;
});

describe('rdma run against the fake API server', () => {
  beforeEach(() => {
    h = undefined;
  });

  it('success: runs the pair, writes the reports with both sides described, and leaves nothing behind', async () => {
    h = await start();
    await h.cluster.setClientOutput('node-b', 'ib_write_bw', SPARK_BW);
    await h.cluster.setClientOutput('node-b', 'ib_write_lat', SPARK_LAT);
    const code = await h.run([
      '--pairs',
      'node-a:node-b',
      '--tests',
      'write-bw,write-lat',
      '--create-namespace',
    ]);
    expect(h.err.join('\n')).not.toMatch(/error/i);
    expect(code).toBe(RUN_EXIT.ok);
    expect(h.out.join('\n')).toContain('2 of 2 passed');

    const report = await h.report();
    expect(report.summary).toEqual({ pairs: 2, pass: 2, fail: 0, noVerdict: 0, error: 0 });
    const [bw, lat] = report.pairs;
    expect(bw?.id).toBe('node-a -> node-b write bw 64 KiB');
    expect(bw?.verdict.reasons[0]).toContain(
      'bandwidth 111.71 Gb/s at 64 KiB is 111.7% of the 100 Gb/s line rate',
    );
    expect(lat?.verdict.reasons[0]).toContain('t_avg 1.47 µs');
    expect(bw?.server).toEqual({
      node: 'node-a',
      rdmaDevice: 'mlx5_2',
      pfPciAddress: '0000:1a:00.0',
      vfPciAddress: '0000:1a:00.1',
      nicNumaNode: 0,
      cpuNumaNode: 0, // the container was pinned to CPU 0, which the node report puts on NUMA node 0
      gpu: null,
      portRate: {
        gbps: 100,
        source: 'node-report',
        detail: 'node report of node-a, PF 0000:1a:00.0 (mlx5_0) port 1',
      },
    });
    expect(bw?.client).toMatchObject({ node: 'node-b', rdmaDevice: 'mlx5_3', vfPciAddress: '0000:1a:00.2' });
    for (const f of ['report.md', 'bandwidth.svg', 'latency.svg'])
      expect((await readFile(join(h.dir, 'report', f), 'utf8')).length).toBeGreaterThan(100);

    // perftest ran with the matrix's options, on the injected device, against the server pod's IP.
    const serverIp = '10.244.0.10'; // the fake cluster gives the first pod it runs .10
    expect(await h.cluster.args('node-b', 'ib_write_bw', 'client')).toEqual([
      `-d mlx5_3 -F -p 18515 -s 65536 --report_gbits ${serverIp}`,
    ]);
    expect(await h.cluster.args('node-a', 'ib_write_lat', 'server')).toEqual(['-d mlx5_2 -F -p 18516 -s 2']);

    // What the runner created validates against the Kubernetes schemas (server fields removed).
    expect(h.cluster.created).toHaveLength(2);
    for (const pod of h.cluster.created) {
      const {
        uid: _u,
        resourceVersion: _r,
        creationTimestamp: _c,
        generation: _g,
        ...metadata
      } = pod.metadata ?? {};
      expect(kubernetesProblems({ ...pod, metadata, status: undefined })).toEqual([]);
      expect(pod.spec?.schedulerName).toBe('rdma-scheduler');
    }
    await expectNothingLeft(h);
    // --create-namespace: the namespace existed already, so it is kept.
    expect(h.fake.store.tryGet(NAMESPACE_RESOURCE, undefined, NS)).toBeDefined();
  });

  it('a failed pod: the report says why, and the pods are gone', async () => {
    // node-b's device plugin injects nothing: the client's script stops before perftest.
    h = await start({
      nodes: [
        NODES[0] as FakeNode,
        { name: 'node-b', rdmaDevice: '', vfPciAddress: '', pfPciAddress: '0000:1a:00.0' },
      ],
    });
    const code = await h.run(['--pairs', 'node-a:node-b']);
    expect(code).toBe(RUN_EXIT.noVerdict);
    const report = await h.report();
    expect(report.summary.error).toBe(2);
    for (const p of report.pairs) {
      expect(p.verdict.status).toBe('error');
      expect(p.failure?.reason).toBe(
        'client pod: the pod has no RDMA device: RDMASCHED_RDMA_DEVICES and PCIDEVICE_RDMASCHED_IO_IB_VF are empty or name no RDMA device',
      );
    }
    await expectNothingLeft(h);
  });

  it('one perftest run fails: that run is an error with its output, the others are judged', async () => {
    h = await start();
    await h.cluster.setClientOutput('node-b', 'ib_write_bw', SPARK_BW);
    await h.cluster.setClientOutput(
      'node-b',
      'ib_write_lat',
      " Couldn't allocate MR\n Failed to create MR\n",
      1,
    );
    const code = await h.run(['--pairs', 'node-a:node-b']);
    expect(code).toBe(RUN_EXIT.noVerdict);
    const report = await h.report();
    expect(report.pairs.map((p) => p.verdict.status)).toEqual(['pass', 'error']);
    // The first attempt may find the server of run 2 not listening yet (it starts when run 1 ends).
    expect(report.pairs[1]?.failure?.reason).toMatch(
      /^ib_write_lat client exited with code 1( after \d+ attempts)?$/,
    );
    expect(report.pairs[1]?.failure?.logTail).toContain("Couldn't allocate MR");
    await expectNothingLeft(h);
  });

  it("a scheduling timeout: Pending with the scheduler's reason, and nothing left behind", async () => {
    const message =
      '0/5 nodes are available: 5 Insufficient rdmasched.io/ib-vf. preemption: 0/5 nodes are available.';
    h = await start({ plan: () => ({ kind: 'unschedulable', message }) });
    const code = await h.run(['--pairs', 'node-a:node-b', '--schedule-timeout', '1']);
    expect(code).toBe(RUN_EXIT.noVerdict);
    const report = await h.report();
    expect(report.pairs).toHaveLength(2);
    for (const p of report.pairs)
      expect(p.failure?.reason).toBe(
        `server pod rdma-bench-${RUN_ID}-p1-server was not scheduled within 1 s: Pending: Unschedulable: ${message}`,
      );
    expect(h.err.join('\n')).toContain(`server pod Pending: Unschedulable: ${message}`);
    await expectNothingLeft(h);
  });

  it('Ctrl-C mid-run: stops, deletes the pods, writes a partial report, exits 130', async () => {
    const fake = { h: undefined as Harness | undefined };
    h = await start({
      plan: (pod) => {
        if (pod.metadata?.name?.endsWith('-client') === true) {
          // The client "runs" forever; Ctrl-C once it is up.
          setTimeout(() => fake.h?.interrupt(), 100);
          return { kind: 'hang' };
        }
        return { kind: 'run' };
      },
    });
    fake.h = h;
    const code = await h.run(['--pairs', 'node-a:node-b,node-b:node-a']);
    expect(code).toBe(RUN_EXIT.interrupted);
    const report = await h.report();
    expect(report.title).toContain('(interrupted)');
    // Only the pair that was running; the second pair never started.
    expect(report.pairs).toHaveLength(2);
    for (const p of report.pairs)
      expect(p.failure?.reason).toBe('interrupted (Ctrl-C) before this run finished');
    expect(h.err.join('\n')).toContain(
      'interrupted: stopping, deleting the pods and writing what was measured',
    );
    await expectNothingLeft(h);
  });

  it('API errors: 500s and a 409 on create are retried, a 500 on a log read too; the run passes', async () => {
    h = await start();
    await h.cluster.setClientOutput('node-b', 'ib_write_bw', SPARK_BW);
    await h.cluster.setClientOutput('node-b', 'ib_write_lat', SPARK_LAT);
    const pods = `/api/v1/namespaces/${NS}/pods`;
    h.fake.injectFault({ method: 'POST', path: pods, status: 500, times: 2 });
    h.fake.injectFault({
      method: 'POST',
      path: pods,
      status: 409,
      message: 'Operation cannot be fulfilled: please retry',
    });
    h.fake.injectFault({ method: 'GET', path: new RegExp(`${pods}/[^/]+/log$`), status: 503, times: 1 });
    h.fake.injectFault({ method: 'DELETE', path: new RegExp(`${pods}/[^/]+$`), status: 500, times: 1 });
    const code = await h.run(['--pairs', 'node-a:node-b']);
    expect(code).toBe(RUN_EXIT.ok);
    const failed = h.fake.requests.filter((r) => r.status >= 400).map((r) => `${r.method} ${r.status}`);
    expect(failed).toEqual(expect.arrayContaining(['POST 500', 'POST 409', 'GET 503', 'DELETE 500']));
    await expectNothingLeft(h);
  });

  it("API errors: a 500 that does not go away fails the pair with the API's words; a 403 stops the run (exit 6)", async () => {
    h = await start();
    const pods = `/api/v1/namespaces/${NS}/pods`;
    h.fake.injectFault({
      method: 'POST',
      path: pods,
      status: 500,
      message: 'etcdserver: request timed out',
      times: 100,
    });
    expect(await h.run(['--pairs', 'node-a:node-b'])).toBe(RUN_EXIT.noVerdict);
    const report = await h.report();
    expect(report.pairs[0]?.failure?.reason).toBe(
      `API error: create pod ${NS}/rdma-bench-${RUN_ID}-p1-server: 500 InternalError: etcdserver: request timed out after 4 attempts (the API server did not answer successfully; check the kubeconfig server and the network)`,
    );
    await expectNothingLeft(h);

    h.fake.clearFaults();
    h.fake.injectFault({
      method: 'POST',
      path: pods,
      status: 403,
      message: 'pods is forbidden: User "jane" cannot create resource "pods"',
      times: 100,
    });
    h.err.length = 0;
    expect(await h.run(['--pairs', 'node-a:node-b'])).toBe(RUN_EXIT.cluster);
    expect(h.err.join('\n')).toContain('RBAC: grant the runner the Role in bench/deploy/runner-rbac.yaml');
    await expectNothingLeft(h);
  });

  it('a missing namespace is a clear error (exit 6), and --create-namespace creates it and removes it after', async () => {
    h = await start();
    await h.cluster.setClientOutput('node-b', 'ib_write_bw', SPARK_BW);
    await h.cluster.setClientOutput('node-b', 'ib_write_lat', SPARK_LAT);
    expect(await h.run(['--pairs', 'node-a:node-b', '-n', 'nowhere'])).toBe(RUN_EXIT.cluster);
    expect(h.err.join('\n')).toContain(
      'namespace "nowhere" does not exist (create it, or pass --create-namespace)',
    );
    expect(await h.run(['--pairs', 'node-a:node-b', '-n', 'fresh', '--create-namespace'])).toBe(RUN_EXIT.ok);
    expect(h.fake.store.tryGet(NAMESPACE_RESOURCE, undefined, 'fresh')).toBeUndefined();
    expect(h.fake.store.list(POD_RESOURCE, undefined)).toEqual([]);
  });

  it('--keep keeps the pods and says how to delete them', async () => {
    h = await start();
    await h.cluster.setClientOutput('node-b', 'ib_write_bw', SPARK_BW);
    await h.cluster.setClientOutput('node-b', 'ib_write_lat', SPARK_LAT);
    expect(await h.run(['--pairs', 'node-a:node-b', '--keep'])).toBe(RUN_EXIT.ok);
    expect(h.fake.store.list(POD_RESOURCE, NS)).toHaveLength(2);
    expect(h.err.join('\n')).toContain(`kubectl delete pods -n ${NS} -l rdmasched.io/bench-run=${RUN_ID}`);
  });
});

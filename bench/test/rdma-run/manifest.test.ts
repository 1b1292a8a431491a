/**
 * The pods `rdma run` creates (and the RBAC it documents) validate against the Kubernetes schemas:
 * the OpenAPI schema with ajv, unknown-field detection through client-node's serializer, and the
 * API server's own name/label/resource rules (see k8s-schema.ts). The validator is shown to catch
 * each kind of mistake, so a pass means something.
 */
import { readFile } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import fc from 'fast-check';
import { parseAllDocuments } from 'yaml';
import { describe, expect, it } from 'vitest';
import type { V1Pod } from '@kubernetes/client-node';
import { DEFAULT_RETRY } from '../../src/rdma-run/cluster-api.js';
import { dryRunManifests } from '../../src/rdma-run/command.js';
import { buildMatrix, type RawMatrix } from '../../src/rdma-run/matrix.js';
import { parseToleration } from '../../src/rdma-run/options.js';
import { pairPod, type ClusterRunOptions } from '../../src/rdma-run/run-cluster.js';
import { planRuns } from '../../src/rdma-run/plan.js';
import { DEFAULT_THRESHOLDS } from '../../src/verdict/thresholds.js';
import { kubernetesProblems } from './k8s-schema.js';

void DEFAULT_RETRY;

function options(values: Record<string, unknown>, extra: Partial<ClusterRunOptions> = {}): ClusterRunOptions {
  const raw: RawMatrix = Object.fromEntries(
    Object.entries(values).map(([k, v]) => [k, { value: v, origin: 'flag' }]),
  );
  const m = buildMatrix(raw);
  if (!m.ok) throw new Error(m.errors.join('\n'));
  return {
    runId: '20261126-101500-ab12',
    namespace: 'team-a',
    createNamespace: false,
    matrix: m.value,
    image: 'docker.io/mellanox/rping-test:latest',
    imagePullPolicy: 'IfNotPresent',
    schedulerName: 'rdma-scheduler',
    annotations: {},
    tolerations: [],
    imagePullSecrets: [],
    timeouts: { scheduleS: 120, startS: 300, cleanupS: 120 },
    pollIntervalMs: 1000,
    connectAttempts: 60,
    connectRetryDelayS: 1,
    thresholds: DEFAULT_THRESHOLDS,
    keep: false,
    outDir: '/tmp/x',
    logLimitBytes: 1 << 20,
    ...extra,
  };
}

function pods(o: ClusterRunOptions): V1Pod[] {
  const runs = planRuns(o.matrix);
  return o.matrix.pairs.flatMap((pair, i) => [
    pairPod(o, runs, 120, i + 1, pair, 'server'),
    pairPod(o, runs, 120, i + 1, pair, 'client', '10.244.1.7'),
  ]);
}

describe('pod manifests', () => {
  it.each([
    ['IB, two nodes', { pairs: 'node-a:node-b' }, {}],
    [
      'RoCE, any placement, several runs',
      {
        pairs: 'any:any,node-c:any',
        linkType: 'roce',
        tests: 'write-bw,read-bw,send-lat',
        qps: '1,8',
        gidIndex: '3',
      },
      {},
    ],
    [
      'GPUDirect with 2 GPUs',
      { pairs: 'gpu-1.example.com:gpu-2.example.com', gpus: '2', useCuda: true, sizes: 'all' },
      {},
    ],
    ['one node', { pairs: 'node-a:node-a', sameNode: true }, {}],
    [
      'with every pod option',
      { pairs: 'node-a:node-b', duration: '10' },
      {
        cpu: '4',
        memory: '8Gi',
        annotations: { 'k8s.v1.cni.cncf.io/networks': 'roce-net' },
        tolerations: [
          parseToleration('nvidia.com/gpu:NoSchedule'),
          parseToleration('dedicated=rdma:NoExecute'),
        ] as never,
        imagePullSecrets: ['regcred'],
        imagePullPolicy: 'Always' as const,
      },
    ],
  ])('%s: valid against the Kubernetes schema and API rules', (_name, values, extra) => {
    const o = options(values, extra);
    for (const pod of pods(o)) expect(kubernetesProblems(pod), pod.metadata?.name).toEqual([]);
  });

  it('the --dry-run output is the same valid manifests, as YAML', () => {
    const o = options({ pairs: 'node-a:node-b,any:any', tests: 'write-bw,write-lat' });
    const docs = parseAllDocuments(dryRunManifests(o)).map((d) => d.toJS() as V1Pod);
    expect(docs).toHaveLength(4);
    for (const pod of docs) {
      // The client's server address is a placeholder in a dry run.
      expect(kubernetesProblems(pod)).toEqual([]);
    }
    expect(docs.map((d) => d.metadata?.name)).toEqual([
      'rdma-bench-20261126-101500-ab12-p1-server',
      'rdma-bench-20261126-101500-ab12-p1-client',
      'rdma-bench-20261126-101500-ab12-p2-server',
      'rdma-bench-20261126-101500-ab12-p2-client',
    ]);
  });

  it('places, labels and equips the pods as the matrix says', () => {
    const [server, client] = pods(options({ pairs: 'node-a:node-b', gpus: '1', linkType: 'roce' }));
    expect(server?.spec?.schedulerName).toBe('rdma-scheduler');
    expect(server?.spec?.nodeName).toBeUndefined();
    expect(
      server?.spec?.affinity?.nodeAffinity?.requiredDuringSchedulingIgnoredDuringExecution?.nodeSelectorTerms,
    ).toEqual([{ matchFields: [{ key: 'metadata.name', operator: 'In', values: ['node-a'] }] }]);
    expect(client?.spec?.affinity?.podAntiAffinity?.requiredDuringSchedulingIgnoredDuringExecution).toEqual([
      {
        labelSelector: {
          matchLabels: {
            'rdmasched.io/bench-pair': '20261126-101500-ab12-p1',
            'rdmasched.io/bench-role': 'server',
          },
        },
        topologyKey: 'kubernetes.io/hostname',
      },
    ]);
    expect(client?.metadata?.labels?.['rdmasched.io/bench-run']).toBe('20261126-101500-ab12');
    const c = client?.spec?.containers[0];
    expect(c?.resources?.limits).toEqual({ 'rdmasched.io/roce-vf': '1', 'nvidia.com/gpu': '1' });
    expect(c?.resources?.requests).toEqual(c?.resources?.limits);
    expect(c?.env).toEqual([
      { name: 'RDMASCHED_BENCH_SERVER', value: '10.244.1.7' },
      { name: 'CUDA_DEVICE_ORDER', value: 'PCI_BUS_ID' },
    ]);
    expect(c?.securityContext?.capabilities?.add).toEqual(['IPC_LOCK']);
    expect(c?.command?.[2]).toContain('PCIDEVICE_RDMASCHED_IO_ROCE_VF');
    expect(client?.spec?.restartPolicy).toBe('Never');
    expect(client?.spec?.activeDeadlineSeconds).toBeGreaterThan(0);

    const [, sameNodeClient] = pods(options({ pairs: 'any:any', sameNode: true }));
    expect(
      sameNodeClient?.spec?.affinity?.podAffinity?.requiredDuringSchedulingIgnoredDuringExecution,
    ).toHaveLength(1);
    expect(sameNodeClient?.spec?.affinity?.podAntiAffinity).toBeUndefined();
    expect(sameNodeClient?.spec?.affinity?.nodeAffinity).toBeUndefined();
  });

  it('property: manifests of any valid matrix validate', () => {
    const node = fc.constantFrom('any', 'node-a', 'n1.rack-2.example.com', 'gpu-node-07');
    fc.assert(
      fc.property(
        fc.array(fc.tuple(node, node), { minLength: 1, maxLength: 3 }),
        fc.subarray(['write-bw', 'read-bw', 'send-bw', 'write-lat', 'read-lat', 'send-lat'], {
          minLength: 1,
        }),
        fc.constantFrom('ib', 'roce'),
        fc.integer({ min: 0, max: 8 }),
        (pairs, tests, linkType, gpus) => {
          const distinct = pairs.map(([s, c]) => (s === c && s !== 'any' ? [s, 'any'] : [s, c]));
          const o = options({
            pairs: distinct.map(([s, c]) => `${s}:${c}`).join(','),
            tests: tests.join(','),
            linkType,
            gpus: String(gpus),
          });
          for (const pod of pods(o)) expect(kubernetesProblems(pod)).toEqual([]);
        },
      ),
      { numRuns: 30 },
    );
  });
});

describe('the validator catches what the API server would refuse', () => {
  const good = () => pods(options({ pairs: 'node-a:node-b' }))[0] as V1Pod & Record<string, never>;
  it.each<[string, (p: V1Pod) => void, RegExp]>([
    [
      'an unknown field',
      (p) => Object.assign(p.spec?.containers[0] ?? {}, { resource: {} }),
      /unknown or mistyped fields: \/spec\/containers\/0\/resource/,
    ],
    [
      'a misspelt field',
      (p) => Object.assign(p.spec ?? {}, { schedulername: 'x' }),
      /unknown or mistyped fields: \/spec\/schedulername/,
    ],
    [
      'a missing container name',
      (p) => delete (p.spec?.containers[0] as { name?: string }).name,
      /schema: .*must have required property '?name/,
    ],
    [
      'a bad quantity',
      (p) => ((p.spec?.containers[0]?.resources?.limits ?? {})['cpu'] = 'lots'),
      /schema: .*quantity/,
    ],
    [
      'a bad label value',
      (p) => ((p.metadata?.labels ?? {})['rdmasched.io/bench-run'] = 'no spaces allowed'),
      /is not a label value/,
    ],
    ['an upper-case name', (p) => ((p.metadata ?? {}).name = 'Bench'), /not a DNS-1123 subdomain/],
    [
      'extended resource requests != limits',
      (p) => ((p.spec?.containers[0]?.resources?.requests ?? {})['rdmasched.io/ib-vf'] = '2'),
      /requests 2 must equal limits 1/,
    ],
    [
      'a fractional VF',
      (p) => {
        const r = p.spec?.containers[0]?.resources;
        if (r?.limits !== undefined && r.requests !== undefined)
          r.limits['rdmasched.io/ib-vf'] = r.requests['rdmasched.io/ib-vf'] = '500m';
      },
      /is not a whole number/,
    ],
  ])('%s', (_name, spoil, message) => {
    const pod = good();
    expect(kubernetesProblems(pod)).toEqual([]);
    spoil(pod);
    expect(kubernetesProblems(pod).join('\n')).toMatch(message);
  });
});

describe('bench/deploy/runner-rbac.yaml', () => {
  it('is valid RBAC and grants exactly what the runner calls', async () => {
    const text = await readFile(
      fileURLToPath(new URL('../../deploy/runner-rbac.yaml', import.meta.url)),
      'utf8',
    );
    const docs = parseAllDocuments(text).map(
      (d) =>
        d.toJS() as {
          kind: string;
          metadata: { name: string };
          rules?: { apiGroups: string[]; resources: string[]; verbs: string[] }[];
        },
    );
    for (const d of docs) expect(kubernetesProblems(d), `${d.kind} ${d.metadata.name}`).toEqual([]);
    const role = docs.find((d) => d.kind === 'Role');
    const grants = new Set(
      role?.rules?.flatMap((r) => r.resources.flatMap((res) => r.verbs.map((v) => `${res}:${v}`))),
    );
    // Every call of KubeClusterApi on namespaced objects, and nothing more.
    expect([...grants].sort()).toEqual([
      'events:list',
      'pods/log:get',
      'pods:create',
      'pods:delete',
      'pods:get',
      'pods:list',
    ]);
    const clusterRole = docs.find((d) => d.kind === 'ClusterRole');
    expect(clusterRole?.rules).toEqual([
      { apiGroups: [''], resources: ['namespaces'], verbs: ['create', 'delete'] },
    ]);
  });
});

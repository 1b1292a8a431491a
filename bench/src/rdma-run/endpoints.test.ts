import type { V1Pod } from '@kubernetes/client-node';
import type { NodeReport, Reservation } from '@rdmasched/contracts';
import { describe, expect, it } from 'vitest';
import { nodeReport } from '../../test/builders.js';
import { sideEndpoint } from './endpoints.js';
import type { NodeReportLookup, NodeReportSource } from './node-reports.js';
import type { PodEnvironment } from './pod-log.js';

/** An in-memory report source that obeys the NodeReportSource contract. */
class MemoryReports implements NodeReportSource {
  readonly description = 'memory';
  constructor(private readonly reports: Record<string, NodeReport>) {}
  get(node: string): Promise<NodeReportLookup> {
    const report = this.reports[node];
    return Promise.resolve(
      report !== undefined ? { ok: true, report } : { ok: false, error: `no report for ${node}` },
    );
  }
}

function pod(opts: { node?: string; reservation?: Partial<Reservation> | string } = {}): V1Pod {
  const reservation: Reservation = {
    podUid: 'uid-1',
    namespace: 'bench',
    podName: 'p',
    tenant: '',
    node: opts.node ?? 'node-a',
    pfs: [{ pfPciAddress: '0000:1a:00.0', linkType: 'ib', count: 1 }],
    gpus: [],
    state: 'bound',
    createdAtMs: 1,
    expiresAtMs: 2,
  };
  const text =
    typeof opts.reservation === 'string'
      ? opts.reservation
      : JSON.stringify({ ...reservation, ...opts.reservation });
  return {
    metadata: { name: 'p', uid: 'uid-1', annotations: { 'rdmasched.io/reservation': text } },
    spec: { nodeName: opts.node ?? 'node-a', containers: [] },
  };
}

const env = (over: Partial<PodEnvironment> = {}): PodEnvironment => ({
  role: 'client',
  rdmaDevice: 'mlx5_3',
  pciAddress: '0000:1a:00.2',
  cpuList: '0-7',
  gpuPciAddress: null,
  ...over,
});

const reports = new MemoryReports({ 'node-a': nodeReport({ rateGbps: 400 }) });
const ib = { linkType: 'ib' as const, useCuda: false };

describe('sideEndpoint', () => {
  it('fills the PF, port rate, NUMA nodes from the node report and the VF from the pod', async () => {
    const { endpoint, notes } = await sideEndpoint(
      { pod: pod(), requestedNode: 'node-a', env: env() },
      reports,
      ib,
    );
    expect(notes).toEqual([]);
    expect(endpoint).toEqual({
      node: 'node-a',
      rdmaDevice: 'mlx5_3',
      pfPciAddress: '0000:1a:00.0',
      vfPciAddress: '0000:1a:00.2',
      nicNumaNode: 0,
      cpuNumaNode: 0,
      gpu: null,
      portRate: {
        gbps: 400,
        source: 'node-report',
        detail: 'node report of node-a, PF 0000:1a:00.0 (mlx5_0) port 1',
      },
    });
  });

  it('with --use-cuda, gives the GPU and its distance class from the report', async () => {
    const { endpoint } = await sideEndpoint(
      { pod: pod(), requestedNode: null, env: env({ gpuPciAddress: '0000:9b:00.0' }) },
      reports,
      { ...ib, useCuda: true },
    );
    expect(endpoint.gpu).toEqual({ pciAddress: '0000:9b:00.0', numaNode: 1, distanceClass: 'SYS' });
  });

  it('without a node report: only what the pod says; the reserved PF is a fact, the rate is unknown', async () => {
    const { endpoint, notes } = await sideEndpoint(
      { pod: pod({ node: 'node-x' }), requestedNode: null, env: env() },
      reports,
      ib,
    );
    expect(endpoint).toMatchObject({
      node: 'node-x',
      pfPciAddress: '0000:1a:00.0',
      portRate: null,
      nicNumaNode: null,
    });
    expect(notes).toEqual(['node-x: no report for node-x']);
  });

  it('a VF the report does not list falls back to the single reserved PF', async () => {
    const { endpoint, notes } = await sideEndpoint(
      { pod: pod(), requestedNode: null, env: env({ pciAddress: '0000:1a:00.7', rdmaDevice: 'mlx5_9' }) },
      reports,
      ib,
    );
    expect(endpoint).toMatchObject({
      pfPciAddress: '0000:1a:00.0',
      vfPciAddress: '0000:1a:00.7',
      rdmaDevice: 'mlx5_9',
    });
    expect(endpoint.portRate?.gbps).toBe(400);
    expect(notes[0]).toContain('reports no PF or VF "0000:1a:00.7"');
  });

  it('ignores a reservation that is malformed or about another pod, and says so', async () => {
    const bad = await sideEndpoint(
      { pod: pod({ reservation: '{nope' }), requestedNode: null, env: null },
      reports,
      ib,
    );
    expect(bad.notes[0]).toBe(
      'pod p: the rdmasched.io/reservation annotation is not a valid reservation; ignored',
    );
    const other = await sideEndpoint(
      { pod: pod({ reservation: { podUid: 'someone-else' } }), requestedNode: null, env: null },
      reports,
      ib,
    );
    expect(other.notes[0]).toContain('the reservation names pod someone-else on node node-a');
    expect(other.endpoint.pfPciAddress).toBeNull();
  });

  it('a pod never scheduled is the requested node and nothing else; --port-rate-gbps overrides the report', async () => {
    const unscheduled = await sideEndpoint(
      { pod: { metadata: { name: 'p' }, spec: { containers: [] } }, requestedNode: 'node-a', env: null },
      reports,
      { ...ib, portRateGbps: 200 },
    );
    expect(unscheduled.endpoint).toMatchObject({
      node: 'node-a',
      pfPciAddress: null,
      portRate: { gbps: 200, source: 'given' },
    });
    const given = await sideEndpoint({ pod: pod(), requestedNode: null, env: env() }, reports, {
      ...ib,
      portRateGbps: 200,
    });
    expect(given.endpoint.portRate).toEqual({ gbps: 200, source: 'given', detail: '--port-rate-gbps 200' });
  });
});

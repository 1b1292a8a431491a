import { describe, expect, it } from 'vitest';
import { nodeReport } from '../../test/builders.js';
import { validateNodeReport } from '@rdmasched/contracts';
import { endpointFromNodeReport } from './endpoint.js';

describe('endpointFromNodeReport', () => {
  it('the builder report is a valid v1 node report', () => {
    expect(validateNodeReport(nodeReport())).toMatchObject({ ok: true });
  });

  it.each([
    ['mlx5_0', null, 'mlx5_0'],
    ['0000:1a:00.0', null, 'mlx5_0'],
    ['mlx5_3', '0000:1a:00.2', 'mlx5_3'],
    ['0000:1a:00.1', '0000:1a:00.1', 'mlx5_2'],
  ])('device %s -> PF 0000:1a:00.0, VF %s', (device, vf, rdma) => {
    const r = endpointFromNodeReport(nodeReport(), { device });
    expect(r).toMatchObject({
      ok: true,
      value: {
        node: 'node-a',
        rdmaDevice: rdma,
        pfPciAddress: '0000:1a:00.0',
        vfPciAddress: vf,
        nicNumaNode: 0,
        gpu: null,
        portRate: { gbps: 400, source: 'node-report' },
      },
    });
  });

  it.each([
    ['0000:1b:00.0', 'PIX', 0],
    ['0000:9b:00.0', 'SYS', 1],
  ])('GPU %s is %s from the NIC', (gpu, distance, numa) => {
    const r = endpointFromNodeReport(nodeReport(), { device: 'mlx5_2', gpuPciAddress: gpu, cpuNumaNode: 1 });
    expect(r).toMatchObject({
      ok: true,
      value: { gpu: { pciAddress: gpu, distanceClass: distance, numaNode: numa }, cpuNumaNode: 1 },
    });
  });

  it('a rate of 0 (unreadable) and NUMA -1 become unknown', () => {
    const r = endpointFromNodeReport(nodeReport({ rateGbps: 0, pfNuma: -1 }), { device: 'mlx5_0' });
    expect(r).toMatchObject({ ok: true, value: { portRate: null, nicNumaNode: null } });
  });

  it('unknown devices and GPUs are errors naming what the report has', () => {
    expect(endpointFromNodeReport(nodeReport(), { device: 'mlx5_9' })).toEqual({
      ok: false,
      error: 'node node-a reports no PF or VF "mlx5_9" (its PFs: mlx5_0)',
    });
    expect(
      endpointFromNodeReport(nodeReport(), { device: 'mlx5_0', gpuPciAddress: '0000:00:00.0' }),
    ).toMatchObject({ ok: false });
  });
});

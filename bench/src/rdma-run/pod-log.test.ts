import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { normaliseGpuBusId, numaNodeOfCpus, parseCpuList, parsePodLog } from './pod-log.js';

const M = '@@rdmasched-bench';

describe('parsePodLog', () => {
  it('cuts the log into one perftest output per run, with exit codes and retries', () => {
    const log = parsePodLog(
      [
        `${M} env role=client device=mlx5_3 pci=0000:1a:00.2 cpus=0-15 gpu=00000000:1B:00.0`,
        `${M} begin test=1 tool=ib_write_bw port=18515`,
        `${M} retry test=1 attempt=1`,
        ' RDMA_Write BW Test',
        ' 65536 5000 0.00 97.10 0.185',
        `${M} end test=1 exit=0 attempts=2`,
        'noise between runs',
        `${M} begin test=2 tool=ib_write_lat port=18516`,
        "Couldn't allocate MR",
        `${M} end test=2 exit=1 attempts=1`,
        `${M} begin test=3 tool=ib_read_lat port=18517`,
        'half a run',
      ].join('\n'),
    );
    expect(log.env).toEqual({
      role: 'client',
      rdmaDevice: 'mlx5_3',
      pciAddress: '0000:1a:00.2',
      cpuList: '0-15',
      gpuPciAddress: '0000:1b:00.0',
    });
    expect(log.error).toBeNull();
    expect(log.done).toBe(false);
    expect(log.runs.get(1)).toEqual({
      index: 1,
      tool: 'ib_write_bw',
      output: ' RDMA_Write BW Test\n 65536 5000 0.00 97.10 0.185',
      exitCode: 0,
      attempts: 2,
      retries: 1,
    });
    expect(log.runs.get(2)?.exitCode).toBe(1);
    expect(log.runs.get(3)).toMatchObject({ exitCode: null, output: 'half a run' });
  });

  it('reads the fatal error line and the end', () => {
    const log = parsePodLog(
      `${M} env role=server device=none pci=none cpus=none gpu=none\n${M} error no-device the pod has no RDMA device: X\n`,
    );
    expect(log.env).toMatchObject({ rdmaDevice: null, pciAddress: null, cpuList: null, gpuPciAddress: null });
    expect(log.error).toEqual({ code: 'no-device', message: 'the pod has no RDMA device: X' });
    expect(parsePodLog(`${M} done exit=0`).done).toBe(true);
  });

  it('drops values that fail their check instead of passing them on', () => {
    const log = parsePodLog(
      `${M} env role=client device=../../etc pci=0000:zz:00.0 cpus=0-3;reboot gpu=bogus`,
    );
    expect(log.env).toMatchObject({ rdmaDevice: null, pciAddress: null, cpuList: null, gpuPciAddress: null });
  });

  it('property: any text parses without throwing, and marker-free text has no runs', () => {
    fc.assert(
      fc.property(fc.string({ maxLength: 400 }), (text) => {
        const log = parsePodLog(text);
        if (!text.includes(M)) {
          expect(log.runs.size).toBe(0);
          expect(log.env).toBeNull();
        }
      }),
    );
  });
});

describe('CPU lists and NUMA nodes', () => {
  const nodes = [
    { id: 0, cpuList: '0-31,64-95' },
    { id: 1, cpuList: '32-63,96-127' },
  ];
  it.each([
    ['0-15', 0],
    ['32,40-41,100', 1],
    ['0-127', null],
    ['31-32', null],
    ['', null],
    ['x', null],
  ])('%s is on NUMA node %s', (cpus, node) => {
    expect(numaNodeOfCpus(cpus, nodes)).toBe(node);
  });

  it('parses kernel CPU lists and refuses malformed ones', () => {
    expect([...(parseCpuList('0-2,8') ?? [])]).toEqual([0, 1, 2, 8]);
    expect(parseCpuList('3-1')).toBeUndefined();
    expect(parseCpuList('0-99999')).toBeUndefined();
  });

  it('normalises GPU bus ids from nvidia-smi', () => {
    expect(normaliseGpuBusId('00000000:9B:00.0')).toBe('0000:9b:00.0');
    expect(normaliseGpuBusId('0000:1b:00.0')).toBe('0000:1b:00.0');
    expect(normaliseGpuBusId('GPU-1234')).toBeNull();
  });
});

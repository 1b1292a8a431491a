import { describe, expect, it } from 'vitest';
import { clientArgs, planTests, serverArgs, type PlanOptions } from './plan.js';

const base: PlanOptions = {
  verbs: ['write'],
  kinds: ['bandwidth', 'latency'],
  ibPort: 1,
  tcpPort: 18515,
  bidirectional: false,
  rdmaCm: false,
};

describe('planTests', () => {
  it('one test per verb and kind, each on its own TCP port, perftest defaults kept', () => {
    const tests = planTests({ ...base, verbs: ['write', 'read'] });
    expect(tests.map((t) => [t.name, t.tool, t.tcpPort, t.args.join(' '), t.messageSizeBytes])).toEqual([
      ['write bw', 'ib_write_bw', 18515, '-i 1 -p 18515 --report_gbits', 65536],
      ['write lat', 'ib_write_lat', 18516, '-i 1 -p 18516', 2],
      ['read bw', 'ib_read_bw', 18517, '-i 1 -p 18517 --report_gbits', 65536],
      ['read lat', 'ib_read_lat', 18518, '-i 1 -p 18518', 2],
    ]);
  });

  it('passes the options to both sides; bandwidth-only flags only to bandwidth tests', () => {
    const [bw, lat] = planTests({
      ...base,
      ibPort: 2,
      bwMessageSizeBytes: 8388608,
      latMessageSizeBytes: 64,
      qps: 4,
      durationS: 30,
      bidirectional: true,
      gidIndex: 3,
      rdmaCm: true,
    });
    expect(serverArgs(bw!, 'mlx5_0')).toEqual([
      '-d',
      'mlx5_0',
      '-i',
      '2',
      '-p',
      '18515',
      '-s',
      '8388608',
      '-D',
      '30',
      '-x',
      '3',
      '-R',
      '--report_gbits',
      '-q',
      '4',
      '-b',
    ]);
    expect(clientArgs(lat!, 'mlx5_1', '10.0.0.2')).toEqual([
      '-d',
      'mlx5_1',
      '-i',
      '2',
      '-p',
      '18516',
      '-s',
      '64',
      '-D',
      '30',
      '-x',
      '3',
      '-R',
      '10.0.0.2',
    ]);
  });
});

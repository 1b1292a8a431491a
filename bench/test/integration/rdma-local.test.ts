/**
 * `rdma local` end to end on a fake host: a sysfs tree in a temp dir and fake perftest scripts on
 * PATH, so the real discovery, process spawning, retry, timeout, abort, parsing, verdict and
 * report code all run. This machine has neither perftest nor RDMA devices, which is tested too.
 */
import { readFile, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { DOMParser, onWarningStopParsing } from '@xmldom/xmldom';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { scanRdmaDevices } from '../../src/rdma-local/devices.js';
import { EXIT } from '../../src/rdma-local/exit-codes.js';
import type { CommandIo } from '../../src/rdma-local/io.js';
import { runLocal, type LocalRunOptions } from '../../src/rdma-local/run-local.js';
import { createLocalCommand } from '../../src/rdma-local/command.js';
import type { BenchReport } from '../../src/report/report.js';
import { DEFAULT_THRESHOLDS } from '../../src/verdict/thresholds.js';
import { fixturePath } from '../helpers.js';
import {
  groupGone,
  installFakePerftest,
  makeSysfs,
  makeTempDir,
  type FakeMode,
  type FakePerftest,
} from './fake-host.js';

const NDR = '400 Gb/sec (4X NDR)';

function captureIo(): CommandIo & { outText: () => string; errText: () => string } {
  const out: string[] = [];
  const err: string[] = [];
  return {
    out: (t) => out.push(t),
    err: (t) => err.push(t),
    outText: () => out.join('\n'),
    errText: () => err.join('\n'),
  };
}

/** perftest output printed the way REPORT_FMT does (--report_gbits). */
function bwOutput(gbps: number): string {
  return [
    '---------------------------------------------------------------------------------------',
    '                    RDMA_Write BW Test',
    ' Dual-port       : OFF\t\tDevice         : mlx5_1',
    ' Number of qps   : 1\t\tTransport type : IB',
    ' Connection type : RC\t\tUsing SRQ      : OFF',
    ' TX depth        : 128',
    ' Mtu             : 4096[B]',
    ' Link type       : IB',
    '---------------------------------------------------------------------------------------',
    ' local address: LID 0x02 QPN 0x0032 PSN 0x5f2841 RKey 0x002440 VAddr 0x007f2e5f64b000',
    ' remote address: LID 0x01 QPN 0x003a PSN 0xc0fd7e RKey 0x002442 VAddr 0x007f443b2f8000',
    '---------------------------------------------------------------------------------------',
    ' #bytes     #iterations    BW peak[Gb/sec]    BW average[Gb/sec]   MsgRate[Mpps]',
    ` 65536      5000             ${(gbps + 0.3).toFixed(2)}            ${gbps.toFixed(2)}\t\t   ${((gbps * 1e9) / 8 / 65536 / 1e6).toFixed(6)}`,
    '---------------------------------------------------------------------------------------',
    '',
  ].join('\n');
}

let dir: string;
let sysRoot: string;
let fake: FakePerftest;
let bwFile: string;

beforeEach(async () => {
  dir = await makeTempDir('rdma-local');
  sysRoot = join(dir, 'sys');
  fake = await installFakePerftest(dir);
  bwFile = join(dir, 'bw.txt');
  await writeFile(bwFile, bwOutput(391.2));
});
afterEach(async () => {
  await rm(dir, { recursive: true, force: true });
});

const twoNics = () =>
  makeSysfs(sysRoot, [
    { name: 'mlx5_0', pci: '0000:1a:00.0', rate: NDR, numa: 0 },
    { name: 'mlx5_1', pci: '0000:1a:00.1', rate: NDR, numa: 0 },
  ]);

function options(over: Partial<LocalRunOptions> = {}): LocalRunOptions {
  return {
    mode: 'pair',
    serverAddress: '127.0.0.1',
    plan: {
      verbs: ['write'],
      kinds: ['bandwidth', 'latency'],
      ibPort: 1,
      tcpPort: 18600,
      bidirectional: false,
      rdmaCm: false,
    },
    sysRoot,
    timeoutS: 20,
    connectAttempts: 5,
    retryDelayMs: 50,
    // Long enough for the fake server to be up on a loaded machine; a client that still comes
    // too early is retried (as it would be with real perftest), so call lists are compared unique.
    serverStartDelayMs: 300,
    serverExitGraceMs: 2000,
    thresholds: DEFAULT_THRESHOLDS,
    outDir: join(dir, 'report'),
    dryRun: false,
    title: 'test run',
    ...over,
  };
}

function deps(env: NodeJS.ProcessEnv, io = captureIo(), signal?: AbortSignal) {
  return {
    env,
    io,
    hostname: 'host-1',
    now: () => new Date('2026-11-26T12:00:00Z'),
    ...(signal !== undefined ? { signal } : {}),
  };
}

const envFor = (mode: FakeMode = 'ok', bw = bwFile) =>
  fake.env({
    mode,
    bwOutput: bw,
    latOutput: fixturePath('ib_write_lat_cx7_dgx_spark_rdmacm_spark-vllm-docker.txt'),
  });

async function allProcessesGone(): Promise<boolean> {
  const calls = await fake.calls();
  if (calls.length === 0) return false;
  for (const c of calls) if (!(await groupGone(c.pid))) return false;
  return true;
}

describe('when perftest or devices are missing', () => {
  it('no perftest on PATH: exit 3, says what is missing and how to install it', async () => {
    await twoNics();
    const io = captureIo();
    const r = await runLocal(options(), deps({ PATH: join(dir, 'empty') }, io));
    expect(r.exitCode).toBe(EXIT.perftestMissing);
    expect(io.errText()).toMatch(
      /perftest is not installed here: ib_write_bw, ib_write_lat not found on PATH/,
    );
    expect(io.errText()).toMatch(/apt-get install perftest/);
    expect(r.report).toBeNull();
  });

  it('this machine as it is: no perftest and no /sys/class/infiniband: exit 3 and both problems named', async () => {
    const io = captureIo();
    const r = await runLocal(
      options({ sysRoot: join(dir, 'no-sys') }),
      deps({ PATH: join(dir, 'empty') }, io),
    );
    expect(r.exitCode).toBe(EXIT.perftestMissing);
    expect(io.errText()).toMatch(/not found on PATH/);
    expect(io.errText()).toMatch(/no RDMA devices: .*class\/infiniband does not exist/);
  });

  it('perftest but no devices: exit 4', async () => {
    const io = captureIo();
    const r = await runLocal(options({ sysRoot: join(dir, 'no-sys') }), deps(envFor(), io));
    expect(r.exitCode).toBe(EXIT.noDevices);
    expect(io.errText()).toMatch(/no RDMA devices/);
  });

  it('devices but no ACTIVE port: exit 4 with the list', async () => {
    await makeSysfs(sysRoot, [{ name: 'mlx5_0', pci: '0000:1a:00.0', rate: NDR, state: '1: DOWN' }]);
    const io = captureIo();
    const r = await runLocal(options(), deps(envFor(), io));
    expect(r.exitCode).toBe(EXIT.noDevices);
    expect(io.errText()).toContain(
      'no RDMA device with an ACTIVE port 1; found: mlx5_0 DOWN InfiniBand 400 Gb/sec (4X NDR) 0000:1a:00.0',
    );
  });

  it('a named device that does not exist: exit 4', async () => {
    await twoNics();
    const io = captureIo();
    const r = await runLocal(options({ serverDevice: 'mlx5_9' }), deps(envFor(), io));
    expect(r.exitCode).toBe(EXIT.noDevices);
    expect(io.errText()).toMatch(/no RDMA device "mlx5_9" for the server; found: mlx5_0 .*; mlx5_1/);
  });
});

describe('device discovery from sysfs', () => {
  it('reads rate, state, link layer, PCI address, PF of a VF and NUMA node', async () => {
    await makeSysfs(sysRoot, [
      { name: 'mlx5_0', pci: '0000:1a:00.0', rate: NDR, numa: 1 },
      { name: 'mlx5_2', pci: '0000:1a:00.2', rate: NDR, physfn: '0000:1a:00.0', linkLayer: 'Ethernet' },
      { name: 'mlx5_3', pci: '0000:1a:00.3', rate: 'garbage' },
    ]);
    const scan = await scanRdmaDevices(sysRoot);
    expect(
      scan.devices.map((d) => [
        d.name,
        d.state,
        d.linkLayer,
        d.rate?.gbps ?? null,
        d.pciAddress,
        d.physfn,
        d.numaNode,
      ]),
    ).toEqual([
      ['mlx5_0', 'ACTIVE', 'InfiniBand', 400, '0000:1a:00.0', null, 1],
      ['mlx5_2', 'ACTIVE', 'Ethernet', 400, '0000:1a:00.2', '0000:1a:00.0', null],
      ['mlx5_3', 'ACTIVE', 'InfiniBand', null, '0000:1a:00.3', null, null],
    ]);
    expect(scan.devices[2]?.rateProblem).toMatch(/"garbage" is not in the kernel's/);
  });
});

describe('a local pair', () => {
  it('runs server and client, parses, judges and writes the report; nothing is left running', async () => {
    await twoNics();
    const io = captureIo();
    const r = await runLocal(options(), deps(envFor(), io));
    expect(io.errText()).toContain('[1/2] write bw');
    expect(r.exitCode).toBe(EXIT.ok);

    const calls = await fake.calls();
    expect(
      [...new Set(calls.map((c) => `${c.tool} ${c.args.join(' ')}`))].map((c) =>
        c.split(/ (.*)/s).slice(0, 2),
      ),
    ).toEqual([
      ['ib_write_bw', '-d mlx5_0 -i 1 -p 18600 --report_gbits'],
      ['ib_write_bw', '-d mlx5_1 -i 1 -p 18600 --report_gbits 127.0.0.1'],
      ['ib_write_lat', '-d mlx5_0 -i 1 -p 18601'],
      ['ib_write_lat', '-d mlx5_1 -i 1 -p 18601 127.0.0.1'],
    ]);
    expect(await allProcessesGone()).toBe(true);

    const report = JSON.parse(await readFile(join(dir, 'report', 'report.json'), 'utf8')) as BenchReport;
    expect(report.summary).toEqual({ pairs: 2, pass: 2, fail: 0, noVerdict: 0, error: 0 });
    const bw = report.pairs[0]!;
    expect(bw.id).toBe('mlx5_0 -> mlx5_1 write bw');
    expect(bw.server).toMatchObject({
      node: 'host-1',
      rdmaDevice: 'mlx5_0',
      pfPciAddress: '0000:1a:00.0',
      nicNumaNode: 0,
      portRate: {
        gbps: 400,
        source: 'sysfs',
        detail: `${sysRoot}/class/infiniband/mlx5_0/ports/1/rate = ${NDR}`,
      },
    });
    expect(bw.verdict.reasons[0]).toBe(
      'bandwidth 391.2 Gb/s at 64 KiB is 97.8% of the 400 Gb/s line rate; meets the 90.0% threshold (360 Gb/s)',
    );
    expect(report.pairs[1]?.verdict.reasons[0]).toBe('write latency t_avg 1.47 µs at 2 B ≤ the 2.5 µs limit');
    const md = await readFile(join(dir, 'report', 'report.md'), 'utf8');
    expect(md).toContain('**2 of 2 pairs passed**');
    for (const svg of ['bandwidth.svg', 'latency.svg'])
      new DOMParser({ onError: onWarningStopParsing }).parseFromString(
        await readFile(join(dir, 'report', svg), 'utf8'),
        'image/svg+xml',
      );
  });

  it('a result below 90% of the sysfs rate fails: exit 1', async () => {
    await makeSysfs(sysRoot, [
      { name: 'mlx5_0', pci: '0000:1a:00.0', rate: '200 Gb/sec (4X HDR)' },
      { name: 'mlx5_1', pci: '0000:1a:00.1', rate: '200 Gb/sec (4X HDR)' },
    ]);
    const spark = fixturePath('ib_write_bw_cx7_dgx_spark_rdmacm_4qp_report_gbits_spark-vllm-docker.txt');
    const r = await runLocal(
      options({ plan: { ...options().plan, kinds: ['bandwidth'] } }),
      deps(envFor('ok', spark)),
    );
    expect(r.exitCode).toBe(EXIT.fail);
    expect(r.report?.pairs[0]?.verdict.reasons[0]).toMatch(
      /111\.71 Gb\/s .* 55\.9% of the 200 Gb\/s line rate/,
    );
  });

  it('one device: server and client share it, and the report says so', async () => {
    await makeSysfs(sysRoot, [{ name: 'mlx5_0', pci: '0000:1a:00.0', rate: NDR }]);
    const io = captureIo();
    const r = await runLocal(
      options({ plan: { ...options().plan, kinds: ['bandwidth'] } }),
      deps(envFor(), io),
    );
    expect(r.exitCode).toBe(EXIT.ok);
    expect(io.errText()).toContain('one device for both sides (mlx5_0)');
    const devicesUsed = (await fake.calls()).map((c) => c.args[1]);
    expect(new Set(devicesUsed)).toEqual(new Set(['mlx5_0']));
    expect(devicesUsed.length).toBeGreaterThanOrEqual(2);
  });

  it('a client that cannot connect at first is retried', async () => {
    await twoNics();
    const io = captureIo();
    const r = await runLocal(
      options({ plan: { ...options().plan, kinds: ['bandwidth'] } }),
      deps(envFor('refuse-first'), io),
    );
    expect(r.exitCode).toBe(EXIT.ok);
    expect(io.errText()).toMatch(/client attempt 1 failed \(exit 1\); retrying/);
    expect((await fake.calls()).filter((c) => c.args.includes('127.0.0.1')).length).toBeGreaterThanOrEqual(2);
    expect(await allProcessesGone()).toBe(true);
  });

  it('a hung client is stopped at the timeout, with its server: exit 5, the reason in the report', async () => {
    await twoNics();
    const r = await runLocal(
      options({ timeoutS: 2, plan: { ...options().plan, kinds: ['bandwidth'] } }),
      deps(envFor('hang-client')),
    );
    expect(r.exitCode).toBe(EXIT.noVerdict);
    expect(r.report?.pairs[0]?.verdict).toMatchObject({
      status: 'error',
      reasons: ['ib_write_bw did not finish within 2 s (stopped)'],
    });
    expect(await allProcessesGone()).toBe(true);
  });

  it('a failing client: exit 5 with the end of its output', async () => {
    await twoNics();
    const r = await runLocal(
      options({ plan: { ...options().plan, kinds: ['bandwidth'] } }),
      deps(envFor('fail-client')),
    );
    expect(r.exitCode).toBe(EXIT.noVerdict);
    const p = r.report?.pairs[0];
    expect(p?.verdict.reasons).toEqual(['ib_write_bw client exited with code 1']);
    expect(p?.failure?.logTail).toContain('Failed to complete run_iter_bw function successfully');
  });

  it('output that does not parse is an error, never a figure', async () => {
    await twoNics();
    const r = await runLocal(
      options({ plan: { ...options().plan, kinds: ['bandwidth'] } }),
      deps(envFor('garbage')),
    );
    expect(r.exitCode).toBe(EXIT.noVerdict);
    expect(r.report?.pairs[0]?.verdict.reasons[0]).toMatch(
      /^ib_write_bw output could not be parsed: .*\[?no test title/i,
    );
    expect(r.report?.pairs[0]?.verdict.measured).toBeNull();
  });

  it('Ctrl-C stops the processes and writes a partial report: exit 130', async () => {
    await twoNics();
    const abort = new AbortController();
    const running = runLocal(options(), deps(envFor('hang-client'), captureIo(), abort.signal));
    // Wait until the client is up, then interrupt.
    for (let i = 0; i < 200 && (await fake.calls()).length < 2; i++)
      await new Promise((r) => setTimeout(r, 25));
    abort.abort();
    const r = await running;
    expect(r.exitCode).toBe(EXIT.interrupted);
    expect(r.report?.title).toBe('test run');
    expect(r.report?.summary.pairs).toBe(0);
    expect(await readFile(join(dir, 'report', 'report.md'), 'utf8')).toContain('No pairs were measured.');
    expect(await allProcessesGone()).toBe(true);
    expect(new Set((await fake.calls()).map((c) => c.tool))).toEqual(new Set(['ib_write_bw']));
  });

  it('--dry-run prints the commands and runs nothing', async () => {
    await twoNics();
    const io = captureIo();
    const r = await runLocal(options({ dryRun: true }), deps(envFor(), io));
    expect(r.exitCode).toBe(EXIT.ok);
    expect(io.outText()).toContain(
      `${fake.binDir}/ib_write_bw -d mlx5_1 -i 1 -p 18600 --report_gbits 127.0.0.1`,
    );
    expect(await fake.calls()).toEqual([]);
  });
});

describe('to a peer host', () => {
  it('--serve on one side and --peer on the other complete the same plan', async () => {
    await twoNics();
    const plan = { ...options().plan, tcpPort: 18700 };
    const serverIo = captureIo();
    const server = runLocal(
      options({ mode: 'server', serverDevice: 'mlx5_0', plan }),
      deps(envFor(), serverIo),
    );
    const client = runLocal(
      options({
        mode: 'client',
        serverAddress: '127.0.0.1',
        clientDevice: 'mlx5_1',
        plan,
        retryDelayMs: 100,
        connectAttempts: 50,
      }),
      deps(envFor()),
    );
    const [s, c] = await Promise.all([server, client]);
    expect(s.exitCode).toBe(EXIT.ok);
    expect(serverIo.outText()).toBe('served 2 of 2 tests; the client side has the results');
    expect(c.exitCode).toBe(EXIT.ok);
    expect(c.report?.pairs.map((p) => [p.id, p.server.node, p.client.rdmaDevice])).toEqual([
      ['127.0.0.1 -> mlx5_1 write bw', '127.0.0.1', 'mlx5_1'],
      ['127.0.0.1 -> mlx5_1 write lat', '127.0.0.1', 'mlx5_1'],
    ]);
    expect(await allProcessesGone()).toBe(true);
  });
});

describe('the rdma local command line', () => {
  function command(env: NodeJS.ProcessEnv) {
    const io = captureIo();
    let interrupt: (() => void) | undefined;
    const cmd = createLocalCommand({
      io,
      env,
      cwd: () => dir,
      hostname: () => 'host-1',
      now: () => new Date('2026-11-26T12:00:00Z'),
      onInterrupt: (h) => {
        interrupt = h;
        return () => (interrupt = undefined);
      },
    });
    return { cmd, io, interrupt: () => interrupt?.() };
  }

  it.each([
    [['--tests', 'write,bogus'], /--tests takes a comma-separated list of write, read, send/],
    [['--kind', ''], /--kind takes/],
    [['--device', '../etc'], /--device "..\/etc" is not an RDMA device name/],
    [['--qps', '0'], /--qps must be a whole number from 1 to 16384/],
    [['--peer=-x', '--serve'], /--peer "-x" is not a host name[\s\S]*exclude each other/],
    [['--min-bw-fraction', '95'], /minBandwidthFraction must be a fraction/],
    [['--nope'], /Unknown option '--nope'/],
  ])('%j is a usage error naming the option: exit 2', async (argv, message) => {
    const { cmd, io } = command(envFor());
    expect(await cmd.run(argv)).toBe(EXIT.usage);
    expect(io.errText()).toMatch(message);
  });

  it('runs end to end and prints the summary; default report folder in the working directory', async () => {
    await twoNics();
    const { cmd, io } = command(envFor());
    const code = await cmd.run(['--sys-root', sysRoot, '--kind', 'bw', '--tcp-port', '18800', '--json']);
    expect(code).toBe(EXIT.ok);
    expect(io.outText()).toContain('1 of 1 passed');
    expect(io.outText()).toContain('"kind": "RdmaBenchReport"');
    expect(io.errText()).toContain(join(dir, 'rdma-local-2026-11-26T12-00-00', 'report.md'));
  });

  it('exits 3 on this machine as it is (no perftest on PATH)', async () => {
    const { cmd, io } = command({ PATH: join(dir, 'empty') });
    expect(await cmd.run(['--sys-root', join(dir, 'none')])).toBe(EXIT.perftestMissing);
    expect(io.errText()).toMatch(/perftest is not installed here/);
  });

  it('Ctrl-C through the command: exit 130', async () => {
    await twoNics();
    const { cmd, interrupt } = command(envFor('hang-client'));
    const running = cmd.run(['--sys-root', sysRoot, '--tcp-port', '18900', '--out', join(dir, 'out')]);
    for (let i = 0; i < 200 && (await fake.calls()).length < 2; i++)
      await new Promise((r) => setTimeout(r, 25));
    interrupt();
    expect(await running).toBe(EXIT.interrupted);
    expect(await allProcessesGone()).toBe(true);
  });
});

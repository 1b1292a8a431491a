/** The `parse` and `rdma` commands as a person runs them (output captured, exit codes checked). */
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import type { Command } from '../src/command.js';
import { COMMANDS } from '../src/commands/index.js';
import { createParseCommand } from '../src/commands/parse.js';
import { createRdmaCommand } from '../src/commands/rdma.js';
import { PERFTEST_ERROR_CODES } from '../src/perftest/errors.js';
import { EXIT } from '../src/rdma-local/exit-codes.js';
import type { CommandIo } from '../src/rdma-local/io.js';
import { fixturePath, readFixture } from './helpers.js';

function capture(): CommandIo & { out_: string[]; err_: string[] } {
  const out_: string[] = [];
  const err_: string[] = [];
  return { out: (t) => out_.push(t), err: (t) => err_.push(t), out_, err_ };
}

function parse(stdin = '') {
  const io = capture();
  return { io, cmd: createParseCommand(io, () => Promise.resolve(stdin)) };
}

const SPARK = fixturePath('ib_write_bw_cx7_dgx_spark_rdmacm_4qp_report_gbits_spark-vllm-docker.txt');

describe('rdmasched-bench parse', () => {
  it('prints the figures and settings of a text output', async () => {
    const { io, cmd } = parse();
    expect(await cmd.run([SPARK])).toBe(EXIT.ok);
    const out = io.out_.join('\n');
    expect(out).toContain('RDMA_Write BW Test · from text output · bandwidth printed in Gb/s (label Gb/sec)');
    expect(out).toContain('device rocep1s0f1 · link IB · transport IB · RC · 4 QPs · MTU 1024 B');
    expect(out).toMatch(/^26 +65536 +20000 +111\.71 +13963750000 +111\.72 +0\.21307 +-$/m);
  });

  it('--json prints the result (and a null verdict)', async () => {
    const { io, cmd } = parse();
    expect(await cmd.run([SPARK, '--json'])).toBe(EXIT.ok);
    const printed = JSON.parse(io.out_.join('\n')) as {
      result: { rows: { average: { gbps: number } }[] };
      verdict: null;
    };
    expect(printed.verdict).toBeNull();
    expect(printed.result.rows[0]?.average.gbps).toBeCloseTo(111.71, 10);
  });

  it('a port rate adds the verdict; a failed verdict exits 1', async () => {
    const { io, cmd } = parse();
    expect(await cmd.run([SPARK, '--port-rate', '200 Gb/sec (4X HDR)'])).toBe(EXIT.fail);
    expect(io.out_.join('\n')).toContain(
      'verdict: FAIL\n  bandwidth 111.71 Gb/s at 64 KiB is 55.9% of the 200 Gb/s line rate; below the 90.0% threshold (180 Gb/s)',
    );
    const again = parse();
    expect(await again.cmd.run([SPARK, '--port-rate-gbps', '115'])).toBe(EXIT.ok);
  });

  it('--judge on a latency output uses the t_avg limits', async () => {
    const { io, cmd } = parse();
    expect(await cmd.run([fixturePath('synth_ib_read_lat.txt'), '--judge', '--max-read-lat-us', '1.5'])).toBe(
      EXIT.fail,
    );
    expect(io.out_.join('\n')).toContain('read latency t_avg 1.93 µs at 2 B exceeds the 1.5 µs limit');
  });

  it('reads standard input with -', async () => {
    const { io, cmd } = parse(readFixture('synth_ib_send_lat_duration.txt'));
    expect(await cmd.run(['-'])).toBe(EXIT.ok);
    expect(io.out_.join('\n')).toContain('Send Latency Test');
  });

  it('--out_json needs a unit: exit 5 naming the two ways; --bw-unit or --text give it', async () => {
    const json = fixturePath('synth_ib_write_bw_mib.json');
    const a = parse();
    expect(await a.cmd.run([json])).toBe(EXIT.noVerdict);
    expect(a.io.err_.join('\n')).toMatch(/carry no unit.*\[JSON_UNIT_REQUIRED\]/);
    const b = parse();
    expect(await b.cmd.run([json, '--bw-unit', 'MiB/s', '--json'])).toBe(EXIT.ok);
    const c = parse();
    expect(await c.cmd.run([json, '--text', fixturePath('synth_ib_write_bw_mib.txt')])).toBe(EXIT.ok);
    expect(c.io.out_.join('\n')).toContain('from --out_json · bandwidth printed in MiB/s');
  });

  it('unparseable output: exit 5 with the line', async () => {
    const { io, cmd } = parse();
    expect(await cmd.run([fixturePath('synth_error_nan_row.txt')])).toBe(EXIT.noVerdict);
    expect(io.err_.join('\n')).toMatch(/synth_error_nan_row\.txt: line 20: .*-nan.* \[BAD_ROW\]/);
  });

  it.each([
    [[], /expected one FILE, got 0/],
    [['a', 'b'], /expected one FILE, got 2/],
    [['x', '--bw-unit', 'furlongs'], /--bw-unit must be MiB\/s or Gb\/s/],
    [['x', '--port-rate', '400'], /--port-rate: port rate "400" is not in the kernel's/],
    [['x', '--port-rate', '400 Gb/sec (4X NDR)', '--port-rate-gbps', '400'], /not both/],
    [['x', '--min-bw-fraction', '0'], /minBandwidthFraction/],
    [['/nonexistent/file'], /cannot read input: ENOENT/],
  ])('%j: exit 2', async (argv, message) => {
    const { io, cmd } = parse();
    expect(await cmd.run(argv)).toBe(EXIT.usage);
    expect(io.err_.join('\n')).toMatch(message);
  });
});

describe('rdmasched-bench rdma', () => {
  const fake: Command = { name: 'local', summary: 'a stand-in', run: (argv) => Promise.resolve(argv.length) };

  it('dispatches to its subcommand', async () => {
    expect(await createRdmaCommand([fake], capture()).run(['local', 'a', 'b'])).toBe(2);
  });

  it('unknown subcommands and no subcommand are usage errors that list the subcommands', async () => {
    const io = capture();
    expect(await createRdmaCommand([fake], io).run(['nope'])).toBe(EXIT.usage);
    expect(await createRdmaCommand([fake], io).run([])).toBe(EXIT.usage);
    expect(io.err_.join('\n')).toMatch(/unknown rdma subcommand "nope"[\s\S]*local +a stand-in/);
  });

  it('both commands are registered', () => {
    expect(COMMANDS.map((c) => c.name)).toEqual(expect.arrayContaining(['parse', 'rdma']));
  });
});

describe('documentation stays in sync', () => {
  const readme = readFileSync(fileURLToPath(new URL('../README.md', import.meta.url)), 'utf8');

  it('the README lists every parser error code', () => {
    for (const code of Object.keys(PERFTEST_ERROR_CODES)) expect(readme).toContain(`| \`${code}\``);
  });

  it('the README lists every exit code', () => {
    for (const code of Object.values(EXIT)) expect(readme).toMatch(new RegExp(`^\\| ${code} +\\|`, 'm'));
  });
});

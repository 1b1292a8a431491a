/**
 * `rdma local`: runs perftest on this host, without Kubernetes, and judges the result with the
 * same parser, verdicts and report as the cluster runner.
 *
 * Modes:
 * - `pair`: server on one local RDMA device, client on another (or the same one when there is only
 *   one), out-of-band exchange over loopback TCP, RDMA traffic through the NIC(s);
 * - `client`: client here, server already running on a peer host (`--peer HOST`), which runs
 *   `rdma local --serve` with the same options;
 * - `server`: servers only, one per planned test, for a peer's `client` run.
 *
 * It says clearly, with a distinct exit code, when perftest or the devices are missing, and it
 * always stops what it started: on success, failure, timeout and abort (Ctrl-C).
 */
import { join } from 'node:path';
import { parsePerftestText } from '../perftest/text-parser.js';
import { buildReport, type BenchReport } from '../report/report.js';
import { writeReport, type ReportFiles } from '../report/write.js';
import { unknownEndpoint, type Endpoint, type PairResult } from '../verdict/pair.js';
import type { Thresholds } from '../verdict/thresholds.js';
import { judgePair } from '../verdict/verdict.js';
import { describeDevice, scanRdmaDevices, type RdmaDevice } from './devices.js';
import { findTools } from './executables.js';
import { EXIT, type ExitCode } from './exit-codes.js';
import type { CommandIo } from './io.js';
import { clientArgs, planTests, serverArgs, type PlanOptions, type PlannedTest } from './plan.js';
import { startProcess, tail, type ManagedProcess, type ProcessResult } from './process.js';

export type LocalMode = 'pair' | 'client' | 'server';

export interface LocalRunOptions {
  readonly mode: LocalMode;
  /** Server address for the client: the peer host in `client` mode, loopback in `pair` mode. */
  readonly serverAddress: string;
  /** `-d` of the server (pair, server modes); default: the first ACTIVE device. */
  readonly serverDevice?: string;
  /** `-d` of the client (pair, client modes); default: the second ACTIVE device, else the first. */
  readonly clientDevice?: string;
  readonly plan: PlanOptions;
  /** Root of sysfs, `/sys` on a real host. */
  readonly sysRoot: string;
  /** Folder holding the perftest tools, when they are not on PATH. */
  readonly perftestDir?: string;
  /** Limit for one test, server start to client end. */
  readonly timeoutS: number;
  /** Client connection attempts (the server may not listen yet). */
  readonly connectAttempts: number;
  readonly retryDelayMs: number;
  /** Pause between starting the server and the first client attempt. */
  readonly serverStartDelayMs: number;
  /** How long the server may take to exit once its client is done. */
  readonly serverExitGraceMs: number;
  readonly thresholds: Thresholds;
  /** Port rate to judge against instead of sysfs (e.g. the peer's, when it is the slower one). */
  readonly portRateGbps?: number;
  readonly outDir: string;
  readonly dryRun: boolean;
  readonly title?: string;
}

export interface LocalRunDeps {
  readonly env: NodeJS.ProcessEnv;
  readonly io: CommandIo;
  readonly signal?: AbortSignal;
  readonly hostname: string;
  readonly now: () => Date;
}

export interface LocalRunOutcome {
  readonly exitCode: ExitCode;
  readonly report: BenchReport | null;
  readonly files: ReportFiles | null;
}

const INSTALL_HINT =
  'Install perftest (Debian/Ubuntu: apt-get install perftest; RHEL/Fedora: dnf install perftest; or build linux-rdma/perftest), or point --perftest-dir at the folder that holds ib_write_bw.';

export async function runLocal(o: LocalRunOptions, deps: LocalRunDeps): Promise<LocalRunOutcome> {
  const { io } = deps;
  const none = (exitCode: ExitCode): LocalRunOutcome => ({ exitCode, report: null, files: null });
  const tests = planTests(o.plan);
  if (tests.length === 0) {
    io.err('nothing to run: choose at least one test (--tests) and kind (--kind)');
    return none(EXIT.usage);
  }

  // 1. perftest and devices, both reported before giving up.
  const tools = await findTools(
    tests.map((t) => t.tool),
    o.perftestDir !== undefined ? { dir: o.perftestDir } : { path: deps.env['PATH'] ?? '' },
  );
  const scan = await scanRdmaDevices(o.sysRoot, { port: o.plan.ibPort });
  const choice = chooseDevices(o, scan.devices);
  const problems: string[] = [];
  if (tools.missing.length > 0)
    problems.push(
      `perftest is not installed here: ${tools.missing.join(', ')} not found ${o.perftestDir !== undefined ? `in ${o.perftestDir}` : `on PATH (searched ${tools.searched.join(':') || 'nothing: PATH is empty'})`}. ${INSTALL_HINT}`,
    );
  if (!scan.classDirExists)
    problems.push(
      `no RDMA devices: ${scan.classDir} does not exist (no RDMA stack loaded, e.g. the mlx5_ib module, or not a Linux host). --sys-root reads another tree.`,
    );
  else if (typeof choice === 'string') problems.push(choice);
  for (const s of scan.skipped) io.err(`skipped device entry ${s}`);
  if (problems.length > 0) {
    for (const p of problems) io.err(p);
    return none(tools.missing.length > 0 ? EXIT.perftestMissing : EXIT.noDevices);
  }
  const devices = choice as DeviceChoice;
  if (devices.server !== null) io.err(`server device: ${describeDevice(devices.server)}`);
  if (devices.client !== null) io.err(`client device: ${describeDevice(devices.client)}`);
  for (const n of devices.notes) io.err(n);

  const command = (t: PlannedTest, side: 'server' | 'client'): { path: string; args: string[] } => ({
    path: tools.found.get(t.tool) ?? t.tool,
    args:
      side === 'server'
        ? serverArgs(t, devices.server?.name ?? '')
        : clientArgs(t, devices.client?.name ?? '', o.serverAddress),
  });

  if (o.dryRun) {
    for (const [i, t] of tests.entries()) {
      io.out(`# ${i + 1}/${tests.length} ${t.name}`);
      if (o.mode !== 'client') io.out(shellLine(command(t, 'server')));
      if (o.mode !== 'server') io.out(shellLine(command(t, 'client')));
    }
    return none(EXIT.ok);
  }

  if (o.mode === 'server') return runServers(o, deps, tests, command);

  // 2. The tests, one after the other.
  const pairs: PairResult[] = [];
  let interrupted = false;
  for (const [i, t] of tests.entries()) {
    if (deps.signal?.aborted === true) {
      interrupted = true;
      break;
    }
    io.err(`[${i + 1}/${tests.length}] ${t.name}: ${shellLine(command(t, 'client'))}`);
    const outcome = await runOneTest(o, deps, t, command);
    if (outcome.aborted) {
      interrupted = true;
      io.err(`      interrupted; stopped ${t.tool}`);
      break;
    }
    const pair = toPair(o, deps, devices, t, outcome);
    pairs.push(pair);
    const v = judgePair(pair, o.thresholds);
    io.err(
      `      ${v.status.toUpperCase()}: ${v.reasons[0] ?? ''} (${(outcome.durationMs / 1000).toFixed(1)} s)`,
    );
  }

  // 3. The report, also a partial one after Ctrl-C.
  const report = buildReport(pairs, {
    title: o.title ?? `rdma local on ${deps.hostname}${interrupted ? ' (interrupted)' : ''}`,
    thresholds: o.thresholds,
    now: deps.now(),
  });
  const files = await writeReport(o.outDir, report);
  io.err(`report: ${files.markdown} (also report.json, bandwidth.svg, latency.svg in ${o.outDir})`);
  const s = report.summary;
  io.out(
    `${s.pass} of ${s.pairs} passed (${s.fail} failed, ${s.noVerdict} without verdict, ${s.error} errors)`,
  );
  const exitCode: ExitCode = interrupted
    ? EXIT.interrupted
    : s.fail > 0
      ? EXIT.fail
      : s.error > 0 || s.noVerdict > 0 || s.pairs === 0
        ? EXIT.noVerdict
        : EXIT.ok;
  return { exitCode, report, files };
}

interface DeviceChoice {
  readonly server: RdmaDevice | null;
  readonly client: RdmaDevice | null;
  readonly notes: readonly string[];
}

/** Picks the devices, or says why it cannot. */
function chooseDevices(o: LocalRunOptions, devices: readonly RdmaDevice[]): DeviceChoice | string {
  const listing = devices.length === 0 ? 'none' : devices.map(describeDevice).join('; ');
  const byName = (name: string) => devices.find((d) => d.name === name);
  const active = devices.filter((d) => d.state === 'ACTIVE');
  const notes: string[] = [];
  const pick = (
    wanted: string | undefined,
    fallback: RdmaDevice | undefined,
    role: string,
  ): RdmaDevice | string => {
    if (wanted !== undefined) {
      const d = byName(wanted);
      if (d === undefined)
        return `no RDMA device ${JSON.stringify(wanted)} for the ${role}; found: ${listing}`;
      if (d.state !== 'ACTIVE')
        notes.push(
          `warning: ${role} device ${d.name} port ${d.port} is ${d.state ?? 'in an unknown state'}, not ACTIVE`,
        );
      return d;
    }
    if (fallback === undefined)
      return devices.length === 0
        ? 'no RDMA devices: the class directory is empty'
        : `no RDMA device with an ACTIVE port ${o.plan.ibPort}; found: ${listing}`;
    return fallback;
  };
  const server = o.mode === 'client' ? null : pick(o.serverDevice, active[0], 'server');
  if (typeof server === 'string') return server;
  let client: RdmaDevice | string | null = null;
  if (o.mode !== 'server') {
    const fallback =
      o.mode === 'pair' ? (active.find((d) => d !== server) ?? server ?? undefined) : active[0];
    client = pick(o.clientDevice ?? (o.mode === 'client' ? o.serverDevice : undefined), fallback, 'client');
    if (typeof client === 'string') return client;
    if (o.mode === 'pair' && server !== null && client.name === server.name)
      notes.push(`one device for both sides (${client.name}): a loopback through its own port`);
  }
  return { server, client, notes };
}

interface TestOutcome {
  readonly client: ProcessResult | null;
  readonly server: ProcessResult | null;
  readonly aborted: boolean;
  readonly attempts: number;
  readonly durationMs: number;
}

const sleep = (ms: number, signal?: AbortSignal) =>
  new Promise<void>((resolve) => {
    const t = setTimeout(resolve, ms);
    signal?.addEventListener(
      'abort',
      () => {
        clearTimeout(t);
        resolve();
      },
      { once: true },
    );
  });

/** Server (pair mode), then client attempts until one connects; always stops both. */
async function runOneTest(
  o: LocalRunOptions,
  deps: LocalRunDeps,
  t: PlannedTest,
  command: (t: PlannedTest, side: 'server' | 'client') => { path: string; args: string[] },
): Promise<TestOutcome> {
  const started = performance.now();
  const deadline = started + o.timeoutS * 1000;
  const left = () => Math.max(1, deadline - performance.now());
  let server: ManagedProcess | null = null;
  let client: ProcessResult | null = null;
  let attempts = 0;
  try {
    if (o.mode === 'pair') {
      const c = command(t, 'server');
      server = startProcess(c.path, c.args, { env: deps.env, timeoutMs: left(), ...signalOpt(deps) });
      await sleep(o.serverStartDelayMs, deps.signal);
    }
    while (attempts < o.connectAttempts && deps.signal?.aborted !== true) {
      attempts++;
      const c = command(t, 'client');
      const p = startProcess(c.path, c.args, { env: deps.env, timeoutMs: left(), ...signalOpt(deps) });
      client = await p.done;
      // Only a client that found no server is tried again; any other end (a result, a failure
      // after connecting, a timeout, an abort) is final.
      const connected =
        client.exitCode === 0 || client.timedOut || client.aborted || !foundNoServer(client.output);
      const serverGone = server !== null && !server.running();
      if (connected || serverGone || performance.now() >= deadline) break;
      if (attempts < o.connectAttempts) {
        deps.io.err(
          `      client attempt ${attempts} failed (exit ${client.exitCode ?? client.signal}); retrying`,
        );
        await sleep(Math.min(o.retryDelayMs, left()), deps.signal);
      }
    }
    let serverResult: ProcessResult | null = null;
    if (server !== null) {
      // Once its client is done the server exits by itself; give it a moment, then stop it.
      const grace = sleep(Math.min(o.serverExitGraceMs, left()), deps.signal).then(() => null);
      serverResult = await Promise.race([server.done, grace]);
      if (serverResult === null) {
        server.stop();
        serverResult = await server.done;
      }
    }
    return {
      client,
      server: serverResult,
      aborted: deps.signal?.aborted === true,
      attempts,
      durationMs: performance.now() - started,
    };
  } finally {
    // Whatever happened above, nothing this test started keeps running.
    if (server?.running() === true) {
      server.stop();
      await server.done;
    }
  }
}

/**
 * perftest's messages when nothing listens at the server address (perftest_communication.c:
 * "Couldn't connect to host:port", then "Unable to open file descriptor for socket connection" /
 * "Unable to init the socket connection"; rdma_cm: address resolution failures).
 */
export function foundNoServer(output: string): boolean {
  return /Couldn't connect to|Unable to (open file descriptor for socket|init the socket)|Connection refused|rdma_resolve_addr|Unable to perform rdma_client/i.test(
    output,
  );
}

function signalOpt(deps: LocalRunDeps): { signal?: AbortSignal } {
  return deps.signal !== undefined ? { signal: deps.signal } : {};
}

function endpointOf(o: LocalRunOptions, deps: LocalRunDeps, d: RdmaDevice | null, node: string): Endpoint {
  if (d === null) return unknownEndpoint(node);
  const given = o.portRateGbps;
  return {
    node,
    rdmaDevice: d.name,
    pfPciAddress: d.physfn ?? d.pciAddress,
    vfPciAddress: d.physfn !== null ? d.pciAddress : null,
    nicNumaNode: d.numaNode,
    cpuNumaNode: null,
    gpu: null,
    portRate:
      given !== undefined
        ? { gbps: given, source: 'given', detail: `--port-rate-gbps ${given}` }
        : d.rate !== null
          ? { gbps: d.rate.gbps, source: 'sysfs', detail: `${d.ratePath} = ${d.rateText ?? ''}` }
          : null,
  };
}

function toPair(
  o: LocalRunOptions,
  deps: LocalRunDeps,
  devices: DeviceChoice,
  t: PlannedTest,
  outcome: TestOutcome,
): PairResult {
  const server =
    o.mode === 'client'
      ? o.portRateGbps !== undefined
        ? unknownEndpoint(o.serverAddress, {
            portRate: { gbps: o.portRateGbps, source: 'given', detail: `--port-rate-gbps ${o.portRateGbps}` },
          })
        : unknownEndpoint(o.serverAddress)
      : endpointOf(o, deps, devices.server, deps.hostname);
  const client = endpointOf(o, deps, devices.client, deps.hostname);
  const test = {
    verb: t.verb,
    kind: t.kind,
    bidirectional: t.kind === 'bandwidth' && o.plan.bidirectional,
    messageSizeBytes: t.messageSizeBytes,
    qps: t.kind === 'bandwidth' ? (o.plan.qps ?? 1) : 1,
    useCuda: false,
  };
  const where = devices.server !== null ? `${devices.server.name} -> ` : `${o.serverAddress} -> `;
  const id = `${where}${devices.client?.name ?? '?'} ${t.name}`;
  const failed = (reason: string, output: string | null): PairResult => ({
    id,
    test,
    server,
    client,
    outcome: { status: 'failed', reason, logTail: output === null ? null : tail(output) },
  });
  const c = outcome.client;
  if (c === null) return failed(`${t.tool} client never ran`, null);
  if (c.spawnError !== null) return failed(`${t.tool} could not be started: ${c.spawnError}`, null);
  if (c.timedOut)
    return failed(
      `${t.tool} did not finish within ${o.timeoutS} s (stopped)`,
      `${c.output}${outcome.server?.output ?? ''}`,
    );
  if (c.exitCode !== 0) {
    const tries = outcome.attempts > 1 ? ` after ${outcome.attempts} attempts` : '';
    return failed(
      `${t.tool} client exited with ${c.exitCode !== null ? `code ${c.exitCode}` : `signal ${c.signal}`}${tries}`,
      c.output,
    );
  }
  const parsed = parsePerftestText(c.output);
  if (!parsed.ok) return failed(`${t.tool} output could not be parsed: ${parsed.error.message}`, c.output);
  if (parsed.value.kind !== t.kind || parsed.value.settings.verb !== t.verb)
    return failed(
      `${t.tool} printed a ${JSON.stringify(parsed.value.settings.testName)} result, not the ${t.name} test it was asked for`,
      c.output,
    );
  return { id, test, server, client, outcome: { status: 'measured', result: parsed.value } };
}

/** `--serve`: one server per planned test, in order, each waiting for the peer's client. */
async function runServers(
  o: LocalRunOptions,
  deps: LocalRunDeps,
  tests: readonly PlannedTest[],
  command: (t: PlannedTest, side: 'server' | 'client') => { path: string; args: string[] },
): Promise<LocalRunOutcome> {
  let failures = 0;
  for (const [i, t] of tests.entries()) {
    if (deps.signal?.aborted === true) return { exitCode: EXIT.interrupted, report: null, files: null };
    const c = command(t, 'server');
    deps.io.err(`[${i + 1}/${tests.length}] serving ${t.name}: ${shellLine(c)} (waiting for the client)`);
    const p = startProcess(c.path, c.args, {
      env: deps.env,
      timeoutMs: o.timeoutS * 1000,
      ...signalOpt(deps),
    });
    const r = await p.done;
    if (r.aborted) return { exitCode: EXIT.interrupted, report: null, files: null };
    if (r.exitCode !== 0) {
      failures++;
      deps.io.err(
        `      server ${r.timedOut ? `timed out after ${o.timeoutS} s` : `exited with ${r.exitCode ?? r.signal}`}:\n${tail(r.output, 8)}`,
      );
    } else deps.io.err('      served');
  }
  deps.io.out(`served ${tests.length - failures} of ${tests.length} tests; the client side has the results`);
  return { exitCode: failures > 0 ? EXIT.noVerdict : EXIT.ok, report: null, files: null };
}

function shellLine(c: { path: string; args: readonly string[] }): string {
  const quote = (s: string) => (/^[\w@%+=:,./-]+$/.test(s) ? s : `'${s.replaceAll("'", "'\\''")}'`);
  return [c.path, ...c.args].map(quote).join(' ');
}

/** Default report folder: `rdma-local-<date>` in the working directory. */
export function defaultOutDir(cwd: string, now: Date): string {
  return join(cwd, `rdma-local-${now.toISOString().replace(/[:.]/g, '-').slice(0, 19)}`);
}

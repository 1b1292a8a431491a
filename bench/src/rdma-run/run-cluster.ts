/**
 * `rdma run`: perftest between pod pairs placed by the rdma-scheduler, through the Kubernetes API.
 *
 * For each pair of the matrix, in order: create the server pod; wait until it is scheduled and
 * running (each phase with its own timeout and the reason it is stuck); create the client pod with
 * the server's IP; wait until the client has run every perftest run; read both logs; describe both
 * sides from the pod, the script's `env` line, the extender's reservation and the node report;
 * judge; delete both pods. Pairs run one after the other, so pairs never compete for a port.
 *
 * Cleanup always runs (success, failure, timeout, API error, Ctrl-C): every pod carrying the run's
 * label is deleted and the runner waits until they are gone, then reports any that are not. Pods
 * also carry `activeDeadlineSeconds`, so they stop by themselves if the runner is killed.
 */
import type { V1Pod } from '@kubernetes/client-node';
import type { BenchReport } from '../report/report.js';
import { buildReport } from '../report/report.js';
import { writeReport, type ReportFiles } from '../report/write.js';
import { EXIT } from '../rdma-local/exit-codes.js';
import type { CommandIo } from '../rdma-local/io.js';
import { tail } from '../rdma-local/process.js';
import type { PairResult } from '../verdict/pair.js';
import type { Thresholds } from '../verdict/thresholds.js';
import { judgePair } from '../verdict/verdict.js';
import { ClusterError, type ClusterApi } from './cluster-api.js';
import { sideEndpoint } from './endpoints.js';
import {
  buildPod,
  CONTAINER_NAME,
  LABELS,
  POD_GRACE_SECONDS,
  type PodTemplateOptions,
  type Role,
} from './manifest.js';
import type { NodePair, TestMatrix } from './matrix.js';
import type { NodeReportSource } from './node-reports.js';
import { pairResults, uniqueIds } from './pair-results.js';
import { perRunTimeoutS, planRuns, type PlannedRun } from './plan.js';
import { parsePodLog, type PodLog } from './pod-log.js';
import {
  latestEvent,
  podState,
  SCHEDULING_EVENT_REASONS,
  START_EVENT_REASONS,
  type PodState,
} from './pod-state.js';
import type { Progress } from './progress.js';
import { buildScript } from './script.js';

/** Exit codes of `rdma run`: those of `rdma local`, plus two of its own. */
export const RUN_EXIT = {
  ...EXIT,
  /** The cluster could not be used: kubeconfig, credentials, RBAC, a missing namespace. Nothing ran. */
  cluster: 6,
  /** Some pods of the run could not be deleted; their names are printed. */
  leftovers: 7,
} as const;
export type RunExitCode = (typeof RUN_EXIT)[keyof typeof RUN_EXIT];

export interface RunTimeouts {
  /** Pod created -> scheduled (bound to a node). */
  readonly scheduleS: number;
  /** Scheduled -> running (image pull, container start, device allocation). */
  readonly startS: number;
  /** One perftest run inside the pod; default from the matrix (see perRunTimeoutS). */
  readonly perRunS?: number;
  /** Deleting the run's pods until they are gone. */
  readonly cleanupS: number;
}

export interface ClusterRunOptions extends PodTemplateOptions {
  readonly runId: string;
  readonly namespace: string;
  /** Create the namespace when missing (and delete it afterwards when this run created it). */
  readonly createNamespace: boolean;
  readonly matrix: TestMatrix;
  readonly timeouts: RunTimeouts;
  readonly pollIntervalMs: number;
  /** Client connection attempts per run, and the pause between them (in the pod). */
  readonly connectAttempts: number;
  readonly connectRetryDelayS: number;
  readonly thresholds: Thresholds;
  readonly portRateGbps?: number;
  /** Keep the pods (for debugging); they still stop by themselves after activeDeadlineSeconds. */
  readonly keep: boolean;
  readonly outDir: string;
  readonly title?: string;
  /** Largest pod log read. */
  readonly logLimitBytes: number;
}

export interface ClusterRunDeps {
  readonly api: ClusterApi;
  readonly reports: NodeReportSource;
  readonly io: CommandIo;
  readonly progress: Progress;
  readonly signal?: AbortSignal;
  readonly now: () => Date;
  /** Monotonic milliseconds, for timeouts. */
  readonly clockMs?: () => number;
}

export interface ClusterRunOutcome {
  readonly exitCode: RunExitCode;
  readonly report: BenchReport | null;
  readonly files: ReportFiles | null;
  /** Pods of the run still present after cleanup (`namespace/name`). */
  readonly leftovers: readonly string[];
}

const sleep = (ms: number, signal?: AbortSignal) =>
  new Promise<void>((resolve) => {
    if (signal?.aborted === true) {
      resolve();
      return;
    }
    const t = setTimeout(done, ms);
    function done() {
      clearTimeout(t);
      signal?.removeEventListener('abort', done);
      resolve();
    }
    signal?.addEventListener('abort', done, { once: true });
  });

type WaitResult =
  | { readonly kind: 'ok'; readonly pod: V1Pod }
  | { readonly kind: 'stopped'; readonly reason: string; readonly pod: V1Pod | null }
  | { readonly kind: 'aborted'; readonly pod: V1Pod | null };

interface PairContext {
  readonly o: ClusterRunOptions;
  readonly d: ClusterRunDeps;
  readonly runs: readonly PlannedRun[];
  readonly perRunS: number;
  readonly clockMs: () => number;
  readonly adopt: { key: string; value: string };
}

const FATAL: ReadonlySet<string> = new Set(['unauthorized', 'forbidden', 'not-found']);

export async function runCluster(o: ClusterRunOptions, d: ClusterRunDeps): Promise<ClusterRunOutcome> {
  const runs = planRuns(o.matrix);
  const ctx: PairContext = {
    o,
    d,
    runs,
    perRunS: perRunTimeoutS(o.matrix, o.timeouts.perRunS),
    clockMs: d.clockMs ?? (() => performance.now()),
    adopt: { key: LABELS.run, value: o.runId },
  };
  const { io, progress } = d;
  const pairs: PairResult[] = [];
  let fatal: ClusterError | null = null;
  let createdNamespace = false;
  let interrupted = false;
  let leftovers: string[] = [];
  io.err(
    `run ${o.runId}: ${o.matrix.pairs.length} pair(s) × ${runs.length} perftest run(s) in namespace ${o.namespace}`,
  );
  progress.start(o.matrix.pairs.length * runs.length);
  try {
    if (o.createNamespace) {
      createdNamespace = (await d.api.createNamespace(o.namespace, { [LABELS.run]: o.runId })) === 'created';
      if (createdNamespace) progress.log(`created namespace ${o.namespace}`);
    }
    for (const [i, pair] of o.matrix.pairs.entries()) {
      if (d.signal?.aborted === true) break;
      const results = await runPair(ctx, pair, i + 1);
      pairs.push(...results.pairs);
      progress.advance(runs.length);
      for (const p of results.pairs) {
        const v = judgePair(p, o.thresholds);
        progress.log(`  ${v.status.toUpperCase()} ${p.id}: ${v.reasons[0] ?? ''}`);
      }
      if (results.interrupted) break;
    }
  } catch (err: unknown) {
    if (!(err instanceof ClusterError) || !FATAL.has(err.code)) throw err;
    fatal = err;
  } finally {
    interrupted = d.signal?.aborted === true;
    progress.phase(o.keep ? 'keeping the pods (--keep)' : 'cleaning up');
    leftovers = await cleanup(ctx, createdNamespace);
    progress.stop();
  }

  if (fatal !== null) io.err(`error: ${fatal.message}`);
  if (o.keep)
    io.err(
      `kept the run's pods (--keep); delete them with: kubectl delete pods -n ${o.namespace} -l ${LABELS.run}=${o.runId}`,
    );
  else if (leftovers.length > 0)
    io.err(
      `could not delete every pod of the run: ${leftovers.join(', ')}; delete them with: kubectl delete pods -n ${o.namespace} -l ${LABELS.run}=${o.runId}`,
    );

  let report: BenchReport | null = null;
  let files: ReportFiles | null = null;
  if (pairs.length > 0 || interrupted) {
    report = buildReport(uniqueIds(pairs), {
      title: o.title ?? `rdma run ${o.runId} in ${o.namespace}${interrupted ? ' (interrupted)' : ''}`,
      thresholds: o.thresholds,
      now: d.now(),
    });
    files = await writeReport(o.outDir, report);
    io.err(`report: ${files.markdown} (also report.json, bandwidth.svg, latency.svg in ${o.outDir})`);
    const s = report.summary;
    io.out(
      `${s.pass} of ${s.pairs} passed (${s.fail} failed, ${s.noVerdict} without verdict, ${s.error} errors)`,
    );
  }
  const s = report?.summary;
  const exitCode: RunExitCode = interrupted
    ? RUN_EXIT.interrupted
    : fatal !== null
      ? RUN_EXIT.cluster
      : leftovers.length > 0 && !o.keep
        ? RUN_EXIT.leftovers
        : s === undefined || s.pairs === 0
          ? RUN_EXIT.noVerdict
          : s.fail > 0
            ? RUN_EXIT.fail
            : s.error > 0 || s.noVerdict > 0
              ? RUN_EXIT.noVerdict
              : RUN_EXIT.ok;
  return { exitCode, report, files, leftovers: o.keep ? [] : leftovers };
}

/** Deletes every pod with the run's label and waits until they are gone. Returns those left. */
async function cleanup(ctx: PairContext, createdNamespace: boolean): Promise<string[]> {
  const { o, d } = ctx;
  if (o.keep) return [];
  const selector = `${LABELS.run}=${o.runId}`;
  const deadline = ctx.clockMs() + o.timeouts.cleanupS * 1000;
  let remaining: string[] = [];
  try {
    for (;;) {
      const pods = await d.api.listPods(o.namespace, selector);
      remaining = pods.map((p) => `${o.namespace}/${p.metadata?.name ?? '?'}`);
      if (pods.length === 0) break;
      for (const p of pods)
        if (p.metadata?.name !== undefined && p.metadata.deletionTimestamp === undefined)
          await d.api.deletePod(o.namespace, p.metadata.name, POD_GRACE_SECONDS);
      if (ctx.clockMs() >= deadline) break;
      await sleep(o.pollIntervalMs);
    }
    if (createdNamespace && remaining.length === 0) {
      await d.api.deleteNamespace(o.namespace);
      d.progress.log(`deleted namespace ${o.namespace}`);
    }
  } catch (err: unknown) {
    d.io.err(`cleanup: ${err instanceof Error ? err.message : String(err)}`);
    if (remaining.length === 0)
      remaining = [`${o.namespace}/(pods with ${selector}: the API did not answer)`];
  }
  return remaining;
}

/** The pod of one side of pair `n` (1-based): manifest, script, deadline. Pure. */
export function pairPod(
  o: ClusterRunOptions,
  runs: readonly PlannedRun[],
  perRunS: number,
  n: number,
  pair: NodePair,
  role: Role,
  serverIp?: string,
): V1Pod {
  return buildPod({
    runId: o.runId,
    namespace: o.namespace,
    pairNumber: n,
    role,
    node: role === 'server' ? pair.server : pair.client,
    sameNode: o.matrix.sameNode,
    linkType: o.matrix.linkType,
    gpus: o.matrix.gpus,
    image: o.image,
    imagePullPolicy: o.imagePullPolicy,
    schedulerName: o.schedulerName,
    script: buildScript({
      role,
      runs,
      linkType: o.matrix.linkType,
      perRunTimeoutS: perRunS,
      connectAttempts: o.connectAttempts,
      connectRetryDelayS: o.connectRetryDelayS,
      reportGpu: o.matrix.gpus > 0,
    }),
    ...(serverIp !== undefined ? { serverIp } : {}),
    // A safety net, not a schedule: the pods stop by themselves if the runner is killed.
    activeDeadlineSeconds:
      o.timeouts.scheduleS + o.timeouts.startS + runs.length * perRunS + 2 * o.timeouts.cleanupS + 120,
    annotations: o.annotations,
    tolerations: o.tolerations,
    imagePullSecrets: o.imagePullSecrets,
    ...(o.cpu !== undefined ? { cpu: o.cpu } : {}),
    ...(o.memory !== undefined ? { memory: o.memory } : {}),
  });
}

interface PairOutcome {
  readonly pairs: PairResult[];
  readonly interrupted: boolean;
}

async function runPair(ctx: PairContext, pair: NodePair, n: number): Promise<PairOutcome> {
  const { o, d } = ctx;
  const total = o.matrix.pairs.length;
  const label = `pair ${n}/${total} ${pair.server ?? 'any'} -> ${pair.client ?? 'any'}`;
  const podFor = (role: Role, serverIp?: string) =>
    pairPod(o, ctx.runs, ctx.perRunS, n, pair, role, serverIp);

  let serverPod: V1Pod | null = null;
  let clientPod: V1Pod | null = null;
  let pairFailure: string | null = null;
  let interrupted = false;
  try {
    d.progress.phase(`${label}: creating the server pod`);
    serverPod = await d.api.createPod(o.namespace, podFor('server'), ctx.adopt);
    const s = await waitFor(ctx, serverPod, 'server', 'running', label, null);
    serverPod = s.pod ?? serverPod;
    if (s.kind === 'aborted') interrupted = true;
    else if (s.kind === 'stopped') pairFailure = s.reason;
    else {
      const ip = podState(s.pod).podIP as string;
      d.progress.phase(`${label}: creating the client pod (server ${podState(s.pod).node ?? '?'} at ${ip})`);
      clientPod = await d.api.createPod(o.namespace, podFor('client', ip), ctx.adopt);
      const c = await waitFor(ctx, clientPod, 'client', 'ended', label, serverPod);
      clientPod = c.pod ?? clientPod;
      if (c.kind === 'aborted') interrupted = true;
      else if (c.kind === 'stopped') pairFailure = c.reason;
    }
  } catch (err: unknown) {
    if (!(err instanceof ClusterError) || FATAL.has(err.code)) throw err;
    pairFailure = `API error: ${err.message}`;
  }

  // Logs, endpoints, results; then the pair's pods go, so the next pair finds the VFs free.
  d.progress.phase(`${label}: reading the logs`);
  const readLog = async (pod: V1Pod | null): Promise<PodLog | null> => {
    const name = pod?.metadata?.name;
    if (pod === null || name === undefined) return null;
    try {
      const latest = await d.api.readPod(o.namespace, name);
      const st = latest !== null ? podState(latest) : null;
      if (st === null || st.stage === 'unscheduled' || st.stage === 'starting') return null;
      return parsePodLog(await d.api.podLog(o.namespace, name, CONTAINER_NAME, o.logLimitBytes));
    } catch (err: unknown) {
      if (err instanceof ClusterError && !FATAL.has(err.code)) {
        d.progress.log(`  ${label}: ${err.message}`);
        return null;
      }
      throw err;
    }
  };
  const [serverLog, clientLog] = [await readLog(serverPod), await readLog(clientPod)];
  if (pairFailure === null && !interrupted && clientLog?.error != null)
    pairFailure = `client pod: ${clientLog.error.message}`;
  const endpointOpts = {
    linkType: o.matrix.linkType,
    useCuda: o.matrix.useCuda,
    ...(o.portRateGbps !== undefined ? { portRateGbps: o.portRateGbps } : {}),
  };
  const server = await sideEndpoint(
    { pod: serverPod, requestedNode: pair.server, env: serverLog?.env ?? null },
    d.reports,
    endpointOpts,
  );
  const client = await sideEndpoint(
    { pod: clientPod, requestedNode: pair.client, env: clientLog?.env ?? null },
    d.reports,
    endpointOpts,
  );
  for (const note of new Set([...server.notes, ...client.notes])) d.progress.log(`  note: ${note}`);
  const results = pairResults(
    {
      client: clientLog,
      server: serverLog,
      pairFailure,
      clientEnded: clientPod !== null ? podState(clientPod).ended : null,
      interrupted,
    },
    {
      runs: ctx.runs,
      server: server.endpoint,
      client: client.endpoint,
      perRunTimeoutS: ctx.perRunS,
      connectAttempts: o.connectAttempts,
    },
  );
  if (!o.keep) await deletePair(ctx, [serverPod, clientPod], label);
  return { pairs: results, interrupted };
}

/** Deletes a pair's pods and waits (bounded) until they are gone; cleanup() retries any left. */
async function deletePair(ctx: PairContext, pods: readonly (V1Pod | null)[], label: string): Promise<void> {
  const { o, d } = ctx;
  const names = pods.map((p) => p?.metadata?.name).filter((x): x is string => x !== undefined);
  if (names.length === 0) return;
  d.progress.phase(`${label}: deleting the pods`);
  try {
    for (const name of names) await d.api.deletePod(o.namespace, name, POD_GRACE_SECONDS);
    const deadline = ctx.clockMs() + o.timeouts.cleanupS * 1000;
    let left = names;
    while (left.length > 0 && ctx.clockMs() < deadline) {
      const still: string[] = [];
      for (const name of left) if ((await d.api.readPod(o.namespace, name)) !== null) still.push(name);
      left = still;
      if (left.length > 0) await sleep(o.pollIntervalMs);
    }
  } catch (err: unknown) {
    if (!(err instanceof ClusterError) || FATAL.has(err.code)) throw err;
    d.progress.log(`  ${label}: ${err.message} (cleanup will retry)`);
  }
}

function describeStuck(
  role: Role,
  name: string,
  stage: 'schedule' | 'start' | 'run',
  seconds: number,
): string {
  const what =
    stage === 'schedule' ? 'was not scheduled' : stage === 'start' ? 'did not start' : 'did not finish';
  return `${role} pod ${name} ${what} within ${seconds} s`;
}

/**
 * Polls a pod until it runs (`running`, with an IP) or has ended (`ended`). Stops with a reason
 * when a phase takes longer than its timeout, the pod fails or disappears, or the partner pod (the
 * server, while the client runs) ended in a way that leaves the client nothing to talk to.
 */
async function waitFor(
  ctx: PairContext,
  created: V1Pod,
  role: Role,
  goal: 'running' | 'ended',
  label: string,
  partner: V1Pod | null,
): Promise<WaitResult> {
  const { o, d } = ctx;
  const name = created.metadata?.name ?? '?';
  const t0 = ctx.clockMs();
  let scheduledAt: number | null = null;
  let runningAt: number | null = null;
  let partnerEndedAt: number | null = null;
  let last: V1Pod | null = created;
  const runBudgetMs = (ctx.runs.length * ctx.perRunS + 30) * 1000;
  const events = async (reasons: readonly string[]) => {
    try {
      return latestEvent(await d.api.podEvents(o.namespace, name), reasons);
    } catch (err: unknown) {
      if (err instanceof ClusterError && !FATAL.has(err.code)) return null;
      throw err;
    }
  };
  for (;;) {
    if (d.signal?.aborted === true) return { kind: 'aborted', pod: last };
    const pod = await d.api.readPod(o.namespace, name);
    if (pod === null)
      return {
        kind: 'stopped',
        reason: `${role} pod ${name} disappeared (deleted outside the runner?)`,
        pod: last,
      };
    last = pod;
    const st: PodState = podState(pod);
    const now = ctx.clockMs();
    if (st.stage === 'unscheduled') {
      d.progress.phase(`${label}: ${role} pod Pending: ${st.scheduling ?? 'waiting for the scheduler'}`);
      if (now - t0 > o.timeouts.scheduleS * 1000) {
        const why =
          st.scheduling ??
          (await events(SCHEDULING_EVENT_REASONS)) ??
          'no reason given by the scheduler (is rdma-scheduler running?)';
        return {
          kind: 'stopped',
          reason: `${describeStuck(role, name, 'schedule', o.timeouts.scheduleS)}: Pending: ${why}`,
          pod,
        };
      }
    } else if (
      st.stage === 'starting' ||
      (st.stage === 'running' && goal === 'running' && st.podIP === null)
    ) {
      scheduledAt ??= now;
      d.progress.phase(`${label}: ${role} pod on ${st.node ?? '?'}: ${st.waiting ?? 'starting'}`);
      if (now - scheduledAt > o.timeouts.startS * 1000) {
        const ev = await events(START_EVENT_REASONS);
        const why = [st.waiting, ev].filter((s) => s !== null).join('; ') || 'no reason reported';
        return {
          kind: 'stopped',
          reason: `${describeStuck(role, name, 'start', o.timeouts.startS)} on ${st.node ?? '?'}: ${why}`,
          pod,
        };
      }
    } else if (st.stage === 'running') {
      if (goal === 'running') return { kind: 'ok', pod };
      runningAt ??= now;
      d.progress.phase(`${label}: perftest running (${role} on ${st.node ?? '?'})`);
      if (now - runningAt > runBudgetMs)
        return {
          kind: 'stopped',
          reason: `${describeStuck(role, name, 'run', Math.round(runBudgetMs / 1000))}`,
          pod,
        };
    } else if (st.stage === 'succeeded' || st.stage === 'failed') {
      if (goal === 'ended') return { kind: 'ok', pod };
      const log = await logOf(ctx, name);
      return {
        kind: 'stopped',
        reason: `${role} pod ${name} ended before the test (${st.ended ?? st.stage})${log}`,
        pod,
      };
    }
    // The client talks to the server: a server that failed (or vanished) ends the pair now; one
    // that finished normally gives the client one run's time to finish too.
    if (partner !== null) {
      const pname = partner.metadata?.name ?? '?';
      const p = await d.api.readPod(o.namespace, pname);
      const pst = p !== null ? podState(p) : null;
      if (pst === null)
        return {
          kind: 'stopped',
          reason: `server pod ${pname} disappeared (deleted outside the runner?)`,
          pod,
        };
      if (pst.stage === 'succeeded' || pst.stage === 'failed') {
        partnerEndedAt ??= now;
        const text = await d.api.podLog(o.namespace, pname, CONTAINER_NAME, o.logLimitBytes).catch(() => '');
        const plog = parsePodLog(text);
        if (plog.error !== null || !plog.done)
          return {
            kind: 'stopped',
            reason: `server pod ${pname} ended (${pst.ended ?? pst.stage})${plog.error !== null ? `: ${plog.error.message}` : ' before its last run'}`,
            pod,
          };
        if (now - partnerEndedAt > (ctx.perRunS + 30) * 1000)
          return {
            kind: 'stopped',
            reason: `the server finished but the client did not within ${ctx.perRunS + 30} s`,
            pod,
          };
      }
    }
    await sleep(o.pollIntervalMs, d.signal);
  }
}

/** `: <last log lines>` of an ended pod, for a reason sentence; empty when unreadable. */
async function logOf(ctx: PairContext, name: string): Promise<string> {
  try {
    const text = await ctx.d.api.podLog(ctx.o.namespace, name, CONTAINER_NAME, ctx.o.logLimitBytes);
    const log = parsePodLog(text);
    if (log.error !== null) return `: ${log.error.message}`;
    const t = tail(text, 3).trim();
    return t !== '' ? `; log ends with: ${t.replace(/\n/g, ' | ')}` : '';
  } catch (err: unknown) {
    if (err instanceof ClusterError && !FATAL.has(err.code)) return '';
    throw err;
  }
}

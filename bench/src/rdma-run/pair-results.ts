/**
 * Turns what a pair left behind (the client's and the server's pod logs, or why the pair never
 * ran) into one `PairResult` per planned perftest run. The client measures (perftest's model), so
 * its section of the log is parsed; the server's section is kept beside it when a run failed. A
 * run that produced no figure says why, in a sentence. Pure.
 */
import { parsePerftestText } from '../perftest/text-parser.js';
import { tail } from '../rdma-local/process.js';
import type { Endpoint, PairResult } from '../verdict/pair.js';
import type { PlannedRun } from './plan.js';
import type { PodLog, RunSection } from './pod-log.js';

export interface PairLogs {
  readonly client: PodLog | null;
  readonly server: PodLog | null;
  /** Why the pair stopped early (scheduling timeout, a pod failed, interrupted); null when it ran to the end. */
  readonly pairFailure: string | null;
  /** How the client pod ended, for runs it never reached (`exit code 3, Error`). */
  readonly clientEnded: string | null;
  readonly interrupted: boolean;
}

export interface PairResultOptions {
  readonly runs: readonly PlannedRun[];
  readonly server: Endpoint;
  readonly client: Endpoint;
  readonly perRunTimeoutS: number;
  readonly connectAttempts: number;
}

function sectionTail(label: string, s: RunSection | undefined): string | null {
  if (s === undefined || s.output.trim() === '') return null;
  return `${label}:\n${tail(s.output, 15)}`;
}

function logTail(run: PlannedRun, logs: PairLogs): string | null {
  const parts = [
    sectionTail('client', logs.client?.runs.get(run.index)),
    sectionTail('server', logs.server?.runs.get(run.index)),
  ].filter((s): s is string => s !== null);
  return parts.length > 0 ? parts.join('\n\n') : null;
}

function failedReason(run: PlannedRun, s: RunSection, o: PairResultOptions): string {
  if (s.exitCode === null) return `${run.tool} did not finish: the client pod stopped during the run`;
  if (s.exitCode === 124)
    return `${run.tool} did not finish within ${o.perRunTimeoutS} s (stopped by timeout in the pod)`;
  const tries = s.attempts !== null && s.attempts > 1 ? ` after ${s.attempts} attempts` : '';
  const noServer =
    s.attempts !== null && s.attempts >= o.connectAttempts
      ? "; no server answered at the server pod's address"
      : '';
  return `${run.tool} client exited with code ${s.exitCode}${tries}${noServer}`;
}

export function pairResults(logs: PairLogs, o: PairResultOptions): PairResult[] {
  const id = (run: PlannedRun) => `${o.server.node} -> ${o.client.node} ${run.label}`;
  return o.runs.map((run): PairResult => {
    const base = { id: id(run), test: run.test, server: o.server, client: o.client };
    const failed = (reason: string): PairResult => ({
      ...base,
      outcome: { status: 'failed', reason, logTail: logTail(run, logs) },
    });
    const section = logs.client?.runs.get(run.index);
    if (section === undefined || section.exitCode === null) {
      // Never reached, or cut off: say why the pair stopped.
      if (logs.interrupted) return failed('interrupted (Ctrl-C) before this run finished');
      if (logs.pairFailure !== null) return failed(logs.pairFailure);
      if (logs.client?.error != null) return failed(`client pod: ${logs.client.error.message}`);
      if (section !== undefined) return failed(failedReason(run, section, o));
      return failed(
        `not run: the client pod ended${logs.clientEnded !== null ? ` (${logs.clientEnded})` : ''} before run ${run.index} started`,
      );
    }
    if (section.exitCode !== 0) return failed(failedReason(run, section, o));
    const parsed = parsePerftestText(section.output);
    if (!parsed.ok) return failed(`${run.tool} output could not be parsed: ${parsed.error.message}`);
    const r = parsed.value;
    if (r.kind !== run.kind || r.settings.verb !== run.verb)
      return failed(
        `${run.tool} printed a ${JSON.stringify(r.settings.testName)} result, not the ${run.label} run it was asked for`,
      );
    return { ...base, outcome: { status: 'measured', result: r } };
  });
}

/** Makes pair ids unique within a report (two `any:any` pairs can land on the same nodes). */
export function uniqueIds(pairs: readonly PairResult[]): PairResult[] {
  const seen = new Map<string, number>();
  return pairs.map((p) => {
    const n = (seen.get(p.id) ?? 0) + 1;
    seen.set(p.id, n);
    return n === 1 ? p : { ...p, id: `${p.id} #${n}` };
  });
}

/**
 * The agent's durable notes (`RedisKeys.agentState`): the resize in flight, written before every
 * host write, and the most recent answers, so a restarted agent finishes what it started and
 * answers a repeated request id with its first answer (docs/adr/0003 §5).
 */
import { Type, type Static } from '@sinclair/typebox';
import { TypeCompiler } from '@sinclair/typebox/compiler';
import { PCI_ADDRESS_PATTERN, ProvisionResultSchema, type ProvisionResult } from '@rdmasched/contracts';

export const RESIZE_STEPS = ['claimed', 'disabled', 'enabled'] as const;
export type ResizeStep = (typeof RESIZE_STEPS)[number];

export const ResizeOpSchema = Type.Object({
  kind: Type.Literal('resize'),
  pf: Type.String({ pattern: PCI_ADDRESS_PATTERN }),
  /** Claim owner: `agent` or the pod UID whose reservation asked. */
  owner: Type.String({ minLength: 1, maxLength: 128 }),
  fromVfs: Type.Integer({ minimum: 0, maximum: 65535 }),
  targetVfs: Type.Integer({ minimum: 0, maximum: 65535 }),
  /** claimed: nothing written yet; disabled: `0` written; enabled: target written, configuring VFs. */
  step: Type.Union(RESIZE_STEPS.map((s) => Type.Literal(s))),
  requestId: Type.Union([Type.String({ maxLength: 64 }), Type.Null()]),
  /** minReadyVfs of the request, to answer it after a restart. */
  minReadyVfs: Type.Integer({ minimum: 0, maximum: 65535 }),
  startedAtMs: Type.Integer({ minimum: 0 }),
});
export type ResizeOp = Static<typeof ResizeOpSchema>;

export const AgentStateSchema = Type.Object({
  version: Type.Literal(1),
  op: Type.Union([ResizeOpSchema, Type.Null()]),
  /** Most recent answers, newest last, at most RECENT_RESULTS. */
  results: Type.Array(ProvisionResultSchema, { maxItems: 1024 }),
});
export type AgentState = Static<typeof AgentStateSchema>;

export const RECENT_RESULTS = 256;

export const emptyAgentState = (): AgentState => ({ version: 1, op: null, results: [] });

const check = TypeCompiler.Compile(AgentStateSchema);

export type ParsedAgentState = { ok: true; state: AgentState } | { ok: false; reason: string };

/** Parses stored notes; malformed notes are reported (the caller recovers from the host and claims). */
export function parseAgentState(json: string): ParsedAgentState {
  let v: unknown;
  try {
    v = JSON.parse(json);
  } catch {
    return { ok: false, reason: 'not valid JSON' };
  }
  if (check.Check(v)) return { ok: true, state: v };
  const first = check.Errors(v).First();
  return { ok: false, reason: first ? `${first.path || '/'}: ${first.message}` : 'invalid' };
}

/** Adds an answer, keeping the newest RECENT_RESULTS and one per request id. */
export function rememberResult(state: AgentState, result: ProvisionResult): AgentState {
  const results = state.results.filter((r) => r.id !== result.id);
  results.push(result);
  return { ...state, results: results.slice(-RECENT_RESULTS) };
}

export function findResult(state: AgentState, id: string): ProvisionResult | undefined {
  return state.results.find((r) => r.id === id);
}

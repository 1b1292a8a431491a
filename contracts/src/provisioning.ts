/**
 * On-demand VF provisioning: the extender asks a node's agent for ready VFs on one PF and waits
 * (bounded) for the answer. Requests travel on the node's `provision:requests` stream, answers on
 * its `provision:results` stream (redis-keys.ts). The agent treats every field as untrusted: an
 * unknown PF, an absurd count or a malformed address is answered with `rejected` and no write.
 *
 * Requests are idempotent: the same `id` is answered once, and asking for `minReadyVfs` on a PF
 * that already has that many ready VFs is answered `ready` without touching the host.
 */
import { Type, type Static } from '@sinclair/typebox';
import { TypeCompiler } from '@sinclair/typebox/compiler';
import { NODE_NAME_PATTERN, PCI_ADDRESS_PATTERN } from './pci.js';

export const ProvisionRequestSchema = Type.Object({
  /** Unique request id (UUID); answers carry it back. */
  id: Type.String({ pattern: '^[A-Za-z0-9-]{1,64}$' }),
  node: Type.String({ pattern: NODE_NAME_PATTERN, maxLength: 253 }),
  pfPciAddress: Type.String({ pattern: PCI_ADDRESS_PATTERN }),
  /** The PF should end up with at least this many configured (ready) VFs in total. */
  minReadyVfs: Type.Integer({ minimum: 1, maximum: 4096 }),
  /** Why: a reservation being bound, or the warm pool. */
  reason: Type.Union([Type.Literal('reservation'), Type.Literal('warm-pool')]),
  /** Pod the VFs are for, when reason is reservation. */
  podUid: Type.Optional(Type.String({ maxLength: 128 })),
  requestedAtMs: Type.Integer({ minimum: 0 }),
  /** The requester stops waiting at this unix ms; the agent may still finish the work. */
  deadlineMs: Type.Integer({ minimum: 0 }),
});
export type ProvisionRequest = Static<typeof ProvisionRequestSchema>;

export const ProvisionStatusSchema = Type.Union([
  /** The PF has at least minReadyVfs configured VFs. */
  Type.Literal('ready'),
  /** The request was invalid or unsafe; nothing was written. */
  Type.Literal('rejected'),
  /** The host refused or the work failed; the PF was left in a consistent state. */
  Type.Literal('failed'),
]);
export type ProvisionStatus = Static<typeof ProvisionStatusSchema>;

export const ProvisionResultSchema = Type.Object({
  id: Type.String({ maxLength: 64 }),
  node: Type.String({ maxLength: 253 }),
  pfPciAddress: Type.String({ maxLength: 64 }),
  status: ProvisionStatusSchema,
  /** Configured VFs on the PF when the agent answered. */
  readyVfs: Type.Integer({ minimum: 0 }),
  /** Stable machine-readable code (e.g. `PF_BUSY`, `EXCEEDS_TOTALVFS`, `UNKNOWN_PF`) or `OK`. */
  code: Type.String({ maxLength: 64 }),
  /** What happened, for a person. */
  message: Type.String({ maxLength: 1024 }),
  finishedAtMs: Type.Integer({ minimum: 0 }),
});
export type ProvisionResult = Static<typeof ProvisionResultSchema>;

const requestCheck = TypeCompiler.Compile(ProvisionRequestSchema);
const resultCheck = TypeCompiler.Compile(ProvisionResultSchema);

export type ParseOutcome<T> = { ok: true; value: T } | { ok: false; reason: string };

function parseWith<T>(
  check: { Check(v: unknown): v is T; Errors(v: unknown): Iterable<{ path: string; message: string }> },
  json: string,
): ParseOutcome<T> {
  let v: unknown;
  try {
    v = JSON.parse(json);
  } catch {
    return { ok: false, reason: 'not valid JSON' };
  }
  if (check.Check(v)) return { ok: true, value: v };
  for (const e of check.Errors(v)) return { ok: false, reason: `${e.path || '/'}: ${e.message}` };
  return { ok: false, reason: 'invalid' };
}

export const parseProvisionRequest = (json: string): ParseOutcome<ProvisionRequest> =>
  parseWith(requestCheck, json);
export const parseProvisionResult = (json: string): ParseOutcome<ProvisionResult> =>
  parseWith(resultCheck, json);

/**
 * The extender's error catalogue: every error a client or operator can see, with a stable code.
 * HTTP errors answer with `{"error":{"code","message","field"?}}` and the status below; the
 * README's "Errors" table is checked against this list by a test (errors.test.ts).
 *
 * Rejections of a node for a pod are not errors: they are reasons (core/reasons.ts), returned in
 * FailedNodes / FailedAndUnresolvableNodes with HTTP 200.
 */

export const ERRORS = {
  INVALID_JSON: { status: 400, summary: 'The body is empty or not valid JSON.' },
  INVALID_FIELD: {
    status: 400,
    summary:
      'A field is missing or has the wrong type (`Pod`, `NodeNames`, `Nodes`, or a field of the pod); `field` names it.',
  },
  UNSUPPORTED_MEDIA_TYPE: { status: 415, summary: 'The body is not `application/json`.' },
  BODY_TOO_LARGE: {
    status: 413,
    summary: 'The body exceeds the configured limit (`RDMASCHED_BODY_LIMIT_BYTES`).',
  },
  ROUTE_NOT_FOUND: { status: 404, summary: 'No such path or method.' },
  NODE_NOT_FOUND: { status: 404, summary: '`GET /v1/nodes/NAME`: the snapshot has no report for that node.' },
  NOT_READY: {
    status: 503,
    summary:
      '`GET /readyz`: the first load of node reports, of the reservation ledger or of the tenants has not finished.',
  },
  INTERNAL: { status: 500, summary: 'A bug; the message is logged with the request id.' },
  INVALID_CONFIG: {
    status: 0,
    summary:
      'At start-up: one or more settings are invalid; every bad setting is listed, and the process exits with code 2.',
  },
} as const satisfies Record<string, { status: number; summary: string }>;

export type ErrorCode = keyof typeof ERRORS;

export class ExtenderError extends Error {
  readonly status: number;

  constructor(
    readonly code: ErrorCode,
    message: string,
    readonly field?: string,
    options?: ErrorOptions,
  ) {
    super(message, options);
    this.name = 'ExtenderError';
    this.status = ERRORS[code].status;
  }

  toJSON(): { error: { code: ErrorCode; message: string; field?: string } } {
    return {
      error: {
        code: this.code,
        message: this.message,
        ...(this.field === undefined ? {} : { field: this.field }),
      },
    };
  }
}

/** A request field is missing or wrong; the message starts with the field's path. */
export function invalidField(field: string, problem: string): ExtenderError {
  return new ExtenderError('INVALID_FIELD', `${field}: ${problem}`, field);
}

/**
 * Why a bind failed: the `Error` of an ExtenderBindingResult is `CODE: message`, with HTTP 200 (the
 * protocol's way to fail a bind; kube-scheduler puts it in the pod's event and retries the pod).
 * Every failure releases what the bind had reserved. The README's "Bind failures" table is checked
 * against this list by a test.
 */
export const BIND_FAILURES = {
  POD_NOT_FOUND: 'The pod does not exist (deleted before it was bound).',
  POD_UID_MISMATCH: 'A pod of that name exists with another UID (it was recreated).',
  ALREADY_BOUND: 'The pod is already assigned to another node.',
  INVALID_POD_REQUEST: "The pod's VF request or annotations are invalid (as in filter).",
  TENANCY_DENIED: "The pod's tenant may not have these VFs or networks (as in filter).",
  UNKNOWN_NODE: 'No node agent report for the node.',
  STALE_NODE: "The node agent's report is stale (missed heartbeats).",
  NODE_CANNOT_HOST: 'The node cannot host the pod any more (another pod took the VFs since filter).',
  RESERVATION_REFUSED:
    'The ledger script refused the reservation: quota, capacity, a resize claim, a PF being resized or down, or GPUs promised to other pods.',
  PROVISIONING_FAILED: "The node's agent answered the provisioning request rejected or failed.",
  PROVISIONING_TIMEOUT:
    "The node's agent did not make the VFs ready within RDMASCHED_BIND_PROVISION_TIMEOUT_MS.",
  BINDING_CONFLICT:
    'The API refused the Binding with 409 (pod already assigned, being deleted, or recreated).',
  BINDING_FAILED: 'The API could not be asked or refused the Binding otherwise (outage, 5xx).',
  LEDGER_UNAVAILABLE: 'Redis could not be reached.',
  KUBE_API_OFF: 'The extender runs without the Kubernetes API (RDMASCHED_KUBE_API=off): it cannot bind.',
} as const satisfies Record<string, string>;

export type BindFailureCode = keyof typeof BIND_FAILURES;

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
  NOT_READY: { status: 503, summary: '`GET /readyz`: the first load of node reports has not finished.' },
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

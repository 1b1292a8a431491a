/**
 * Kubernetes `Status` failure bodies, as the real apiserver writes them
 * (k8s.io/apimachinery/pkg/api/errors): kind Status, status Failure, reason, code, message,
 * details. Thrown inside the fake apiserver and written by its HTTP layer.
 */

export interface StatusCause {
  readonly reason: string;
  readonly message: string;
  readonly field?: string;
}

export interface StatusDetails {
  readonly name?: string;
  readonly group?: string;
  readonly kind?: string;
  readonly uid?: string;
  readonly causes?: readonly StatusCause[];
  readonly retryAfterSeconds?: number;
}

export class ApiError extends Error {
  constructor(
    readonly code: number,
    readonly reason: string,
    message: string,
    readonly details?: StatusDetails,
  ) {
    super(message);
    this.name = 'ApiError';
  }

  toStatus(): Record<string, unknown> {
    return {
      kind: 'Status',
      apiVersion: 'v1',
      metadata: {},
      status: 'Failure',
      message: this.message,
      reason: this.reason,
      ...(this.details === undefined ? {} : { details: this.details }),
      code: this.code,
    };
  }
}

/** What a resource is called in messages: `pods`, `rdmatenants.rdmasched.io`. */
export interface QualifiedResource {
  readonly plural: string;
  readonly group: string;
}

const qualified = (r: QualifiedResource) => (r.group === '' ? r.plural : `${r.plural}.${r.group}`);
const detailsOf = (r: QualifiedResource, name: string) => ({
  name,
  kind: r.plural,
  ...(r.group === '' ? {} : { group: r.group }),
});

export const notFound = (r: QualifiedResource, name: string) =>
  new ApiError(404, 'NotFound', `${qualified(r)} "${name}" not found`, detailsOf(r, name));

export const alreadyExists = (r: QualifiedResource, name: string) =>
  new ApiError(409, 'AlreadyExists', `${qualified(r)} "${name}" already exists`, detailsOf(r, name));

/** 409 Conflict; `why` defaults to the optimistic-concurrency message. */
export const conflict = (
  r: QualifiedResource,
  name: string,
  why = 'the object has been modified; please apply your changes to the latest version and try again',
) =>
  new ApiError(
    409,
    'Conflict',
    `Operation cannot be fulfilled on ${qualified(r)} "${name}": ${why}`,
    detailsOf(r, name),
  );

export const badRequest = (message: string) => new ApiError(400, 'BadRequest', message);

/** 422 Invalid with one cause per field, e.g. `RdmaTenant.rdmasched.io "a" is invalid: spec.quota.ib: ...`. */
export const invalid = (kind: string, group: string, name: string, causes: readonly StatusCause[]) =>
  new ApiError(
    422,
    'Invalid',
    `${group === '' ? kind : `${kind}.${group}`} "${name}" is invalid: ${causes.map((c) => `${c.field ?? ''}: ${c.message}`).join(', ')}`,
    { name, kind, ...(group === '' ? {} : { group }), causes },
  );

export const gone = (message: string) => new ApiError(410, 'Expired', message);

/**
 * Runtime validators for rdmasched custom resources, built from the CRD manifests themselves:
 * the structural OpenAPI schema (ajv, with the apiserver's defaulting and pruning), list types and
 * the x-kubernetes-validations CEL rules. Errors name the field as a JSON pointer, e.g.
 * `/spec/quota/ib must be >= 0`.
 *
 * Use them wherever a custom resource comes in from outside (the extender's informers, the agent,
 * the fake apiserver, example tests): an object the real apiserver would reject is rejected here
 * with the same field named.
 */
import { Ajv, type ErrorObject, type ValidateFunction } from 'ajv';
import type { CrdSchema, CustomResourceDefinition } from './crd-manifest.js';
import { celViolations } from './cel-rules.js';
import { RDMA_NODE_POLICY_CRD, RDMA_TENANT_CRD } from './generated/manifests.js';
import type { RdmaNodePolicy, RdmaTenant } from './generated/types.js';
import { findUnknownFields, isJsonObject, listTypeViolations } from './schema-walk.js';

/** Kubernetes StatusCause types, as the apiserver reports field errors. */
export type FieldErrorReason =
  | 'FieldValueRequired'
  | 'FieldValueInvalid'
  | 'FieldValueNotSupported'
  | 'FieldValueTypeInvalid'
  | 'FieldValueTooLong'
  | 'FieldValueTooMany'
  | 'FieldValueDuplicate'
  | 'FieldValueForbidden'
  | 'FieldValueUnknown';

export interface FieldError {
  /** JSON pointer of the offending field, e.g. `/spec/quota/ib`. */
  readonly path: string;
  /** What is wrong, without the path, e.g. `must be >= 0`. */
  readonly message: string;
  readonly reason: FieldErrorReason;
}

export type ValidationResult<T> =
  | { readonly ok: true; readonly value: T; readonly warnings: readonly string[] }
  | { readonly ok: false; readonly errors: readonly FieldError[]; readonly message: string };

export interface ValidateOptions {
  /**
   * What to do with fields the schema does not know: `reject` them (like `kubectl --validate=strict`,
   * the default) or `prune` them with a warning (the apiserver's default, fieldValidation=Warn).
   */
  readonly unknownFields?: 'reject' | 'prune';
  /** Require metadata.name (default true; false for a create with generateName). */
  readonly requireName?: boolean;
}

/** `/spec/quota/ib must be >= 0`. */
export function formatFieldError(e: FieldError): string {
  return `${e.path === '' ? '(root)' : e.path} ${e.message}`;
}

const DNS_SUBDOMAIN = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/;
const RFC3339 = /^\d{4}-\d{2}-\d{2}[Tt]\d{2}:\d{2}:\d{2}(\.\d+)?([Zz]|[+-]\d{2}:\d{2})$/;

function newAjv(): Ajv {
  const ajv = new Ajv({ allErrors: true, useDefaults: true, strict: true, verbose: true });
  for (const keyword of [
    'x-kubernetes-validations',
    'x-kubernetes-list-type',
    'x-kubernetes-list-map-keys',
    'x-kubernetes-map-type',
    'x-kubernetes-preserve-unknown-fields',
    'x-kubernetes-int-or-string',
    'x-kubernetes-embedded-resource',
  ]) {
    // Checked by schema-walk.ts and cel-rules.ts, not by ajv.
    ajv.addKeyword({ keyword });
  }
  ajv.addFormat('int32', {
    type: 'number',
    validate: (n) => Number.isInteger(n) && n >= -(2 ** 31) && n < 2 ** 31,
  });
  ajv.addFormat('int64', { type: 'number', validate: (n) => Number.isSafeInteger(n) });
  ajv.addFormat('date-time', (s) => RFC3339.test(s) && !Number.isNaN(Date.parse(s)));
  return ajv;
}

function firstSentence(text: string | undefined): string | undefined {
  if (text === undefined) return undefined;
  const end = text.search(/\.(\s|$)/);
  return end === -1 ? text : text.slice(0, end + 1);
}

function fromAjvError(e: ErrorObject): FieldError {
  const params = e.params as Record<string, unknown>;
  const parent = e.parentSchema as CrdSchema | undefined;
  switch (e.keyword) {
    case 'required':
      return {
        path: `${e.instancePath}/${String(params['missingProperty'])}`,
        message: 'is required',
        reason: 'FieldValueRequired',
      };
    case 'enum':
      return {
        path: e.instancePath,
        message: `must be one of: ${(params['allowedValues'] as unknown[]).map((v) => JSON.stringify(v)).join(', ')}`,
        reason: 'FieldValueNotSupported',
      };
    case 'type':
      return {
        path: e.instancePath,
        message: e.message ?? 'has the wrong type',
        reason: 'FieldValueTypeInvalid',
      };
    case 'pattern': {
      const hint = firstSentence(parent?.description);
      return {
        path: e.instancePath,
        message:
          hint === undefined
            ? (e.message ?? 'does not match its pattern')
            : `is not valid (${JSON.stringify(e.data)}): ${hint}`,
        reason: 'FieldValueInvalid',
      };
    }
    case 'maxLength':
      return { path: e.instancePath, message: e.message ?? 'is too long', reason: 'FieldValueTooLong' };
    case 'maxItems':
    case 'maxProperties':
      return {
        path: e.instancePath,
        message: e.message ?? 'has too many items',
        reason: 'FieldValueTooMany',
      };
    default:
      return {
        path: e.instancePath,
        message: e.message ?? `fails ${e.keyword}`,
        reason: 'FieldValueInvalid',
      };
  }
}

/** A validator for one CRD version; compile once, call per object. Never mutates its input. */
export function createCustomResourceValidator<T>(
  crd: CustomResourceDefinition,
  opts: ValidateOptions = {},
): (input: unknown) => ValidationResult<T> {
  const version = crd.spec.versions.find((v) => v.storage) ?? crd.spec.versions[0];
  if (version === undefined) throw new Error(`CRD ${crd.metadata.name} has no version`);
  const schema = version.schema.openAPIV3Schema;
  const apiVersion = `${crd.spec.group}/${version.name}`;
  const kind = crd.spec.names.kind;
  const nameSchema = schema.properties?.['metadata']?.properties?.['name'];
  // metadata is validated here as the apiserver's ObjectMeta validation does, not by the schema.
  const ajvSchema: CrdSchema = {
    ...schema,
    properties: { ...schema.properties, metadata: { type: 'object' } },
  };
  const check: ValidateFunction = newAjv().compile(ajvSchema);
  const unknownFields = opts.unknownFields ?? 'reject';
  const requireName = opts.requireName ?? true;

  return (input) => {
    if (!isJsonObject(input)) {
      return failed([{ path: '', message: `must be a ${kind} object`, reason: 'FieldValueTypeInvalid' }]);
    }
    const value = structuredClone(input);
    const errors: FieldError[] = [];
    if (value['apiVersion'] !== apiVersion) {
      errors.push({ path: '/apiVersion', message: `must be ${apiVersion}`, reason: 'FieldValueInvalid' });
    }
    if (value['kind'] !== kind)
      errors.push({ path: '/kind', message: `must be ${kind}`, reason: 'FieldValueInvalid' });
    errors.push(
      ...metadataErrors(value['metadata'], {
        requireName,
        nameSchema,
        clusterScoped: crd.spec.scope === 'Cluster',
      }),
    );

    const unknown = findUnknownFields(value, ajvSchema, { remove: unknownFields === 'prune' });
    if (unknownFields === 'reject') {
      for (const path of unknown)
        errors.push({ path, message: 'is not a known field', reason: 'FieldValueUnknown' });
    }
    if (!check(value)) errors.push(...(check.errors ?? []).map(fromAjvError));
    for (const v of listTypeViolations(value, ajvSchema))
      errors.push({ ...v, reason: 'FieldValueDuplicate' });
    // CEL rules assume the structural schema holds (as in the apiserver, where they run on typed values).
    if (errors.length === 0) {
      for (const v of celViolations(value, ajvSchema))
        errors.push({ path: v.path, message: v.message, reason: v.reason });
    }
    if (errors.length > 0) return failed(errors);
    const warnings = unknownFields === 'prune' ? unknown.map((p) => `unknown field "${p}" was dropped`) : [];
    return { ok: true, value: value as T, warnings };
  };
}

function metadataErrors(
  metadata: unknown,
  opts: { requireName: boolean; nameSchema: CrdSchema | undefined; clusterScoped: boolean },
): FieldError[] {
  if (metadata === undefined) {
    return opts.requireName
      ? [{ path: '/metadata/name', message: 'is required', reason: 'FieldValueRequired' }]
      : [];
  }
  if (!isJsonObject(metadata))
    return [{ path: '/metadata', message: 'must be object', reason: 'FieldValueTypeInvalid' }];
  const errors: FieldError[] = [];
  const name = metadata['name'];
  if (name === undefined || name === '') {
    if (opts.requireName)
      errors.push({ path: '/metadata/name', message: 'is required', reason: 'FieldValueRequired' });
  } else if (typeof name !== 'string') {
    errors.push({ path: '/metadata/name', message: 'must be string', reason: 'FieldValueTypeInvalid' });
  } else {
    const maxLength = opts.nameSchema?.maxLength ?? 253;
    const pattern =
      opts.nameSchema?.pattern === undefined ? DNS_SUBDOMAIN : new RegExp(opts.nameSchema.pattern);
    if (name.length > maxLength || !pattern.test(name)) {
      errors.push({
        path: '/metadata/name',
        message: `must be at most ${maxLength} characters of lower-case letters, digits and '-'${opts.nameSchema === undefined ? " or '.'" : ''}, starting and ending with a letter or digit`,
        reason: 'FieldValueInvalid',
      });
    }
  }
  const namespace = metadata['namespace'];
  if (opts.clusterScoped && namespace !== undefined && namespace !== '') {
    errors.push({
      path: '/metadata/namespace',
      message: 'must be empty: the resource is cluster-scoped',
      reason: 'FieldValueForbidden',
    });
  }
  return errors;
}

function failed(errors: FieldError[]): { ok: false; errors: FieldError[]; message: string } {
  return { ok: false, errors, message: errors.map(formatFieldError).join('; ') };
}

const tenantValidators: Partial<
  Record<'reject' | 'prune', (input: unknown) => ValidationResult<RdmaTenant>>
> = {};
const policyValidators: Partial<
  Record<'reject' | 'prune', (input: unknown) => ValidationResult<RdmaNodePolicy>>
> = {};

/**
 * Validates an RdmaTenant and returns it with the CRD's defaults applied (allowedLinkTypes,
 * priority, crossTenantPreemption), as the apiserver would store it.
 */
export function validateRdmaTenant(
  input: unknown,
  opts: Pick<ValidateOptions, 'unknownFields'> = {},
): ValidationResult<RdmaTenant> {
  const mode = opts.unknownFields ?? 'reject';
  const validate = (tenantValidators[mode] ??= createCustomResourceValidator<RdmaTenant>(RDMA_TENANT_CRD, {
    unknownFields: mode,
  }));
  return validate(input);
}

/** Validates an RdmaNodePolicy and returns it with the CRD's defaults applied (priority, warmPool minReady). */
export function validateRdmaNodePolicy(
  input: unknown,
  opts: Pick<ValidateOptions, 'unknownFields'> = {},
): ValidationResult<RdmaNodePolicy> {
  const mode = opts.unknownFields ?? 'reject';
  const validate = (policyValidators[mode] ??= createCustomResourceValidator<RdmaNodePolicy>(
    RDMA_NODE_POLICY_CRD,
    {
      unknownFields: mode,
    },
  ));
  return validate(input);
}

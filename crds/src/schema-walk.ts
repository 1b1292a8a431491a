/**
 * Walks a value along its CRD structural schema, the way the apiserver does for pruning, list
 * types and CEL rules. Paths are JSON pointers (`/spec/quota/ib`), the form errors use.
 */
import type { CrdSchema } from './crd-manifest.js';

export type JsonObject = { [key: string]: unknown };

export function isJsonObject(v: unknown): v is JsonObject {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/** Escapes one JSON pointer segment (RFC 6901). */
export function pointerSegment(key: string | number): string {
  return String(key).replaceAll('~', '~0').replaceAll('/', '~1');
}

export interface SchemaNodeVisit {
  readonly value: unknown;
  readonly schema: CrdSchema;
  readonly path: string;
}

/** Calls `visit` for the root and every value below it that the schema describes, parents first. */
export function walkSchema(
  value: unknown,
  schema: CrdSchema,
  visit: (node: SchemaNodeVisit) => void,
  path = '',
): void {
  visit({ value, schema, path });
  if (Array.isArray(value)) {
    if (schema.items === undefined) return;
    value.forEach((item, i) => walkSchema(item, schema.items as CrdSchema, visit, `${path}/${i}`));
    return;
  }
  if (!isJsonObject(value)) return;
  for (const [key, child] of Object.entries(value)) {
    const childSchema =
      schema.properties?.[key] ??
      (typeof schema.additionalProperties === 'object' ? schema.additionalProperties : undefined);
    if (childSchema !== undefined) walkSchema(child, childSchema, visit, `${path}/${pointerSegment(key)}`);
  }
}

function keepsUnknownFields(schema: CrdSchema): boolean {
  return (
    schema['x-kubernetes-preserve-unknown-fields'] === true ||
    schema.additionalProperties !== undefined ||
    schema.properties === undefined
  );
}

/**
 * Fields the schema does not know, as the apiserver would prune them. With `remove`, deletes them
 * from `value` (which must be a copy the caller owns). Returns their paths.
 */
export function findUnknownFields(value: unknown, schema: CrdSchema, opts: { remove: boolean }): string[] {
  const unknown: string[] = [];
  walkSchema(value, schema, ({ value: node, schema: nodeSchema, path }) => {
    if (!isJsonObject(node) || keepsUnknownFields(nodeSchema)) return;
    for (const key of Object.keys(node)) {
      if (nodeSchema.properties?.[key] !== undefined) continue;
      unknown.push(`${path}/${pointerSegment(key)}`);
      if (opts.remove) delete node[key];
    }
  });
  return unknown;
}

/** Converts a JSON value to what CEL sees: schema integers become int (BigInt), the rest stays. */
export function toCelValue(value: unknown, schema: CrdSchema): unknown {
  if (schema.type === 'integer' && typeof value === 'number' && Number.isInteger(value)) return BigInt(value);
  if (Array.isArray(value)) {
    const items = schema.items;
    return items === undefined ? value : value.map((v) => toCelValue(v, items));
  }
  if (isJsonObject(value)) {
    const out: JsonObject = {};
    for (const [key, child] of Object.entries(value)) {
      const childSchema =
        schema.properties?.[key] ??
        (typeof schema.additionalProperties === 'object' ? schema.additionalProperties : undefined);
      out[key] = childSchema === undefined ? child : toCelValue(child, childSchema);
    }
    return out;
  }
  return value;
}

/** Canonical JSON (sorted keys) for equality of list items. */
export function canonicalJson(value: unknown): string {
  return JSON.stringify(value, (_key, v: unknown) =>
    isJsonObject(v)
      ? Object.fromEntries(Object.entries(v).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)))
      : v,
  );
}

/**
 * x-kubernetes-list-type checks: `set` items must be unique, `map` items unique by their
 * x-kubernetes-list-map-keys. Returns one message per duplicate, keyed by the duplicate's path.
 */
export function listTypeViolations(value: unknown, schema: CrdSchema): { path: string; message: string }[] {
  const out: { path: string; message: string }[] = [];
  walkSchema(value, schema, ({ value: node, schema: nodeSchema, path }) => {
    if (!Array.isArray(node)) return;
    const listType = nodeSchema['x-kubernetes-list-type'];
    if (listType !== 'set' && listType !== 'map') return;
    const mapKeys = nodeSchema['x-kubernetes-list-map-keys'] ?? [];
    const seen = new Map<string, number>();
    node.forEach((item: unknown, i) => {
      const key =
        listType === 'set'
          ? canonicalJson(item)
          : canonicalJson(mapKeys.map((k) => (isJsonObject(item) ? item[k] : undefined)));
      const first = seen.get(key);
      if (first === undefined) {
        seen.set(key, i);
        return;
      }
      const what = listType === 'set' ? key : `${mapKeys.join(', ')} ${key}`;
      out.push({ path: `${path}/${i}`, message: `is a duplicate of item ${first} (${what})` });
    });
  });
  return out;
}

/**
 * The three patch types `@kubernetes/client-node` can send (it defaults to json-patch+json; a
 * `setHeaderOptions('Content-Type', ...)` middleware picks another):
 * - application/json-patch+json (RFC 6902), with fast-json-patch;
 * - application/merge-patch+json (RFC 7386);
 * - application/strategic-merge-patch+json: merge-patch semantics, plus merging by key for the
 *   lists whose patchStrategy is `merge` among those rdmasched touches (see MERGE_KEYS), and the
 *   `$patch: delete` directive on their items. Other directives ($retainKeys,
 *   $setElementOrder, $deleteFromPrimitiveList) are not supported and are rejected.
 * Server-side apply (application/apply-patch+yaml) is not supported: 415.
 */
import jsonpatch from 'fast-json-patch';
import { ApiError, badRequest } from './api-error.js';

type Json = unknown;
type JsonMap = { [key: string]: Json };

const isMap = (v: Json): v is JsonMap => typeof v === 'object' && v !== null && !Array.isArray(v);

/** RFC 7386 JSON merge patch. Returns a new value; does not modify its inputs. */
export function mergePatch(target: Json, patch: Json): Json {
  if (!isMap(patch)) return structuredClone(patch);
  const out: JsonMap = isMap(target) ? { ...target } : {};
  for (const [key, value] of Object.entries(patch)) {
    if (value === null) delete out[key];
    else out[key] = mergePatch(out[key], value);
  }
  return out;
}

/**
 * Lists merged by key under strategic merge patch (patchMergeKey in the Kubernetes API types), by
 * dotted path; '' = a list of primitives merged as a set.
 */
const MERGE_KEYS: Readonly<Record<string, string>> = {
  'metadata.finalizers': '',
  'metadata.ownerReferences': 'uid',
  'spec.containers': 'name',
  'spec.initContainers': 'name',
  'spec.containers.env': 'name',
  'status.conditions': 'type',
  'status.containerStatuses': 'name',
  'status.initContainerStatuses': 'name',
  'status.addresses': 'type',
};

function strategic(target: Json, patch: Json, path: string): Json {
  if (!isMap(patch)) return structuredClone(patch);
  const out: JsonMap = isMap(target) ? { ...target } : {};
  for (const [key, value] of Object.entries(patch)) {
    if (key.startsWith('$')) {
      // $patch, $retainKeys, $setElementOrder/..., $deleteFromPrimitiveList/...
      throw new ApiError(
        422,
        'Invalid',
        `strategic merge patch directive ${key} is not supported by the fake apiserver`,
      );
    }
    const childPath = path === '' ? key : `${path}.${key}`;
    const mergeKey = MERGE_KEYS[childPath.replace(/\.\d+\./g, '.')];
    if (value === null) delete out[key];
    else if (Array.isArray(value) && mergeKey !== undefined)
      out[key] = mergeList(out[key], value, mergeKey, childPath);
    else out[key] = strategic(out[key], value, childPath);
  }
  return out;
}

function mergeList(target: Json, patch: Json[], mergeKey: string, path: string): Json[] {
  const out: Json[] = Array.isArray(target) ? [...(target as Json[])] : [];
  if (mergeKey === '') {
    for (const v of patch) if (!out.some((o) => JSON.stringify(o) === JSON.stringify(v))) out.push(v);
    return out;
  }
  for (const item of patch) {
    if (!isMap(item) || item[mergeKey] === undefined)
      throw badRequest(`${path}: every item needs the merge key ${mergeKey}`);
    const at = out.findIndex((o) => isMap(o) && o[mergeKey] === item[mergeKey]);
    if (item['$patch'] === 'delete') {
      if (at !== -1) out.splice(at, 1);
    } else if (at === -1) {
      out.push(structuredClone(item));
    } else {
      out[at] = strategic(out[at], item, `${path}.0`);
    }
  }
  return out;
}

export const PATCH_TYPES = {
  json: 'application/json-patch+json',
  merge: 'application/merge-patch+json',
  strategic: 'application/strategic-merge-patch+json',
  apply: 'application/apply-patch+yaml',
} as const;

/** Applies a patch body of the given Content-Type to a copy of `target`. */
export function applyPatch(target: Json, contentType: string, patch: Json): Json {
  const type = contentType.split(';')[0]?.trim().toLowerCase();
  switch (type) {
    case PATCH_TYPES.json: {
      if (!Array.isArray(patch)) throw badRequest('a json patch must be an array of operations');
      try {
        return jsonpatch.applyPatch(structuredClone(target), patch as jsonpatch.Operation[], true, false)
          .newDocument;
      } catch (err: unknown) {
        throw new ApiError(
          422,
          'Invalid',
          `the json patch could not be applied: ${err instanceof Error ? err.message.split('\n')[0] : String(err)}`,
        );
      }
    }
    case PATCH_TYPES.merge:
      return mergePatch(target, patch);
    case PATCH_TYPES.strategic:
      return strategic(target, patch, '');
    default:
      throw new ApiError(
        415,
        'UnsupportedMediaType',
        `the body of the request was in an unknown format - accepted media types include: ${PATCH_TYPES.json}, ${PATCH_TYPES.merge}, ${PATCH_TYPES.strategic} (${type ?? ''} is not supported by the fake apiserver)`,
      );
  }
}

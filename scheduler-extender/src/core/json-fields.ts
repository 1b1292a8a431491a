/**
 * Field access with Go `encoding/json` semantics. kube-scheduler's extender types have no JSON
 * tags and Go matches object keys to struct fields case-insensitively (an exact match wins), so
 * `{"pod":...,"nodenames":[...]}` is as valid as `{"Pod":...,"NodeNames":[...]}`. The same holds
 * for the fields of the embedded `v1.Pod`. Map keys (annotation names, resource names) stay
 * case-sensitive, as in Go.
 */

export type JsonObject = Record<string, unknown>;

export function isObject(v: unknown): v is JsonObject {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/** Own property `name` of `obj`, matched exactly first, then case-insensitively. */
export function field(obj: JsonObject, name: string): unknown {
  if (Object.hasOwn(obj, name)) return obj[name];
  const lower = name.toLowerCase();
  for (const key of Object.keys(obj)) {
    if (key.length === name.length && key.toLowerCase() === lower) return obj[key];
  }
  return undefined;
}

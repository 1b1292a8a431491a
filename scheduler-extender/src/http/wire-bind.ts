/**
 * The bind and preempt verbs' wire types (reference/extender-api.md, extender/v1 types.go; Go
 * field names as keys, decoded case-insensitively):
 *
 *   ExtenderBindingArgs       {"PodName", "PodNamespace", "PodUID", "Node"}
 *   ExtenderBindingResult     {"Error": ""}
 *   ExtenderPreemptionArgs    {"Pod": v1.Pod,
 *                              "NodeNameToVictims": {"node": {"Pods": [v1.Pod], "NumPDBViolations": n}},
 *                              "NodeNameToMetaVictims": {"node": {"Pods": [{"UID": "..."}], "NumPDBViolations": n}}}
 *   ExtenderPreemptionResult  {"NodeNameToMetaVictims": {...}}   (always the meta form)
 */
import { field, isObject } from '../core/json-fields.js';
import { describe } from '../core/quantity.js';
import { invalidField } from '../errors.js';

export interface BindingArgs {
  readonly podName: string;
  readonly podNamespace: string;
  readonly podUid: string;
  readonly node: string;
}

function requiredString(body: Record<string, unknown>, name: string): string {
  const v = field(body, name);
  if (typeof v !== 'string' || v === '')
    throw invalidField(name, `must be a non-empty string, not ${describe(v)}`);
  return v;
}

export function decodeBindingArgs(body: unknown): BindingArgs {
  if (!isObject(body))
    throw invalidField('(body)', `must be an ExtenderBindingArgs object, not ${describe(body)}`);
  return {
    podName: requiredString(body, 'PodName'),
    podNamespace: requiredString(body, 'PodNamespace'),
    podUid: requiredString(body, 'PodUID'),
    node: requiredString(body, 'Node'),
  };
}

export function encodeBindingResult(error: string): string {
  return JSON.stringify({ Error: error });
}

export interface ProposedVictims {
  /** Victim UIDs in the proposal's order. */
  readonly uids: readonly string[];
  /** Full victim pods, when sent (NodeNameToVictims), by UID. */
  readonly pods: ReadonlyMap<string, unknown>;
  readonly numPdbViolations: number;
}

export interface PreemptionArgs {
  readonly pod: Record<string, unknown>;
  readonly nodes: ReadonlyMap<string, ProposedVictims>;
}

function victimsOf(value: unknown, path: string, meta: boolean): ProposedVictims {
  if (!isObject(value)) throw invalidField(path, `must be an object, not ${describe(value)}`);
  const pods = field(value, 'Pods') ?? [];
  if (!Array.isArray(pods)) throw invalidField(`${path}.Pods`, `must be an array, not ${describe(pods)}`);
  const uids: string[] = [];
  const full = new Map<string, unknown>();
  pods.forEach((p, i) => {
    if (!isObject(p)) throw invalidField(`${path}.Pods[${i}]`, `must be an object, not ${describe(p)}`);
    let uid: unknown;
    if (meta) uid = field(p, 'UID');
    else {
      const metadata = field(p, 'metadata');
      uid = isObject(metadata) ? field(metadata, 'uid') : undefined;
    }
    if (typeof uid !== 'string' || uid === '')
      throw invalidField(
        `${path}.Pods[${i}]${meta ? '.UID' : '.metadata.uid'}`,
        'must be a non-empty string',
      );
    uids.push(uid);
    if (!meta) full.set(uid, p);
  });
  const n = field(value, 'NumPDBViolations') ?? 0;
  if (typeof n !== 'number' || !Number.isInteger(n) || n < 0)
    throw invalidField(`${path}.NumPDBViolations`, 'must be a whole number');
  return { uids, pods: full, numPdbViolations: n };
}

export function decodePreemptionArgs(body: unknown): PreemptionArgs {
  if (!isObject(body))
    throw invalidField('(body)', `must be an ExtenderPreemptionArgs object, not ${describe(body)}`);
  const pod = field(body, 'Pod');
  if (!isObject(pod)) throw invalidField('Pod', `must be a v1.Pod object, not ${describe(pod)}`);
  const nodes = new Map<string, ProposedVictims>();
  for (const [key, meta] of [
    ['NodeNameToVictims', false],
    ['NodeNameToMetaVictims', true],
  ] as const) {
    const v = field(body, key);
    if (v === undefined || v === null) continue;
    if (!isObject(v)) throw invalidField(key, `must be an object or null, not ${describe(v)}`);
    for (const [node, victims] of Object.entries(v)) {
      const decoded = victimsOf(victims, `${key}["${node}"]`, meta);
      const before = nodes.get(node);
      // Both maps sent: the full pods add to the meta UIDs (same victims).
      nodes.set(
        node,
        before === undefined ? decoded : { ...before, pods: new Map([...before.pods, ...decoded.pods]) },
      );
    }
  }
  return { pod, nodes };
}

export function encodePreemptionResult(
  nodes: ReadonlyMap<string, { readonly uids: readonly string[]; readonly numPdbViolations: number }>,
): string {
  const out: Record<string, { Pods: { UID: string }[]; NumPDBViolations: number }> = {};
  for (const [node, v] of nodes)
    out[node] = { Pods: v.uids.map((UID) => ({ UID })), NumPDBViolations: v.numPdbViolations };
  return JSON.stringify({ NodeNameToMetaVictims: out });
}

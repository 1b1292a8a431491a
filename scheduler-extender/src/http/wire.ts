/**
 * The kube-scheduler extender v1 wire format (reference/extender-api.md):
 *
 *   ExtenderArgs          {"Pod": v1.Pod, "Nodes": v1.NodeList | null, "NodeNames": [string] | null}
 *   ExtenderFilterResult  {"Nodes", "NodeNames", "FailedNodes", "FailedAndUnresolvableNodes", "Error"}
 *   HostPriorityList      [{"Host": string, "Score": int 0..10}]
 *
 * The Go types carry no JSON tags: keys are the capitalised field names, decoded
 * case-insensitively (so lower-cased keys work), and written capitalised in field order.
 * kube-scheduler sends NodeNames when nodeCacheCapable is true, Nodes otherwise; the answer
 * mirrors what was sent (with Nodes, the filtered list of the original Node objects).
 */
import { invalidField } from '../errors.js';
import { field, isObject, type JsonObject } from '../core/json-fields.js';
import { describe } from '../core/quantity.js';
import type { FilterOutcome } from '../core/phases.js';
import type { Snapshot } from '../core/snapshot.js';

export interface ExtenderArgs {
  readonly pod: unknown;
  /** Candidate node names: NodeNames when sent, else the names of the Nodes items. */
  readonly nodeNames: readonly string[];
  /** NodeNames was sent (nodeCacheCapable: true). */
  readonly namesSent: boolean;
  /** The NodeList, when Nodes was sent (nodeCacheCapable: false). */
  readonly nodeList:
    | { readonly list: JsonObject; readonly items: readonly unknown[]; readonly names: readonly string[] }
    | undefined;
}

function decodeNodeList(value: unknown): NonNullable<ExtenderArgs['nodeList']> {
  if (!isObject(value))
    throw invalidField('Nodes', `must be a v1.NodeList object or null, not ${describe(value)}`);
  const items = field(value, 'items') ?? [];
  if (!Array.isArray(items)) throw invalidField('Nodes.items', `must be an array, not ${describe(items)}`);
  const names = items.map((item, i) => {
    const metadata = isObject(item) ? field(item, 'metadata') : undefined;
    const name = isObject(metadata) ? field(metadata, 'name') : undefined;
    if (typeof name !== 'string') throw invalidField(`Nodes.items[${i}].metadata.name`, 'must be a string');
    return name;
  });
  return { list: value, items, names };
}

/** Decodes and checks ExtenderArgs; throws INVALID_FIELD naming the first bad field. */
export function decodeExtenderArgs(body: unknown): ExtenderArgs {
  if (!isObject(body)) throw invalidField('(body)', `must be an ExtenderArgs object, not ${describe(body)}`);
  const pod = field(body, 'Pod');
  if (pod === undefined || pod === null) throw invalidField('Pod', 'is required');
  if (!isObject(pod)) throw invalidField('Pod', `must be a v1.Pod object, not ${describe(pod)}`);
  const rawNames = field(body, 'NodeNames');
  const rawNodes = field(body, 'Nodes');
  const nodeList = rawNodes === undefined || rawNodes === null ? undefined : decodeNodeList(rawNodes);
  if (rawNames !== undefined && rawNames !== null) {
    if (!Array.isArray(rawNames))
      throw invalidField('NodeNames', `must be an array of strings or null, not ${describe(rawNames)}`);
    for (let i = 0; i < rawNames.length; i++) {
      if (typeof rawNames[i] !== 'string')
        throw invalidField(`NodeNames[${i}]`, `must be a string, not ${describe(rawNames[i])}`);
    }
    return { pod, nodeNames: rawNames as string[], namesSent: true, nodeList };
  }
  if (nodeList === undefined)
    throw invalidField('NodeNames', 'one of NodeNames (nodeCacheCapable: true) or Nodes is required');
  return { pod, nodeNames: nodeList.names, namesSent: false, nodeList };
}

/** ExtenderFilterResult JSON, keys in Go field order. */
export function encodeFilterResult(args: ExtenderArgs, outcome: FilterOutcome, error = ''): string {
  let nodes: JsonObject | null = null;
  if (args.nodeList !== undefined) {
    const { list, items, names } = args.nodeList;
    let kept: unknown[];
    if (args.namesSent) {
      const feasible = new Set(outcome.feasible);
      kept = items.filter((_, i) => feasible.has(names[i] ?? ''));
    } else {
      kept = outcome.feasibleIndexes.map((i) => items[i]);
    }
    nodes = {};
    let sawItems = false;
    for (const key of Object.keys(list)) {
      if (key.toLowerCase() === 'items') {
        nodes[key] = kept;
        sawItems = true;
      } else {
        nodes[key] = list[key];
      }
    }
    if (!sawItems) nodes['items'] = kept;
  }
  return JSON.stringify({
    Nodes: nodes,
    NodeNames: args.namesSent ? outcome.feasible : null,
    FailedNodes: outcome.failed,
    FailedAndUnresolvableNodes: outcome.unresolvable,
    Error: error,
  });
}

/** HostPriorityList JSON, one entry per input name, in input order. */
export function encodeHostPriorityList(
  snapshot: Snapshot,
  names: readonly string[],
  scores: Uint8Array,
): string {
  const parts = new Array<string>(names.length);
  for (let i = 0; i < names.length; i++) {
    const name = names[i] as string;
    const score = scores[i] ?? 0;
    const view = snapshot.get(name);
    parts[i] =
      view !== undefined ? view.hostScoreJson(score) : `{"Host":${JSON.stringify(name)},"Score":${score}}`;
  }
  return `[${parts.join(',')}]`;
}

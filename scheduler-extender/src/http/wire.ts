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
import type { NameIndex } from '../core/name-index.js';
import { feasibleNames, type FilterOutcome, type PrioritizeOutcome } from '../core/phases.js';
import type { Reason } from '../core/reasons.js';
import { copyBytes, viewOf } from '../core/bytes.js';

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

/** Node names of the snapshot's slots, as bytes (core/name-index.ts). */
export type SlotNames = Pick<NameIndex, 'nameLength' | 'copyName'>;

const QUOTE = 0x22;
const COMMA = 0x2c;
const COLON = 0x3a;
const OPEN_BRACKET = 0x5b;
const CLOSE_BRACKET = 0x5d;
const OPEN_BRACE = 0x7b;
const CLOSE_BRACE = 0x7d;

/** Fixed JSON fragments, in one buffer: a fragment is (offset, length) in it. */
const FRAGMENTS: string[] = ['{"Host":"', ...Array.from({ length: 11 }, (_, s) => `","Score":${s}}`)];
const fragmentBytes = Buffer.from(FRAGMENTS.join(''), 'latin1');
const fragmentView = viewOf(fragmentBytes);
const fragmentAt = FRAGMENTS.map((_, i) => FRAGMENTS.slice(0, i).join('').length);
/** `{"Host":"` */
const HOST_HEAD = fragmentAt[0] as number;
const HOST_HEAD_LENGTH = (FRAGMENTS[0] as string).length;
/** `","Score":N}` for N in 0..10: offset and length. */
const SCORE_TAIL = fragmentAt.slice(1);
const SCORE_TAIL_LENGTH = FRAGMENTS.slice(1).map((f) => f.length);
/** Longest JSON written per entry besides the node name. */
const ENTRY_OVERHEAD = 32;

interface ReasonBytes {
  readonly view: DataView;
  readonly length: number;
}
const reasonBytes = new WeakMap<Reason, ReasonBytes>();

function reasonJson(r: Reason): ReasonBytes {
  let b = reasonBytes.get(r);
  if (b === undefined) {
    const bytes = Buffer.from(r.json, 'utf8');
    b = { view: viewOf(bytes), length: bytes.length };
    reasonBytes.set(r, b);
  }
  return b;
}

/**
 * Writes JSON into a scratch buffer, then copies it out at its exact size. Responses are built
 * from bytes the extender already holds: node names from the name index (DNS-1123, no escaping
 * needed), reason texts escaped once, fixed fragments; copied four bytes at a time
 * (core/bytes.ts). At 5,000 candidates this avoids a string per node, the rope flattening and
 * the UTF-8 encoding a string response would cost when it is written.
 *
 * The hot loops keep `view` and `pos` in locals and call `room` before each entry: it returns
 * the view to write with (a new one when the buffer had to grow).
 */
class JsonBytes {
  /** One scratch buffer for every response (building is synchronous); it stays warm in the caches. */
  private static scratch = Buffer.allocUnsafe(256 * 1024);
  private static scratchView = viewOf(JsonBytes.scratch);
  buf: Buffer = JsonBytes.scratch;
  view: DataView = JsonBytes.scratchView;
  pos = 0;

  /** Makes room for `n` more bytes. */
  reserve(n: number): void {
    if (this.pos + n <= this.buf.length) return;
    const next = Buffer.allocUnsafe(Math.max(this.buf.length * 2, this.pos + n));
    this.buf.copy(next, 0, 0, this.pos);
    this.buf = next;
    this.view = viewOf(next);
    JsonBytes.scratch = next;
    JsonBytes.scratchView = this.view;
  }

  /** With `pos` at `at`: makes room for `n` more bytes and returns the view to write with. */
  room(at: number, n: number): DataView {
    this.pos = at;
    if (at + n > this.buf.length) this.reserve(n);
    return this.view;
  }

  byte(c: number): void {
    this.reserve(1);
    this.buf[this.pos++] = c;
  }

  utf8(s: string): void {
    this.reserve(Buffer.byteLength(s));
    this.pos += this.buf.write(s, this.pos, 'utf8');
  }

  /** The JSON written, in a buffer of its own. */
  done(): Buffer {
    return Buffer.from(this.buf.subarray(0, this.pos));
  }
}

/** JSON of the input names the snapshot does not know (escaped), by position. */
function unknownNames(names: readonly string[], slots: Int32Array): Map<number, string> {
  const out = new Map<number, string>();
  for (let i = 0; i < slots.length; i++) if ((slots[i] as number) < 0) out.set(i, JSON.stringify(names[i]));
  return out;
}

function writeRejected(
  w: JsonBytes,
  o: FilterOutcome,
  names: SlotNames,
  unknown: Map<number, string>,
  unresolvable: boolean,
): void {
  w.byte(OPEN_BRACE);
  const indexes = o.rejectedIndexes;
  const reasons = o.rejectedReasons;
  const slots = o.slots;
  let pos = w.pos;
  let view = w.view;
  let first = true;
  let lastReason: Reason | undefined;
  let json: ReasonBytes | undefined;
  for (let k = 0; k < indexes.length; k++) {
    const r = reasons[k] as Reason;
    if (r.unresolvable !== unresolvable) continue;
    // Neighbours mostly share their reason: look its bytes up only when it changes.
    if (r !== lastReason) {
      lastReason = r;
      json = reasonJson(r);
    }
    const reason = json as ReasonBytes;
    const i = indexes[k] as number;
    const slot = slots[i] as number;
    if (slot < 0) {
      w.pos = pos;
      if (!first) w.byte(COMMA);
      w.utf8(unknown.get(i) ?? '""');
      w.byte(COLON);
      w.reserve(reason.length);
      copyBytes(w.view, w.pos, reason.view, 0, reason.length);
      pos = w.pos + reason.length;
      view = w.view;
    } else {
      const len = names.nameLength(slot);
      view = w.room(pos, len + reason.length + 4);
      if (!first) view.setUint8(pos++, COMMA);
      view.setUint8(pos++, QUOTE);
      pos = names.copyName(slot, view, pos);
      view.setUint8(pos++, QUOTE);
      view.setUint8(pos++, COLON);
      copyBytes(view, pos, reason.view, 0, reason.length);
      pos += reason.length;
    }
    first = false;
  }
  w.pos = pos;
  w.byte(CLOSE_BRACE);
}

function nodeListJson(args: ExtenderArgs, outcome: FilterOutcome): string {
  if (args.nodeList === undefined) return 'null';
  const { list, items, names } = args.nodeList;
  let kept: unknown[];
  if (args.namesSent) {
    const feasible = new Set(feasibleNames(outcome));
    kept = items.filter((_, i) => feasible.has(names[i] ?? ''));
  } else {
    kept = outcome.feasibleIndexes.map((i) => items[i]);
  }
  const copy: JsonObject = {};
  let sawItems = false;
  for (const key of Object.keys(list)) {
    if (key.toLowerCase() === 'items') {
      copy[key] = kept;
      sawItems = true;
    } else {
      copy[key] = list[key];
    }
  }
  if (!sawItems) copy['items'] = kept;
  return JSON.stringify(copy);
}

/** ExtenderFilterResult JSON (UTF-8), keys in Go field order. */
export function encodeFilterResult(
  args: ExtenderArgs,
  outcome: FilterOutcome,
  names: SlotNames,
  error = '',
): Buffer {
  const unknown = unknownNames(outcome.names, outcome.slots);
  const w = new JsonBytes();
  w.utf8(`{"Nodes":${nodeListJson(args, outcome)},"NodeNames":`);
  if (args.namesSent) {
    const feasible = outcome.feasibleIndexes;
    const slots = outcome.slots;
    w.byte(OPEN_BRACKET);
    let pos = w.pos;
    for (let k = 0; k < feasible.length; k++) {
      const i = feasible[k] as number;
      const slot = slots[i] as number;
      if (slot < 0) {
        w.pos = pos;
        if (k > 0) w.byte(COMMA);
        w.utf8(unknown.get(i) ?? '""');
        pos = w.pos;
        continue;
      }
      const view = w.room(pos, names.nameLength(slot) + 3);
      if (k > 0) view.setUint8(pos++, COMMA);
      view.setUint8(pos++, QUOTE);
      pos = names.copyName(slot, view, pos);
      view.setUint8(pos++, QUOTE);
    }
    w.pos = pos;
    w.byte(CLOSE_BRACKET);
  } else {
    w.utf8('null');
  }
  w.utf8(',"FailedNodes":');
  writeRejected(w, outcome, names, unknown, false);
  w.utf8(',"FailedAndUnresolvableNodes":');
  writeRejected(w, outcome, names, unknown, true);
  w.utf8(`,"Error":${JSON.stringify(error)}}`);
  return w.done();
}

/** HostPriorityList JSON (UTF-8), one entry per input name, in input order. */
export function encodeHostPriorityList(o: PrioritizeOutcome, names: SlotNames): Buffer {
  const unknown = unknownNames(o.names, o.slots);
  const n = o.names.length;
  const slots = o.slots;
  const scores = o.scores;
  const w = new JsonBytes();
  w.byte(OPEN_BRACKET);
  let pos = w.pos;
  for (let i = 0; i < n; i++) {
    const slot = slots[i] as number;
    const score = Math.min(scores[i] ?? 0, 10);
    if (slot < 0) {
      w.pos = pos;
      w.utf8(`${i > 0 ? ',' : ''}{"Host":${unknown.get(i) ?? '""'},"Score":${score}}`);
      pos = w.pos;
      continue;
    }
    const view = w.room(pos, names.nameLength(slot) + ENTRY_OVERHEAD);
    if (i > 0) view.setUint8(pos++, COMMA);
    copyBytes(view, pos, fragmentView, HOST_HEAD, HOST_HEAD_LENGTH);
    pos = names.copyName(slot, view, pos + HOST_HEAD_LENGTH);
    const tail = SCORE_TAIL_LENGTH[score] as number;
    copyBytes(view, pos, fragmentView, SCORE_TAIL[score] as number, tail);
    pos += tail;
  }
  w.pos = pos;
  w.byte(CLOSE_BRACKET);
  return w.done();
}

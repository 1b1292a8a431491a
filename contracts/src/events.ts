/**
 * Change notifications on the `{index}:events` stream. Agents append one after every report they
 * publish and every heartbeat; extenders follow the stream with XREAD BLOCK so their in-memory
 * snapshot stays current without a Redis call on the filter path. A reader that finds its last
 * seen id trimmed away reloads everything (nothing is lost, only re-read).
 */
import { Type, type Static } from '@sinclair/typebox';
import { TypeCompiler } from '@sinclair/typebox/compiler';
import { NODE_NAME_PATTERN } from './pci.js';

export const NodeEventSchema = Type.Object({
  /** report: a new report is stored; heartbeat: the agent is alive; removed: the node left. */
  type: Type.Union([Type.Literal('report'), Type.Literal('heartbeat'), Type.Literal('removed')]),
  node: Type.String({ pattern: NODE_NAME_PATTERN, maxLength: 253 }),
  /** Generation of the node's current report. */
  generation: Type.Integer({ minimum: 0 }),
  /** Unix ms at the agent when the event was written. */
  atMs: Type.Integer({ minimum: 0 }),
});
export type NodeEvent = Static<typeof NodeEventSchema>;

const compiled = TypeCompiler.Compile(NodeEventSchema);

/** Parses one event; returns undefined for anything malformed (readers skip it). */
export function parseNodeEvent(json: string): NodeEvent | undefined {
  try {
    const v: unknown = JSON.parse(json);
    return compiled.Check(v) ? v : undefined;
  } catch {
    return undefined;
  }
}

import type { AgentState } from '../core/agent-state.js';

/** Durable per-node notes of the agent (Redis: `RedisKeys.agentState`). */
export interface AgentStateStore {
  /** The stored notes; `undefined` when there are none; `malformed` with a reason when unreadable. */
  load(node: string): Promise<AgentState | undefined | { malformed: string }>;
  /** Replaces the notes. Throws when the store is unreachable (the caller then does not write the host). */
  save(node: string, state: AgentState): Promise<void>;
}

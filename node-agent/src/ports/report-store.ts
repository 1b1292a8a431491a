/**
 * Where the agent publishes its node report (Redis in production: see adapters/redis).
 */
import type { NodeReport, PfCapacity } from '@rdmasched/contracts';

export interface ReportStore {
  /** Generation of the node's report now stored; 0 when there is none. */
  storedGeneration(node: string): Promise<number>;
  /**
   * Stores the report, the per-PF capacity summaries (replacing the node's previous ones), the
   * heartbeat (with its TTL), the node index entry, and appends a `report` event, in that order:
   * a reader woken by the event finds the report. Throws when the store is unreachable.
   */
  publish(
    report: NodeReport,
    capacity: ReadonlyMap<string, PfCapacity>,
    heartbeatTtlMs: number,
  ): Promise<void>;
  /** Refreshes the heartbeat (with TTL) and appends a `heartbeat` event. Throws when unreachable. */
  heartbeat(node: string, generation: number, atMs: number, ttlMs: number): Promise<void>;
}

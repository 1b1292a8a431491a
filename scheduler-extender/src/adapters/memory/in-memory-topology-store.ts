/**
 * TopologyStore fed by direct calls instead of Redis: for tests, the benchmark and the one-machine
 * simulation's embedded mode. It behaves like the Redis adapter: `start()` loads what was
 * published so far (replaceAll), marks the snapshot loaded, and later calls are applied at once.
 * Reports are validated by the snapshot, exactly as they are from Redis.
 */
import type { Clock } from '../../ports/clock.js';
import { systemClock } from '../../ports/clock.js';
import type { TopologyStore } from '../../ports/topology-store.js';
import type { ApplyOutcome, Snapshot } from '../../core/snapshot.js';

export class InMemoryTopologyStore implements TopologyStore {
  readonly kind = 'memory';
  private readonly pending = new Map<string, { report: unknown; heartbeatAtMs?: number }>();
  private started = false;

  constructor(
    private readonly snapshot: Snapshot,
    private readonly clock: Clock = systemClock,
  ) {}

  start(): Promise<void> {
    if (this.started) return Promise.reject(new Error('InMemoryTopologyStore already started'));
    this.started = true;
    this.snapshot.replaceAll(this.pending.values(), this.clock.nowMs());
    this.pending.clear();
    this.snapshot.markLoaded();
    return Promise.resolve();
  }

  close(): Promise<void> {
    return Promise.resolve();
  }

  /**
   * Publishes a report, as an agent's SET + `report` event would. Before start the report is
   * held for the first load (and its outcome is only known then: returns undefined).
   */
  publish(report: unknown, heartbeatAtMs?: number): ApplyOutcome | undefined {
    if (!this.started) {
      const name = (report as { nodeName?: unknown } | null)?.nodeName;
      const key = typeof name === 'string' ? name : `#${this.pending.size}`;
      this.pending.set(key, heartbeatAtMs === undefined ? { report } : { report, heartbeatAtMs });
      return undefined;
    }
    return this.snapshot.applyReport(report, { nowMs: this.clock.nowMs(), heartbeatAtMs });
  }

  /** A heartbeat; returns false when the node is unknown. */
  heartbeat(node: string, atMs: number = this.clock.nowMs()): boolean {
    if (!this.started) {
      const p = this.pending.get(node);
      if (p === undefined) return false;
      p.heartbeatAtMs = atMs;
      return true;
    }
    return this.snapshot.heartbeat(node, atMs, this.clock.nowMs());
  }

  /** The node left (agent uninstalled, node deleted). */
  remove(node: string): boolean {
    if (!this.started) return this.pending.delete(node);
    return this.snapshot.remove(node);
  }
}

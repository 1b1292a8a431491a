/**
 * Publishes the node report: on change (not on a timer), with a heartbeat on an interval, and
 * again whenever the store comes back after an outage (Redis may have restarted empty), so no
 * state is lost. Generations are max(previous + 1, unix ms), continuing from the stored one.
 */
import type { Logger } from 'pino';
import { fingerprint, nextGeneration, stampReport, type ReportBody } from '../core/report.js';
import type { AgentMetrics } from '../metrics.js';
import type { Clock } from '../ports/clock.js';
import type { ReportStore } from '../ports/report-store.js';

export class Reporter {
  #generation = 0;
  #published: string | undefined;
  #latest: ReportBody | undefined;
  /** The store may not hold our latest state (an outage happened or a publish failed). */
  #dirty = true;
  #lastPublishMs: number | undefined;
  #initialised = false;
  #chain: Promise<unknown> = Promise.resolve();

  constructor(
    private readonly deps: {
      readonly nodeName: string;
      readonly store: ReportStore;
      readonly heartbeatIntervalMs: number;
      readonly clock: Clock;
      readonly metrics: AgentMetrics;
      readonly logger: Logger;
    },
  ) {}

  get generation(): number {
    return this.#generation;
  }
  get lastPublishMs(): number | undefined {
    return this.#lastPublishMs;
  }
  /** True while the store is known to hold the latest report. */
  get inSync(): boolean {
    return !this.#dirty && this.#published !== undefined;
  }
  get heartbeatTtlMs(): number {
    return this.deps.heartbeatIntervalMs * 3;
  }

  /** One store operation at a time, so generations never collide. */
  #serial<T>(fn: () => Promise<T>): Promise<T> {
    const run = this.#chain.then(fn, fn);
    this.#chain = run.catch(() => undefined);
    return run;
  }

  /** Offers the current state: published when it differs from what the store holds. */
  offer(body: ReportBody): Promise<boolean> {
    return this.#serial(async () => {
      this.#latest = body;
      if (!this.#dirty && fingerprint(body) === this.#published) return false;
      return this.#publish(body);
    });
  }

  /** Heartbeat tick: republishes when out of sync, else refreshes the heartbeat. */
  heartbeat(): Promise<void> {
    return this.#serial(() => this.#heartbeat());
  }

  async #heartbeat(): Promise<void> {
    if (this.#dirty && this.#latest !== undefined) {
      await this.#publish(this.#latest);
      return;
    }
    if (this.#published === undefined) return;
    try {
      await this.deps.store.heartbeat(
        this.deps.nodeName,
        this.#generation,
        this.deps.clock.nowMs(),
        this.heartbeatTtlMs,
      );
      this.deps.metrics.publishes.inc({ kind: 'heartbeat' });
    } catch (err: unknown) {
      this.#dirty = true;
      this.deps.metrics.publishErrors.inc({ kind: 'heartbeat' });
      this.deps.logger.warn(
        { err: (err as Error).message },
        'heartbeat failed; will republish when Redis is back',
      );
    }
  }

  /** The store reconnected: it may have lost everything, so publish the latest state again. */
  reconnected(): Promise<void> {
    return this.#serial(async () => {
      this.#dirty = true;
      if (this.#latest !== undefined) await this.#publish(this.#latest);
    });
  }

  async #publish(body: ReportBody): Promise<boolean> {
    const { deps } = this;
    try {
      if (!this.#initialised) {
        this.#generation = Math.max(this.#generation, await deps.store.storedGeneration(deps.nodeName));
        this.#initialised = true;
      }
      const now = deps.clock.nowMs();
      const generation = nextGeneration(this.#generation, now);
      const { report, capacity } = stampReport(body, generation, now);
      if (!report.ok) {
        // A report that fails its own contract is a bug: never publish it.
        deps.logger.error({ errors: report.errors }, 'node report failed validation; not published');
        deps.metrics.publishErrors.inc({ kind: 'invalid' });
        return false;
      }
      await deps.store.publish(report.value, capacity, this.heartbeatTtlMs);
      this.#generation = generation;
      this.#published = fingerprint(body);
      this.#dirty = false;
      this.#lastPublishMs = now;
      deps.metrics.publishes.inc({ kind: 'report' });
      deps.logger.debug({ generation }, 'node report published');
      return true;
    } catch (err: unknown) {
      this.#dirty = true;
      deps.metrics.publishErrors.inc({ kind: 'report' });
      deps.logger.warn(
        { err: (err as Error).message },
        'report publish failed; will republish when Redis is back',
      );
      return false;
    }
  }
}

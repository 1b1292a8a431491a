/**
 * Prometheus metrics of the extender, all `rdmasched_extender_` prefixed, registered on the
 * injected Registry (never the global one). Labels are bounded: verb (a fixed list), HTTP status
 * code, decision result (3), reason code (reasons.ts) and the pod's link types (4).
 * Snapshot gauges are computed at scrape time, so the filter path only bumps counters.
 */
import { Counter, Gauge, Histogram, type Registry } from 'prom-client';
import { LINK_TYPES } from '@rdmasched/contracts';
import type { FilterOutcome } from '../core/phases.js';
import type { PodRequest } from '../core/pod-request.js';
import { reasonById, reasonCount } from '../core/reasons.js';
import type { Snapshot } from '../core/snapshot.js';
import type { Clock } from '../ports/clock.js';

export type Verb =
  | 'filter'
  | 'prioritize'
  | 'bind'
  | 'preempt'
  | 'explain'
  | 'nodes'
  | 'node'
  | 'healthz'
  | 'readyz'
  | 'metrics'
  | 'other';

/** `ib`, `roce`, `ib+roce`, or `none` for pods without VFs. */
export function linkTypesLabel(request: PodRequest | undefined): string {
  if (request === undefined) return 'none';
  const types = LINK_TYPES.filter((t) => request.vfs[t] > 0);
  return types.length === 0 ? 'none' : types.join('+');
}

export class ExtenderMetrics {
  readonly requests: Counter<'verb' | 'code'>;
  readonly duration: Histogram<'verb'>;
  readonly decisions: Counter<'result' | 'reason' | 'link_type'>;
  readonly invalidPods: Counter<'verb'>;
  readonly reports: Counter<'outcome'>;
  readonly reloads: Counter;
  readonly removals: Counter;

  constructor(registry: Registry, snapshot: Snapshot, clock: Clock) {
    const registers = [registry];
    this.requests = new Counter({
      name: 'rdmasched_extender_http_requests_total',
      help: 'HTTP requests served, by verb and status code.',
      labelNames: ['verb', 'code'],
      registers,
    });
    this.duration = new Histogram({
      name: 'rdmasched_extender_http_request_duration_seconds',
      help: 'Time to answer an HTTP request (body parsed to response sent), by verb.',
      labelNames: ['verb'],
      buckets: [0.0002, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 1],
      registers,
    });
    this.decisions = new Counter({
      name: 'rdmasched_extender_filter_decisions_total',
      help: 'Per-node filter decisions: result (feasible, failed, unresolvable), reason code, and the link types the pod asked for.',
      labelNames: ['result', 'reason', 'link_type'],
      registers,
    });
    this.invalidPods = new Counter({
      name: 'rdmasched_extender_invalid_pod_requests_total',
      help: 'Requests for pods with an invalid annotation or quantity (every node rejected).',
      labelNames: ['verb'],
      registers,
    });
    this.reports = new Counter({
      name: 'rdmasched_extender_reports_total',
      help: 'Node reports received: accepted, rejected (failed validation, never used) or not_newer (generation not newer, ignored).',
      labelNames: ['outcome'],
      registers,
    });
    this.reloads = new Counter({
      name: 'rdmasched_extender_snapshot_reloads_total',
      help: 'Full loads of every node report (start, or the event stream was trimmed past the last id read).',
      registers,
    });
    this.removals = new Counter({
      name: 'rdmasched_extender_snapshot_removals_total',
      help: 'Nodes dropped from the snapshot because their agent announced removal.',
      registers,
    });
    new Gauge({
      name: 'rdmasched_extender_snapshot_nodes',
      help: 'Nodes in the in-memory snapshot.',
      registers,
      collect() {
        this.set(snapshot.size);
      },
    });
    new Gauge({
      name: 'rdmasched_extender_snapshot_stale_nodes',
      help: 'Nodes whose agent missed its heartbeats (rejected as FailedNodes until it is back).',
      registers,
      collect() {
        this.set(snapshot.staleCount(clock.nowMs()));
      },
    });
    new Gauge({
      name: 'rdmasched_extender_snapshot_ready',
      help: '1 once the first full load of node reports is done.',
      registers,
      collect() {
        this.set(snapshot.loaded ? 1 : 0);
      },
    });
    for (const outcome of ['accepted', 'rejected', 'not_newer']) this.reports.inc({ outcome }, 0);
  }

  /** Counts one filter call's decisions: a handful of counter updates, whatever the node count. */
  recordFilter(outcome: FilterOutcome, request: PodRequest | undefined): void {
    const linkType = linkTypesLabel(request);
    if (outcome.feasibleIndexes.length > 0) {
      this.decisions.inc(
        { result: 'feasible', reason: 'none', link_type: linkType },
        outcome.feasibleIndexes.length,
      );
    }
    if (outcome.invalid > 0) {
      this.decisions.inc(
        { result: 'unresolvable', reason: 'INVALID_POD_REQUEST', link_type: linkType },
        outcome.invalid,
      );
    }
    const n = reasonCount();
    for (let id = 0; id < n; id++) {
      const count = outcome.tally[id] ?? 0;
      if (count === 0) continue;
      const r = reasonById(id);
      this.decisions.inc(
        { result: r.unresolvable ? 'unresolvable' : 'failed', reason: r.code, link_type: linkType },
        count,
      );
    }
  }
}

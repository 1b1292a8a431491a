/**
 * Pass thresholds (reference: anchors.md §4.8, §4.9, §4.12; NVIDIA's NGC-Ready multi-node
 * certification, Mellanox/ngc_multinode_perf):
 * - bandwidth ≥ 90% of the port rate read from sysfs, ×2 when bidirectional;
 * - latency `t_avg` ≤ 2.5 µs for write and send, ≤ 4.5 µs for read (NGC PR #97: "if the
 *   performance is worse than them, there certainly is an issue").
 * Atomic latency, like read, is a full round trip in perftest (`rtt_factor` 1), so it gets the
 * read limit; `_imm` variants get the limit of their verb.
 */
import type { PerftestVerb } from '../perftest/types.js';

export interface Thresholds {
  /** Pass when measured bandwidth ≥ this fraction of the line rate. 0 < x ≤ 1. */
  readonly minBandwidthFraction: number;
  /** Largest `t_avg` in µs for write, write_imm, send and send_imm latency. */
  readonly maxWriteLatencyUs: number;
  /** Largest `t_avg` in µs for read and atomic latency. */
  readonly maxReadLatencyUs: number;
}

export const DEFAULT_THRESHOLDS: Thresholds = Object.freeze({
  minBandwidthFraction: 0.9,
  maxWriteLatencyUs: 2.5,
  maxReadLatencyUs: 4.5,
});

/**
 * Fills in defaults and checks every field; one error per bad field, each naming it. The result is
 * frozen.
 */
export function makeThresholds(
  overrides: Partial<Record<keyof Thresholds, number>> = {},
): { ok: true; value: Thresholds } | { ok: false; errors: string[] } {
  const t = { ...DEFAULT_THRESHOLDS, ...overrides };
  const errors: string[] = [];
  if (!(Number.isFinite(t.minBandwidthFraction) && t.minBandwidthFraction > 0 && t.minBandwidthFraction <= 1))
    errors.push(`minBandwidthFraction must be a fraction in (0, 1], e.g. 0.9; got ${t.minBandwidthFraction}`);
  for (const key of ['maxWriteLatencyUs', 'maxReadLatencyUs'] as const)
    if (!(Number.isFinite(t[key]) && t[key] > 0))
      errors.push(`${key} must be a positive number of µs; got ${t[key]}`);
  return errors.length > 0 ? { ok: false, errors } : { ok: true, value: Object.freeze(t) };
}

/** The `t_avg` limit for a verb. */
export function latencyLimitUs(verb: PerftestVerb, t: Thresholds): number {
  return verb === 'read' || verb === 'atomic' ? t.maxReadLatencyUs : t.maxWriteLatencyUs;
}

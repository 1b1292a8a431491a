/**
 * Test wiring: an extender app over an in-memory store, with a fixed clock and a silent logger.
 */
import { readFileSync, readdirSync } from 'node:fs';
import pino from 'pino';
import { Registry } from 'prom-client';
import { InMemoryReservationView } from '../src/adapters/memory/in-memory-reservation-view.js';
import { InMemoryTopologyStore } from '../src/adapters/memory/in-memory-topology-store.js';
import { Snapshot } from '../src/core/snapshot.js';
import type { PackingPolicy } from '../src/core/score.js';
import { buildApp, type AppOptions } from '../src/http/app.js';
import type { Clock } from '../src/ports/clock.js';

export const FIXTURES = new URL('./fixtures/', import.meta.url);

export function fixtureText(name: string): string {
  return readFileSync(new URL(name, FIXTURES), 'utf8');
}

/** The golden snapshot's time: 5 s after the fixtures' reports and heartbeats. */
export const GOLDEN_NOW_MS = Date.parse('2026-11-26T16:00:05.000Z');

export class ManualClock implements Clock {
  constructor(public now: number) {}
  nowMs(): number {
    return this.now;
  }
}

export interface TestExtender {
  readonly app: ReturnType<typeof buildApp>;
  readonly snapshot: Snapshot;
  readonly store: InMemoryTopologyStore;
  readonly reservations: InMemoryReservationView;
  readonly registry: Registry;
  readonly clock: ManualClock;
}

export async function testExtender(
  opts: { policy?: PackingPolicy; options?: AppOptions; nowMs?: number; start?: boolean } = {},
): Promise<TestExtender> {
  const clock = new ManualClock(opts.nowMs ?? GOLDEN_NOW_MS);
  const reservations = new InMemoryReservationView();
  const snapshot = new Snapshot({ reservations, policy: opts.policy ?? 'pack' });
  const store = new InMemoryTopologyStore(snapshot, clock);
  const registry = new Registry();
  const app = buildApp({
    snapshot,
    registry,
    clock,
    logger: pino({ level: 'silent' }),
    ...(opts.options === undefined ? {} : { options: opts.options }),
  });
  if (opts.start !== false) await store.start();
  return { app, snapshot, store, reservations, registry, clock };
}

/** Publishes every report under fixtures/reports; gpu-node-05's agent went silent 10 min ago. */
export function publishGoldenReports(store: InMemoryTopologyStore): void {
  const dir = new URL('reports/', FIXTURES);
  for (const file of readdirSync(dir).sort()) {
    const report: unknown = JSON.parse(readFileSync(new URL(file, dir), 'utf8'));
    const heartbeat = file.startsWith('gpu-node-05') ? GOLDEN_NOW_MS - 600_000 : GOLDEN_NOW_MS - 5_000;
    const outcome = store.publish(report, heartbeat);
    if (outcome !== undefined && outcome.kind !== 'accepted')
      throw new Error(`fixture ${file}: ${JSON.stringify(outcome)}`);
  }
}

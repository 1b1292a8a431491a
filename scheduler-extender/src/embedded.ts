/**
 * The extender with in-memory adapters, in one call: for the one-machine simulation, the
 * benchmarks and examples. Same core, same HTTP app as production; only the report source
 * (InMemoryTopologyStore) and the reservation view (InMemoryReservationView) differ.
 */
import pino, { type Logger } from 'pino';
import { Registry } from 'prom-client';
import { InMemoryReservationView } from './adapters/memory/in-memory-reservation-view.js';
import { InMemoryTopologyStore } from './adapters/memory/in-memory-topology-store.js';
import { Snapshot } from './core/snapshot.js';
import type { PackingPolicy } from './core/score.js';
import { buildApp, type AppOptions } from './http/app.js';
import { systemClock, type Clock } from './ports/clock.js';

export interface EmbeddedExtenderOptions {
  readonly policy?: PackingPolicy;
  readonly staleAfterHeartbeats?: number;
  readonly clock?: Clock;
  /** Default: a silent pino logger. */
  readonly logger?: Logger;
  /** Default: a new Registry. */
  readonly registry?: Registry;
  readonly app?: AppOptions;
}

export interface EmbeddedExtender {
  readonly app: ReturnType<typeof buildApp>;
  readonly snapshot: Snapshot;
  /** Publish reports, heartbeats and removals here; call `store.start()` once the first batch is in. */
  readonly store: InMemoryTopologyStore;
  readonly reservations: InMemoryReservationView;
  readonly registry: Registry;
}

export function createEmbeddedExtender(opts: EmbeddedExtenderOptions = {}): EmbeddedExtender {
  const clock = opts.clock ?? systemClock;
  const reservations = new InMemoryReservationView();
  const snapshot = new Snapshot({
    reservations,
    policy: opts.policy ?? 'pack',
    ...(opts.staleAfterHeartbeats === undefined ? {} : { staleAfterHeartbeats: opts.staleAfterHeartbeats }),
  });
  const store = new InMemoryTopologyStore(snapshot, clock);
  const registry = opts.registry ?? new Registry();
  const app = buildApp({
    snapshot,
    registry,
    clock,
    logger: opts.logger ?? pino({ level: 'silent' }),
    ...(opts.app === undefined ? {} : { options: opts.app }),
  });
  return { app, snapshot, store, reservations, registry };
}

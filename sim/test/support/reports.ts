/**
 * Real node reports for the simulation's tests: an agent on an in-memory simulated host of a
 * preset publishes its first report (no hand-written fixtures to drift from the agent).
 */
import type { NodeReport } from '@rdmasched/contracts';
import { pino } from 'pino';
import { Fleet } from '../../src/cluster/fleet.js';
import { createMemoryStore, type SimStore } from '../../src/cluster/store.js';

export interface TestFleet {
  readonly fleet: Fleet;
  readonly store: SimStore;
  report(node: string): NodeReport;
  stop(): Promise<void>;
}

/** Starts one agent per `[name, preset]`, with `vfsPerPf` VFs at most per PF. */
export async function startTestFleet(nodes: readonly [string, string][], vfsPerPf = 4): Promise<TestFleet> {
  const store = createMemoryStore();
  const fleet = await Fleet.start(
    { plans: nodes.map(([name, preset]) => ({ name, preset })), vfsPerPf, logger: pino({ level: 'silent' }) },
    store,
  );
  return {
    fleet,
    store,
    report: (node) => {
      const r = store.reports.latest.get(node)?.report;
      if (r === undefined) throw new Error(`no report for ${node}`);
      return r;
    },
    stop: async () => {
      await fleet.stop();
      await store.close();
    },
  };
}

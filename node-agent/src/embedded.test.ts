import { afterAll, describe, expect, it } from 'vitest';
import { eventually } from '../test/support/eventually.js';
import {
  DEFAULT_GUID_POOL_START,
  EmbeddedAgent,
  InMemoryAgentStateStore,
  InMemoryGuidPool,
  InMemoryLedger,
  InMemoryProvisionQueue,
  InMemoryReportStore,
  SimulatedHostTemplates,
  createSimulatedHost,
  type Discovery,
} from './index.js';

const templates = new SimulatedHostTemplates();
const ledger = new InMemoryLedger();
const pool = new InMemoryGuidPool({ start: DEFAULT_GUID_POOL_START, size: 1n << 20n });
const reports = new InMemoryReportStore();
const states = new InMemoryAgentStateStore();
const queues = new Map<string, InMemoryProvisionQueue>();
const discoveries = new Map<string, number>();
const agents: EmbeddedAgent[] = [];
const N = 40;
const IB = '0000:1a:00.0';

for (let i = 0; i < N; i++) {
  const nodeName = `sim-${i}`;
  const queue = new InMemoryProvisionQueue();
  queues.set(nodeName, queue);
  agents.push(
    new EmbeddedAgent({
      nodeName,
      host: createSimulatedHost({ hostname: nodeName, preset: 'dgx-h100', storage: { templates } }),
      ports: { ledger, pool, reportStore: reports, stateStore: states, queue },
      settings: { queueBlockMs: 50 },
      onDiscovery: (_d: Discovery) => discoveries.set(nodeName, (discoveries.get(nodeName) ?? 0) + 1),
    }),
  );
}
afterAll(() => Promise.all(agents.map((a) => a.stop())));
const reportOf = (node: string) => reports.latest.get(node)?.report;

describe('the programmatic API: many agents in one process', () => {
  it('starts an agent per in-memory host, sharing one template; each publishes its own report', async () => {
    await Promise.all(agents.map((a) => a.start()));
    expect(templates.size).toBe(1);
    await eventually(() => expect(reports.latest.size).toBe(N));
    const r = reportOf('sim-7');
    expect(r?.pfs).toHaveLength(8);
    expect(r?.gpus).toHaveLength(8);
    expect(r?.pfs.every((p) => p.sriov?.numVfs === 0 && p.sriov.maxVfs === 16)).toBe(true);
    expect(discoveries.get('sim-7')).toBeGreaterThan(0);
    expect(agents[7]?.discovery?.pfs).toHaveLength(8);
  });

  it('provisions VFs on demand, and the kubelet stand-in hands them to a pod, honouring the PF lock', async () => {
    const a = agents[3]!;
    ledger.reserve(
      {
        podUid: 'uid-3',
        namespace: 'team-a',
        podName: 'job-0',
        tenant: 'team-a',
        node: 'sim-3',
        pfs: [{ pfPciAddress: IB, linkType: 'ib', count: 2 }],
        gpus: [],
        state: 'pending',
        createdAtMs: 0,
        expiresAtMs: Number.MAX_SAFE_INTEGER,
      },
      IB,
    );
    queues.get('sim-3')!.push(
      JSON.stringify({
        id: 'req-1',
        node: 'sim-3',
        pfPciAddress: IB,
        minReadyVfs: 2,
        reason: 'reservation',
        podUid: 'uid-3',
        requestedAtMs: 0,
        deadlineMs: Number.MAX_SAFE_INTEGER,
      }),
    );
    await eventually(() => expect(queues.get('sim-3')!.results.map((r) => r.status)).toEqual(['ready']));
    // Only that host changed.
    expect(reportOf('sim-4')?.pfs.find((p) => p.pciAddress === IB)?.sriov?.numVfs).toBe(0);

    a.usage.tryLockPf(IB);
    expect(await a.allocateVfs({ linkType: 'ib', count: 2, podUid: 'uid-3', pf: IB })).toMatchObject({
      ok: false,
    });
    a.usage.unlockPf(IB);
    const got = await a.allocateVfs({ linkType: 'ib', count: 2, podUid: 'uid-3', pf: IB });
    expect(got.ok).toBe(true);
    await eventually(() => {
      const vfs = reportOf('sim-3')?.pfs.find((p) => p.pciAddress === IB)?.vfs ?? [];
      expect(vfs.filter((v) => v.state === 'in-use' && v.podUid === 'uid-3')).toHaveLength(2);
    });
    expect(reports.latest.get('sim-3')?.capacity.get(IB)?.foreignInUse).toBe(0);
    expect(a.releaseVfs({ podUid: 'uid-3' })).toBe(2);
    await eventually(() =>
      expect(
        reportOf('sim-3')
          ?.pfs.find((p) => p.pciAddress === IB)
          ?.vfs.some((v) => v.state === 'in-use'),
      ).toBe(false),
    );
  });

  it('marks the GPUs the simulation allocates, and only on that node', async () => {
    agents[5]!.allocateGpus(['0000:18:00.0']);
    await eventually(() =>
      expect(
        reportOf('sim-5')
          ?.gpus.filter((g) => g.allocated)
          .map((g) => g.pciAddress),
      ).toEqual(['0000:18:00.0']),
    );
    expect(reportOf('sim-6')?.gpus.some((g) => g.allocated)).toBe(false);
    agents[5]!.releaseGpus(['0000:18:00.0']);
    await eventually(() => expect(reportOf('sim-5')?.gpus.some((g) => g.allocated)).toBe(false));
  });

  it('refuses a bad request to the kubelet stand-in with a reason', async () => {
    expect(await agents[0]!.allocateVfs({ linkType: 'roce', count: 1, podUid: null })).toEqual({
      ok: false,
      reason: '0 free ready roce VF(s), 1 asked',
    });
    expect(() => createSimulatedHost({ hostname: 'x', storage: { templates } })).toThrow(
      /exactly one of preset and spec/,
    );
  });
});

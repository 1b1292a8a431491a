import { pino } from 'pino';
import { Registry } from 'prom-client';
import { describe, expect, it } from 'vitest';
import { InMemoryLedger } from '../adapters/memory/in-memory-ledger.js';
import type { AgentLedger } from '../ports/ledger.js';
import { InMemoryAllocatedDevices, assignmentsFromPodResources } from './allocated-devices.js';
import { DevicePluginMetrics } from './metrics.js';
import { reconcileOnce, type ReconcileDeps } from './reconcile.js';
import { LedgerReservationHints, outstandingReserved } from './reservation-hints.js';
import { DevicePluginVfUsage } from './vf-usage.js';

const IB = 'rdmasched.io/ib-vf';
const PF = '0000:1a:00.0';
const silent = pino({ level: 'silent' });

function deps(over: Partial<ReconcileDeps> & { source: InMemoryAllocatedDevices }): ReconcileDeps {
  return {
    usage: new DevicePluginVfUsage({ nowMs: () => 1_000 }),
    resources: new Set([IB]),
    pfOf: (vf) => Promise.resolve(vf.startsWith('0000:1a:') ? PF : undefined),
    nowMs: () => 1_000,
    graceMs: 0,
    metrics: new DevicePluginMetrics(new Registry(), [IB]),
    logger: silent,
    ...over,
  };
}

const assignment = (deviceId: string, resource = IB, pod = 'p') => ({
  resource,
  deviceId,
  namespace: 'team-a',
  pod,
  container: 'c',
});

describe('reconcileOnce', () => {
  it('adopts what the kubelet holds of rdmasched’s resources, ignoring other resources and bad IDs', async () => {
    const source = new InMemoryAllocatedDevices();
    source.set([
      assignment('0000:1a:00.1'),
      assignment('0000:1a:00.2', 'nvidia.com/gpu'),
      assignment('../../sys', IB),
      assignment('0000:77:00.1'),
    ]);
    const d = deps({ source });
    const out = await reconcileOnce(d);
    expect(out.ok && out.adopted.map((a) => a.vf)).toEqual(['0000:1a:00.1']);
    expect([...d.usage.inUse().values()]).toEqual([
      {
        vf: '0000:1a:00.1',
        pf: PF,
        resource: IB,
        podUid: null,
        namespace: 'team-a',
        podName: 'p',
        container: 'c',
        allocatedAtMs: 1_000,
      },
    ]);
    expect(d.usage.synced).toBe(true);
  });

  it('fills in pod UIDs through the optional resolver (asked once per pod; failures give null)', async () => {
    const source = new InMemoryAllocatedDevices();
    source.set([
      assignment('0000:1a:00.1', IB, 'a'),
      assignment('0000:1a:00.2', IB, 'a'),
      assignment('0000:1a:00.3', IB, 'b'),
    ]);
    const asked: string[] = [];
    const d = deps({
      source,
      resolvePodUid: (ns, name) => {
        asked.push(`${ns}/${name}`);
        if (name === 'b') throw new Error('apiserver down');
        return `uid-${name}`;
      },
    });
    await reconcileOnce(d);
    expect(asked).toEqual(['team-a/a', 'team-a/b']);
    expect([...d.usage.inUse().values()].map((a) => [a.vf, a.podUid])).toEqual([
      ['0000:1a:00.1', 'uid-a'],
      ['0000:1a:00.2', 'uid-a'],
      ['0000:1a:00.3', null],
    ]);
  });

  it('keeps a VF it recorded when the kubelet lists it but the PF can no longer be read', async () => {
    const source = new InMemoryAllocatedDevices();
    const usage = new DevicePluginVfUsage({ nowMs: () => 0 });
    usage.tryAllocate([{ vf: '0000:3b:00.1', pf: '0000:3b:00.0', resource: IB }]);
    source.set([assignment('0000:3b:00.1')]);
    await reconcileOnce(deps({ source, usage }));
    expect(usage.inUse().get('0000:3b:00.1')?.pf).toBe('0000:3b:00.0');
  });

  it('flattens a PodResources answer', () => {
    expect(
      assignmentsFromPodResources({
        pod_resources: [
          {
            name: 'p',
            namespace: 'n',
            containers: [
              {
                name: 'c',
                devices: [
                  { resource_name: IB, device_ids: ['0000:1a:00.1', '0000:1a:00.2'], topology: null },
                ],
              },
            ],
          },
        ],
      }),
    ).toEqual([
      { resource: IB, deviceId: '0000:1a:00.1', namespace: 'n', pod: 'p', container: 'c' },
      { resource: IB, deviceId: '0000:1a:00.2', namespace: 'n', pod: 'p', container: 'c' },
    ]);
  });
});

describe('reservation hints', () => {
  it('outstanding = reserved on the PF minus VFs in use there, never below zero', () => {
    const reserved = new Map([
      ['pf-a', 3],
      ['pf-b', 1],
      ['pf-c', 2],
    ]);
    const inUse = [{ pf: 'pf-a' }, { pf: 'pf-b' }, { pf: 'pf-b' }, { pf: 'pf-d' }];
    expect(outstandingReserved(reserved, inUse)).toEqual(
      new Map([
        ['pf-a', 2],
        ['pf-c', 2],
      ]),
    );
  });

  it('reads the ledger in the background and keeps the last counts when it fails', async () => {
    const ledger = new InMemoryLedger();
    let down = false;
    const flaky: AgentLedger = {
      holds: (node) => (down ? Promise.reject(new Error('redis down')) : ledger.holds(node)),
      reservations: (uids) => ledger.reservations(uids),
      reservationsOfNode: (node) => ledger.reservationsOfNode(node),
      takeClaim: (n, pf, o) => ledger.takeClaim(n, pf, o),
      releaseClaim: (n, pf, o) => ledger.releaseClaim(n, pf, o),
    };
    const usage = new DevicePluginVfUsage();
    ledger.reserved.set('node-a', new Map([[PF, 2]]));
    const hints = new LedgerReservationHints({ ledger: flaky, nodeName: 'node-a', usage, logger: silent });
    expect(hints.outstandingByPf()).toEqual(new Map());
    await hints.refresh();
    expect(hints.outstandingByPf()).toEqual(new Map([[PF, 2]]));
    usage.tryAllocate([{ vf: '0000:1a:00.1', pf: PF, resource: IB }]);
    expect(hints.outstandingByPf()).toEqual(new Map([[PF, 1]]));
    down = true;
    ledger.reserved.set('node-a', new Map());
    await hints.refresh();
    expect(hints.outstandingByPf()).toEqual(new Map([[PF, 1]]));
    down = false;
    await hints.refresh();
    expect(hints.outstandingByPf()).toEqual(new Map());
  });
});

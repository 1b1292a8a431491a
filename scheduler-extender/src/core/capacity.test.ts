import { describe, expect, it } from 'vitest';
import { makeReport } from '../testing/builders.js';
import { viewOf } from '../testing/views.js';
import { computeCapacity } from './capacity.js';
import type { NodeReservations } from '../ports/reservation-view.js';

function ledger(parts: Partial<{ [K in keyof NodeReservations]: NodeReservations[K] }>): NodeReservations {
  return { reservedByPf: new Map(), resizeClaims: new Map(), podUids: new Set(), ...parts };
}

describe('computeCapacity', () => {
  const report = makeReport()
    .pf({ numVfs: 8, configured: 6, inUse: ['pod-a', 'pod-b'], reserved: 1 })
    .pf({ numVfs: 4, configured: 4, maxVfs: 16 })
    .pf({ sriov: false })
    .pf({ numVfs: 4, portState: 'DOWN' })
    .build();
  const view = viewOf(report);
  const addr = (i: number) => report.pfs[i]?.pciAddress ?? '';

  it('with an empty ledger, held is what the report marks reserved or in use', () => {
    const c = computeCapacity(view, undefined);
    expect([...c.held]).toEqual([3, 0, 0, 0]);
    // Held PF: capacity numVfs 8 - 3; idle PF: maxVfs 16; SR-IOV off: 0; port down: 0 now.
    expect([...c.avail]).toEqual([5, 16, 0, 0]);
    expect([...c.readyFree]).toEqual([3, 4, 0, 0]);
    expect([...c.availIfPortUp]).toEqual([5, 16, 0, 16]);
    expect(c.blocked).toEqual([null, null, 'sriov-disabled', 'port-down']);
  });

  it('with a ledger, reserved counts come from the ledger only and in-use VFs of pods holding a reservation are not counted twice', () => {
    const c = computeCapacity(
      view,
      ledger({
        reservedByPf: new Map([
          [addr(0), 2],
          [addr(1), 1],
        ]),
        podUids: new Set(['pod-a', 'pod-c']),
      }),
    );
    // PF0: 2 reserved in the ledger + pod-b (in use without a reservation); the report's reserved
    // mark is informational and not added. PF1: 1 reserved -> held, capacity = numVfs 4.
    expect([...c.held.slice(0, 2)]).toEqual([3, 1]);
    expect([...c.avail.slice(0, 2)]).toEqual([5, 3]);
  });

  it('a resize claim blocks the PF', () => {
    const c = computeCapacity(view, ledger({ resizeClaims: new Map([[addr(1), 'agent']]) }));
    expect(c.avail[1]).toBe(0);
    expect(c.blocked[1]).toBe('resize-claim');
  });

  it('a reservation larger than the PF (pending provisioning) never makes capacity negative', () => {
    const c = computeCapacity(view, ledger({ reservedByPf: new Map([[addr(1), 9]]) }));
    expect(c.avail[1]).toBe(0);
    expect(c.readyFree[1]).toBe(0);
  });

  it('an idle PF is provisioned to maxVfs, never to numVfs beyond it; its ready VFs stay usable', () => {
    // numVfs 12 > maxVfs 8 (the policy was lowered): the agent refuses requests above maxVfs, so an
    // idle PF offers max(maxVfs, ready) = max(8, 10) = 10, of which 10 are ready.
    const r = makeReport().pf({ totalVfs: 16, maxVfs: 8, numVfs: 12, configured: 10 }).build();
    const c = computeCapacity(viewOf(r), ledger({}));
    expect([...c.avail]).toEqual([10]);
    expect([...c.readyFree]).toEqual([10]);
    const idleFew = makeReport().pf({ totalVfs: 16, maxVfs: 8, numVfs: 12, configured: 2 }).build();
    expect([...computeCapacity(viewOf(idleFew), ledger({})).avail]).toEqual([8]);
  });

  it('a held PF offers its ready VFs plus unconfigured existing VFs up to maxVfs, never a resize', () => {
    const r = makeReport()
      .pf({ totalVfs: 16, maxVfs: 6, numVfs: 8, configured: 3, inUse: [null] })
      .build();
    // held 1 (in use, no reservation): capacity max(3, min(8, 6)) = 6 -> 5 available, 2 ready.
    const c = computeCapacity(viewOf(r), ledger({}));
    expect([...c.held]).toEqual([1]);
    expect([...c.avail]).toEqual([5]);
    expect([...c.readyFree]).toEqual([2]);
  });
});

describe('GPUs promised to reservations', () => {
  const r = makeReport()
    .gpus(3)
    .pf({ numVfs: 4, configured: 4, inUse: ['running'] })
    .build();
  const g = (i: number) => r.gpus[i]?.pciAddress ?? '';
  it("a GPU named by the reservation of a pod not admitted yet is not free; an admitted pod's is left to the report", () => {
    const c = computeCapacity(
      viewOf(r),
      ledger({
        podUids: new Set(['waiting', 'running']),
        reservedGpus: new Map([
          ['waiting', [g(0)]],
          ['running', [g(1)]],
        ]),
      }),
    );
    // g0 is promised to a pod the kubelet has not admitted; `running` holds a VF (admitted): its
    // GPU is whatever the report says (here not allocated), so g1 stays free.
    expect(c.freeGpus).toEqual([1, 2]);
    expect(computeCapacity(viewOf(r), undefined).freeGpus).toEqual([0, 1, 2]);
  });
});

describe('GPUs of pods that are gone, in a report that lags', () => {
  // The report was taken while `gone` still ran: it holds a VF and g0, g1 are marked allocated.
  const r = makeReport()
    .gpus(3, undefined, 2)
    .pf({ numVfs: 4, configured: 4, inUse: ['gone'] })
    .build();
  const g = (i: number) => r.gpus[i]?.pciAddress ?? '';

  it('a GPU named by the released reservation of a pod the report still shows running is free', () => {
    const c = computeCapacity(viewOf(r), ledger({ releasedGpus: new Map([['gone', [g(0)]]]) }));
    // g0: the report predates the pod's end; g1: allocated and named by no gone pod.
    expect(c.freeGpus).toEqual([0, 2]);
    expect(computeCapacity(viewOf(r), ledger({})).freeGpus).toEqual([2]);
  });

  it('once the report no longer shows the pod, the report says whether the GPU is allocated', () => {
    // A later report: `gone` holds no VF any more, yet g0 is still allocated (another pod has it).
    const later = makeReport()
      .gpus(3, undefined, 2)
      .pf({ numVfs: 4, configured: 4, inUse: ['other'] })
      .build();
    const c = computeCapacity(viewOf(later), ledger({ releasedGpus: new Map([['gone', [g(0)]]]) }));
    expect(c.freeGpus).toEqual([2]);
  });

  it('a freed GPU that a waiting pod was promised is still taken', () => {
    const c = computeCapacity(
      viewOf(r),
      ledger({
        podUids: new Set(['waiting']),
        reservedGpus: new Map([['waiting', [g(0)]]]),
        releasedGpus: new Map([['gone', [g(0)]]]),
      }),
    );
    expect(c.freeGpus).toEqual([2]);
  });
});

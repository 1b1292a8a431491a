/**
 * Property test over random sequences of what happens around an agent: extender reservations
 * (following the bind rules of docs/adr/0003 §2), kubelet allocations, containers rdmasched does
 * not know about, malformed and unsafe requests, warm-pool ticks and agent kills at random host
 * changes. Some of those also happen *between* the agent's decision and its write (inside the
 * simulated kernel, right before each write lands). Invariants:
 *
 * - no write ever changes `sriov_numvfs` on a PF with a VF in use, or on a PF the writer does not
 *   hold the resize claim for, or that others have reserved; none by a dead agent;
 * - no write above `sriov_totalvfs`;
 * - no GUID (or RoCE MAC) is ever held by two VFs, and every configured VF's identity is its own
 *   in the pool.
 */
import { readFileSync, readlinkSync } from 'node:fs';
import { join } from 'node:path';
import fc from 'fast-check';
import { afterEach, describe, expect, it } from 'vitest';
import { discover } from '../../src/discovery/discover.js';
import { identityOwner, macFromIdentity } from '../../src/core/identity.js';
import { Crash } from '../support/crash.js';
import { NODE, agentHarness, makeReservation, requestJson, type Harness } from '../support/harness.js';

const PFS = ['0000:1a:00.0', '0000:9e:00.0'] as const;
const LINK = { '0000:1a:00.0': 'ib', '0000:9e:00.0': 'roce' } as const;

type Cmd =
  | { k: 'reserve'; pod: number; pf: 0 | 1; n: number }
  | { k: 'release'; pod: number }
  | { k: 'allocate'; pod: number }
  | { k: 'foreign'; pf: 0 | 1; vf: number }
  | { k: 'free'; pf: 0 | 1; vf: number }
  | { k: 'garbage'; which: number }
  | { k: 'process' }
  | { k: 'warm' }
  | { k: 'crash'; n: number; when: 'before' | 'after' };
type Chaos =
  | { k: 'none' }
  | { k: 'foreign'; pf: 0 | 1; vf: number }
  | { k: 'reserve'; pod: number; pf: 0 | 1; n: number };

const pfIdx = fc.constantFrom(0 as const, 1 as const);
const cmdArb: fc.Arbitrary<Cmd> = fc.oneof(
  {
    weight: 4,
    arbitrary: fc.record({
      k: fc.constant('reserve' as const),
      pod: fc.nat(5),
      pf: pfIdx,
      n: fc.integer({ min: 1, max: 5 }),
    }),
  },
  { weight: 2, arbitrary: fc.record({ k: fc.constant('release' as const), pod: fc.nat(9) }) },
  { weight: 2, arbitrary: fc.record({ k: fc.constant('allocate' as const), pod: fc.nat(9) }) },
  { weight: 1, arbitrary: fc.record({ k: fc.constant('foreign' as const), pf: pfIdx, vf: fc.nat(3) }) },
  { weight: 1, arbitrary: fc.record({ k: fc.constant('free' as const), pf: pfIdx, vf: fc.nat(3) }) },
  { weight: 1, arbitrary: fc.record({ k: fc.constant('garbage' as const), which: fc.nat(7) }) },
  { weight: 4, arbitrary: fc.constant({ k: 'process' as const }) },
  { weight: 2, arbitrary: fc.constant({ k: 'warm' as const }) },
  {
    weight: 1,
    arbitrary: fc.record({
      k: fc.constant('crash' as const),
      n: fc.integer({ min: 1, max: 14 }),
      when: fc.constantFrom('before' as const, 'after' as const),
    }),
  },
);
const chaosArb: fc.Arbitrary<Chaos> = fc.oneof(
  fc.constant({ k: 'none' as const }),
  fc.record({ k: fc.constant('foreign' as const), pf: pfIdx, vf: fc.nat(3) }),
  fc.record({
    k: fc.constant('reserve' as const),
    pod: fc.integer({ min: 6, max: 9 }),
    pf: pfIdx,
    n: fc.integer({ min: 1, max: 3 }),
  }),
);

const GARBAGE = [
  { pfPciAddress: '../../../../etc' },
  { pfPciAddress: '0000:18:00.0' },
  { minReadyVfs: -1 },
  { minReadyVfs: 100000 },
  { minReadyVfs: 17 },
  { node: 'elsewhere' },
  { podUid: undefined },
  { reason: 'because' },
];

function readlinkOr(path: string): string | undefined {
  try {
    return readlinkSync(path);
  } catch {
    return undefined;
  }
}

let h: Harness | undefined;
afterEach(() => h?.cleanup());

describe('random request sequences', () => {
  it('never resize a busy or foreign-claimed PF, never exceed totals, never give a GUID twice', async () => {
    let runs = 0;
    const totals = { numvfsWrites: 0, readyAnswers: 0, crashes: 0 };
    await fc.assert(
      fc.asyncProperty(
        fc.array(cmdArb, { minLength: 12, maxLength: 40, size: 'max' }),
        fc.array(chaosArb, { minLength: 1, maxLength: 8 }),
        fc.integer({ min: 0, max: 3 }),
        fc.integer({ min: 0, max: 3 }),
        fc.record({ min: fc.integer({ min: 0, max: 1 }), extra: fc.constantFrom(0, 2, undefined) }),
        async (cmds, chaos, initialVfs, initialConfigured, warm) => {
          runs++;
          h?.cleanup();
          const violations: string[] = [];
          const pods = new Map<
            string,
            { pf: string; n: number; state: 'pending' | 'bound'; requestId?: string }
          >();
          let seq = 0;
          let chaosAt = 0;

          const report = () => harness.reports.latest.get(NODE)?.report;
          const vfOf = (pf: string, i: number) =>
            report()
              ?.pfs.find((p) => p.pciAddress === pf)
              ?.vfs.find((v) => v.index === i);
          const foreign = (pf: string, i: number) => {
            const vf = vfOf(pf, i);
            if (vf?.configured === true) harness.usage.allocate({ vf: vf.pciAddress, pf, podUid: null });
          };
          // The extender's bind rule (ADR 0003 §2), on what it can see: the ledger and the last report.
          const reserve = (podUid: string, pf: string, n: number) => {
            if (pods.has(podUid)) return;
            if (harness.ledger.claims.get(NODE)?.has(pf) === true) return;
            const cap = harness.reports.latest.get(NODE)?.capacity.get(pf);
            const held = (harness.ledger.reserved.get(NODE)?.get(pf) ?? 0) + (cap?.foreignInUse ?? 0);
            const ready = cap?.configured ?? 0;
            const r = {
              ...makeReservation(podUid, pf, n),
              pfs: [{ pfPciAddress: pf, linkType: LINK[pf as keyof typeof LINK], count: n }],
            };
            if (held + n <= ready) {
              harness.ledger.reserve({ ...r, state: 'bound' });
              pods.set(podUid, { pf, n, state: 'bound' });
            } else if (held === 0 && n <= (cap?.maxVfs ?? 0)) {
              harness.ledger.reserve(r, pf);
              const id = `req-${podUid}-${seq++}`;
              harness.queue.push(requestJson({ id, pfPciAddress: pf, minReadyVfs: n, podUid }));
              pods.set(podUid, { pf, n, state: 'pending', requestId: id });
            }
          };

          const harness = agentHarness()
            // An extender replica binds on a PF between the agent's look at the ledger and its claim.
            .wrapLedger(
              (l) =>
                new Proxy(l, {
                  get(t, prop) {
                    const v: unknown = Reflect.get(t, prop, t);
                    if (prop !== 'takeClaim' || typeof v !== 'function')
                      return typeof v === 'function' ? (v as () => unknown).bind(t) : v;
                    return (node: string, pf: string, owner: string) => {
                      const c = chaos[chaosAt++ % chaos.length];
                      if (c?.k === 'reserve') reserve(`pod-${c.pod}`, pf, c.n);
                      return t.takeClaim(node, pf, owner);
                    };
                  },
                }),
            )
            .preset('reference-host', {
              totalVfs: 4,
              numVfs: initialVfs,
              configuredVfs: Math.min(initialVfs, initialConfigured),
            })
            .warmPool({
              minReady: { ib: warm.min, roce: 0 },
              maxReady: { ib: warm.extra === undefined ? undefined : warm.min + warm.extra, roce: 0 },
            })
            .simOptions({
              beforeWrite: ({ path, value }) => {
                const m = /^bus\/pci\/devices\/([^/]+)\/sriov_numvfs$/.exec(path);
                if (m === null) return;
                const pf = m[1]!;
                // The world moves between the agent's decision and its write: a container takes a VF
                // of this very PF (device plugin), or an extender replica reserves on it.
                const c = chaos[chaosAt++ % chaos.length];
                if (c?.k === 'foreign') {
                  const link = readlinkOr(join(harness.sim.sysfsRoot, `bus/pci/devices/${pf}/virtfn${c.vf}`));
                  if (link !== undefined)
                    harness.usage.allocate({ vf: link.replace('../', ''), pf, podUid: null });
                }
                if (c?.k === 'reserve') reserve(`pod-${c.pod}`, pf, c.n);
                const n = Number(value.trim());
                totals.numvfsWrites++;
                if (harness.life.dead) violations.push(`a dead agent wrote ${value.trim()} to ${pf}`);
                const busy = [...harness.usage.inUse().values()].filter((a) => a.pf === pf);
                if (busy.length > 0)
                  violations.push(
                    `sriov_numvfs=${n} on ${pf} while ${busy.map((a) => a.vf).join(',')} in use`,
                  );
                const owner = harness.ledger.claims.get(NODE)?.get(pf);
                const reserved = harness.ledger.reserved.get(NODE)?.get(pf) ?? 0;
                if (owner === undefined) violations.push(`sriov_numvfs=${n} on ${pf} without a resize claim`);
                else {
                  const own =
                    owner === 'agent'
                      ? 0
                      : (harness.ledger.records.get(owner)?.pfs.find((p) => p.pfPciAddress === pf)?.count ??
                        0);
                  if (reserved > own)
                    violations.push(`sriov_numvfs=${n} on ${pf} reserved by others (${reserved} > ${own})`);
                }
                const total = Number(
                  readFileSync(join(harness.sim.sysfsRoot, `bus/pci/devices/${pf}/sriov_totalvfs`), 'utf8'),
                );
                if (!(n <= total))
                  violations.push(`sriov_numvfs=${n} above sriov_totalvfs ${total} on ${pf}`);
              },
            })
            .build();
          h = harness;

          const restartAndRecover = async (dieAt?: { n: number; when: 'before' | 'after' }) => {
            harness.restart(dieAt === undefined ? {} : { dieAt });
            try {
              await harness.agent.recover();
            } catch (err) {
              if (!(err instanceof Crash)) throw err;
              harness.restart();
              await harness.agent.recover();
            }
          };
          await harness.agent.recover();
          for (const cmd of cmds) {
            try {
              switch (cmd.k) {
                case 'reserve':
                  reserve(`pod-${cmd.pod}`, PFS[cmd.pf], cmd.n);
                  break;
                case 'release': {
                  const uid = `pod-${cmd.pod}`;
                  for (const a of [...harness.usage.inUse().values()])
                    if (a.podUid === uid) harness.usage.release(a.vf);
                  harness.ledger.unreserve(uid);
                  pods.delete(uid);
                  break;
                }
                case 'allocate': {
                  const uid = `pod-${cmd.pod}`;
                  const p = pods.get(uid);
                  if (p?.state !== 'bound') break;
                  const mine = [...harness.usage.inUse().values()].filter((a) => a.podUid === uid).length;
                  const free =
                    report()
                      ?.pfs.find((x) => x.pciAddress === p.pf)
                      ?.vfs.filter((v) => v.configured && !harness.usage.inUse().has(v.pciAddress)) ?? [];
                  for (const v of free.slice(0, Math.max(0, p.n - mine)))
                    harness.usage.allocate({ vf: v.pciAddress, pf: p.pf, podUid: uid });
                  break;
                }
                case 'foreign':
                  foreign(PFS[cmd.pf], cmd.vf);
                  break;
                case 'free': {
                  const vf = vfOf(PFS[cmd.pf], cmd.vf);
                  if (vf !== undefined && harness.usage.inUse().get(vf.pciAddress)?.podUid === null)
                    harness.usage.release(vf.pciAddress);
                  break;
                }
                case 'garbage':
                  harness.queue.push(
                    requestJson({
                      id: `bad-${seq++}`,
                      pfPciAddress: PFS[0],
                      minReadyVfs: 1,
                      podUid: 'pod-x',
                      ...GARBAGE[cmd.which],
                    }),
                  );
                  break;
                case 'process':
                  await harness.agent.processQueueOnce(0);
                  break;
                case 'warm':
                  await harness.agent.warmPoolTick();
                  break;
                case 'crash':
                  totals.crashes++;
                  await restartAndRecover({ n: cmd.n, when: cmd.when });
                  break;
              }
            } catch (err) {
              if (!(err instanceof Crash)) throw err;
              await restartAndRecover();
            }
            // The extender follows the answers: bind on ready, give the reservation up otherwise.
            for (const [uid, p] of pods) {
              const answer = harness.queue.results.find((r) => r.id === p.requestId);
              if (p.state !== 'pending' || answer === undefined) continue;
              if (answer.status === 'ready') p.state = 'bound';
              else {
                harness.ledger.unreserve(uid);
                pods.delete(uid);
              }
            }
            // After every step: identities on the host are unique and each is its VF's own.
            const d = await discover(harness.sim.reader());
            const owned = await harness.pool.ofNode(NODE);
            const seen = new Map<string, string>();
            for (const pf of d.pfs) {
              if (pf.sriov !== null && pf.sriov.numVfs > pf.sriov.totalVfs)
                violations.push(`${pf.pciAddress} above totalvfs`);
              for (const vf of pf.vfs.filter((v) => v.configured)) {
                const id = pf.linkType === 'ib' ? vf.guid : vf.mac;
                if (id === null) continue;
                const other = seen.get(id);
                if (other !== undefined) violations.push(`${id} on both ${other} and ${vf.pciAddress}`);
                seen.set(id, vf.pciAddress);
                const mine = owned.get(vf.pciAddress);
                const matches =
                  pf.linkType === 'ib'
                    ? mine === vf.guid
                    : mine !== undefined && macFromIdentity(mine) === vf.mac;
                if (!matches)
                  violations.push(`${vf.pciAddress} carries ${id}, the pool says ${String(mine)}`);
                if (
                  mine !== undefined &&
                  harness.pool.owners.get(mine) !== identityOwner(NODE, vf.pciAddress)
                )
                  violations.push(
                    `${mine} is owned by ${String(harness.pool.owners.get(mine))}, not ${vf.pciAddress}`,
                  );
              }
            }
            if (violations.length > 0) break;
          }
          totals.readyAnswers += harness.queue.results.filter((r) => r.status === 'ready').length;
          expect(violations).toEqual([]);
        },
      ),
      { numRuns: 60, endOnFailure: true },
    );
    expect(runs).toBeGreaterThanOrEqual(60);
    // Not vacuous: PFs were really resized and requests really served, with agents killed on the way.
    expect(totals.numvfsWrites).toBeGreaterThan(20);
    expect(totals.readyAnswers).toBeGreaterThan(10);
    expect(totals.crashes).toBeGreaterThan(5);
  }, 600_000);
});

/**
 * The periodic reconcile (docs/adr/0019), run by the leader replica: it repairs what the event
 * paths missed (an extender that crashed mid-bind, a lost pod event), from the ledger, the API's
 * pods and the node reports (core/reconcile-plan.ts). It also sends back to their agent the
 * resize claims of pods that hold no reservation (seen on two passes in a row): the agent
 * releases a claim whose reservation is gone when a request for that pod arrives (docs/adr/0003).
 * And it drops GPU promises whose reservation is gone (docs/adr/0073).
 */
import { randomUUID } from 'node:crypto';
import type { ReservedPf } from '@rdmasched/contracts';
import type { Logger } from 'pino';
import type { LedgerMirror } from '../core/ledger-mirror.js';
import { planReconcile } from '../core/reconcile-plan.js';
import type { Snapshot } from '../core/snapshot.js';
import type { TenantDirectory } from '../core/tenant-catalog.js';
import type { Clock } from '../ports/clock.js';
import { NO_QUOTA, type Ledger } from '../ports/ledger.js';
import type { PodApi } from '../ports/pod-api.js';
import type { ProvisioningChannel } from '../ports/provisioning.js';
import type { LedgerMetrics } from './ledger-metrics.js';

/** The agent's claim owner for its own warm-pool work. */
const AGENT_OWNER = 'agent';

export interface ReconcilerOptions {
  readonly ledger: Ledger;
  readonly mirror: LedgerMirror;
  readonly pods: PodApi;
  readonly snapshot: Snapshot;
  readonly tenants?: TenantDirectory;
  readonly provisioning?: ProvisioningChannel;
  readonly metrics: LedgerMetrics;
  readonly logger: Logger;
  readonly clock: Clock;
}

export interface ReconcileReport {
  readonly orphansReleased: number;
  readonly expiredReleased: number;
  readonly markedBound: number;
  readonly recorded: number;
  readonly unattributed: number;
  readonly claimsNudged: number;
  /** GPU promises dropped because their pod holds no reservation on the node any more. */
  readonly gpuPromisesPruned: number;
}

export class Reconciler {
  /** Orphan claims seen on the previous pass: `node/pf/owner`. */
  private suspectClaims = new Set<string>();

  constructor(private readonly o: ReconcilerOptions) {}

  /** One pass. Throws when the ledger or the API cannot be read (nothing is changed then). */
  async run(): Promise<ReconcileReport> {
    const { ledger, metrics, logger: log } = this.o;
    const reservations = await ledger.list();
    const pods = await this.o.pods.list();
    const nowMs = this.o.clock.nowMs();
    const plan = planReconcile({
      reservations,
      pods,
      nowMs,
      inUseBy: (node, uid) => this.inUseBy(node, uid),
      tenantOf: (ns) => this.o.tenants?.ownerOf(ns).tenant?.name ?? '',
    });
    let orphansReleased = 0;
    for (const { reservation: r, why } of plan.release) {
      if ((await ledger.release(r.podUid, { node: r.node })) === undefined) continue;
      orphansReleased++;
      metrics.repairs.inc({ kind: 'orphan_released' });
      metrics.releases.inc({ cause: 'orphan' });
      log.info(
        { podUid: r.podUid, pod: `${r.namespace}/${r.podName}`, node: r.node, why },
        'released an orphan reservation',
      );
    }
    let markedBound = 0;
    for (const r of plan.markBound) {
      if (!(await ledger.markBound(r))) continue;
      markedBound++;
      metrics.repairs.inc({ kind: 'marked_bound' });
      log.info({ podUid: r.podUid, node: r.node }, 'marked a reservation bound: its pod is bound');
    }
    let expiredReleased = 0;
    for (const r of plan.expire) {
      if ((await ledger.release(r.podUid, { node: r.node, expiredAtMs: nowMs })) === undefined) continue;
      expiredReleased++;
      metrics.repairs.inc({ kind: 'expired_released' });
      metrics.releases.inc({ cause: 'expired' });
      log.info({ podUid: r.podUid, node: r.node }, 'released a pending reservation past its expiry');
    }
    let recorded = 0;
    for (const r of plan.record) {
      const out = await ledger.reserve(r, NO_QUOTA, { record: true });
      if (out.kind !== 'reserved') continue;
      recorded++;
      metrics.repairs.inc({ kind: 'recorded' });
      log.warn(
        { podUid: r.podUid, pod: `${r.namespace}/${r.podName}`, node: r.node, pfs: r.pfs },
        'recorded the reservation of a bound pod the ledger did not hold',
      );
    }
    for (const p of plan.unattributed)
      log.debug(
        { pod: `${p.namespace}/${p.name}`, node: p.nodeName },
        'bound pod with VFs not attributable yet',
      );
    const claimsNudged = await this.nudgeOrphanClaims(new Set(reservations.map((r) => r.podUid)), nowMs);
    // Promises left behind (a release that did not know them): harmless to reserve, which
    // ignores a promise whose pod holds no reservation, but kept tidy here.
    const nodes = new Set<string>(this.o.mirror.nodeNames());
    for (const r of reservations) nodes.add(r.node);
    const gpuPromisesPruned = await ledger.pruneGpuPromises([...nodes].sort());
    if (gpuPromisesPruned > 0) {
      metrics.repairs.inc({ kind: 'gpu_promise_pruned' }, gpuPromisesPruned);
      log.info({ pruned: gpuPromisesPruned }, 'dropped GPU promises whose reservation is gone');
    }
    metrics.reconcileRuns.inc({ result: 'ok' });
    return {
      orphansReleased,
      expiredReleased,
      markedBound,
      recorded,
      unattributed: plan.unattributed.length,
      claimsNudged,
      gpuPromisesPruned,
    };
  }

  private inUseBy(node: string, podUid: string): ReservedPf[] {
    const view = this.o.snapshot.get(node);
    if (view === undefined) return [];
    const out: ReservedPf[] = [];
    for (const pf of view.report.pfs) {
      const n = pf.vfs.filter((v) => v.state === 'in-use' && v.podUid === podUid).length;
      if (n > 0) out.push({ pfPciAddress: pf.pciAddress, linkType: pf.linkType, count: n });
    }
    return out;
  }

  private async nudgeOrphanClaims(held: ReadonlySet<string>, nowMs: number): Promise<number> {
    const provisioning = this.o.provisioning;
    const seen = new Set<string>();
    let nudged = 0;
    for (const node of this.o.mirror.nodeNames()) {
      for (const [pf, owner] of this.o.mirror.forNode(node).resizeClaims) {
        if (owner === AGENT_OWNER || held.has(owner) || this.o.mirror.reservation(owner) !== undefined)
          continue;
        const key = `${node}/${pf}/${owner}`;
        seen.add(key);
        if (!this.suspectClaims.has(key) || provisioning === undefined) continue;
        await provisioning.request(
          node,
          [
            {
              id: randomUUID(),
              node,
              pfPciAddress: pf,
              minReadyVfs: 1,
              reason: 'reservation',
              podUid: owner,
              requestedAtMs: Math.floor(nowMs),
              deadlineMs: Math.floor(nowMs),
            },
          ],
          nowMs,
        );
        nudged++;
        this.o.metrics.repairs.inc({ kind: 'claim_nudged' });
        this.o.logger.info(
          { node, pf, owner },
          'sent a resize claim of a pod without reservation back to its agent',
        );
      }
    }
    this.suspectClaims = seen;
    return nudged;
  }
}

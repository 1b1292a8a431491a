/**
 * The work one replica does for all (docs/adr/0019): reconcile, PKey membership and tenant
 * status. Every replica tries to take the leader lock every lease/3; the holder runs the duties,
 * a replica that fails to renew stops them at once (before its lease runs out elsewhere).
 * Every duty is idempotent, so the short overlap a paused-then-resumed holder could cause repeats
 * work but never corrupts it (ledger scripts are atomic; SM calls and status writes converge).
 */
import type { Logger } from 'pino';
import type { LeaderLock } from '../ports/leader-lock.js';
import type { LedgerMetrics } from './ledger-metrics.js';
import type { PartitionReconciler } from './partition-reconciler.js';
import type { Reconciler } from './reconciler.js';
import type { TenantStatusService } from './tenant-status-service.js';

export interface LeaderDutiesOptions {
  readonly lock: LeaderLock;
  readonly leaseMs: number;
  readonly reconcileIntervalMs: number;
  readonly partitionIntervalMs: number;
  readonly reconciler?: Reconciler;
  readonly partitions?: PartitionReconciler;
  readonly status?: TenantStatusService;
  readonly metrics: LedgerMetrics;
  readonly logger: Logger;
}

export class LeaderDuties {
  private leader = false;
  private stopped = true;
  private lockTimer: NodeJS.Timeout | undefined;
  private reconcileTimer: NodeJS.Timeout | undefined;
  private partitionTimer: NodeJS.Timeout | undefined;
  private reconciling: Promise<void> | undefined;

  constructor(private readonly o: LeaderDutiesOptions) {}

  get isLeader(): boolean {
    return this.leader;
  }

  start(): void {
    if (!this.stopped) return;
    this.stopped = false;
    void this.tick();
  }

  async stop(): Promise<void> {
    this.stopped = true;
    if (this.lockTimer !== undefined) clearTimeout(this.lockTimer);
    this.lockTimer = undefined;
    this.lose();
    await this.reconciling;
    await this.o.lock.release().catch(() => undefined);
  }

  private async tick(): Promise<void> {
    if (this.stopped) return;
    let held = false;
    try {
      held = await this.o.lock.acquire(this.o.leaseMs);
    } catch (err: unknown) {
      this.o.logger.warn(
        { err: err instanceof Error ? err.message : String(err) },
        'cannot reach the leader lock',
      );
    }
    if (this.stopped) return;
    if (held && !this.leader) this.gain();
    else if (!held && this.leader) this.lose();
    this.lockTimer = setTimeout(() => void this.tick(), Math.max(50, Math.floor(this.o.leaseMs / 3)));
    this.lockTimer.unref();
  }

  private gain(): void {
    this.leader = true;
    this.o.metrics.leader.set(1);
    this.o.logger.info('this replica leads: reconcile, PKey membership and tenant status');
    this.o.partitions?.start();
    this.o.status?.start();
    this.reconcileSoon(0);
    this.partitionSoon();
  }

  private lose(): void {
    if (!this.leader) return;
    this.leader = false;
    this.o.metrics.leader.set(0);
    this.o.logger.info('this replica no longer leads');
    this.o.partitions?.stop();
    this.o.status?.stop();
    if (this.reconcileTimer !== undefined) clearTimeout(this.reconcileTimer);
    if (this.partitionTimer !== undefined) clearTimeout(this.partitionTimer);
    this.reconcileTimer = undefined;
    this.partitionTimer = undefined;
  }

  private reconcileSoon(delayMs: number): void {
    if (this.o.reconciler === undefined) return;
    this.reconcileTimer = setTimeout(() => {
      this.reconciling = this.reconcileNow().finally(() => {
        this.reconciling = undefined;
        if (this.leader) this.reconcileSoon(this.o.reconcileIntervalMs);
      });
    }, delayMs);
    this.reconcileTimer.unref();
  }

  /** One reconcile pass now (also what the timer runs); failures are logged and counted. */
  async reconcileNow(): Promise<void> {
    const r = this.o.reconciler;
    if (r === undefined) return;
    try {
      const report = await r.run();
      const changed =
        report.orphansReleased +
        report.expiredReleased +
        report.markedBound +
        report.recorded +
        report.claimsNudged +
        report.gpuPromisesPruned;
      if (changed > 0) this.o.logger.info(report, 'reconcile repaired the ledger');
      this.o.status?.markAll();
    } catch (err: unknown) {
      this.o.metrics.reconcileRuns.inc({ result: 'failed' });
      this.o.logger.warn(
        { err: err instanceof Error ? err.message : String(err) },
        'reconcile failed; retried next period',
      );
    }
  }

  private partitionSoon(): void {
    const p = this.o.partitions;
    if (p === undefined) return;
    this.partitionTimer = setTimeout(() => {
      p.run()
        .catch((err: unknown) =>
          this.o.logger.warn(
            { err: err instanceof Error ? err.message : String(err) },
            'partition reconcile failed',
          ),
        )
        .finally(() => {
          if (this.leader) this.partitionSoon();
        });
    }, this.o.partitionIntervalMs);
    this.partitionTimer.unref();
  }
}

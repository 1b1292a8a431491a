/**
 * Keeps tenant PKey membership at the subnet manager equal to what the reports and the ledger say
 * (core/partition-plan.ts, docs/adr/0018). Run by the leader replica: right after a node report or
 * a node's reservations change (debounced), and periodically to catch what the SM lost or others
 * changed. With a no-op subnet manager it does nothing.
 *
 * The window between a pod's admission and its GUID joining the PKey is: the kubelet allocates the
 * VF, the agent names its pod and publishes a report (about 2 s after the Allocate), this replica
 * gets the report event, waits `debounceMs`, and calls the SM (one POST per PKey). A pod that must
 * not send before it is in its partition should wait for the PKey in `ports/1/pkeys/*` of its VF.
 */
import type { Logger } from 'pino';
import type { LedgerMirror } from '../core/ledger-mirror.js';
import { planPartitions, type GuidRange } from '../core/partition-plan.js';
import type { Snapshot } from '../core/snapshot.js';
import type { TenantDirectory } from '../core/tenant-catalog.js';
import type { SubnetManager } from '../ports/subnet-manager.js';
import type { LedgerMetrics } from './ledger-metrics.js';

export interface PartitionReconcilerOptions {
  readonly sm: SubnetManager;
  readonly snapshot: Snapshot;
  readonly mirror: LedgerMirror;
  readonly tenants: TenantDirectory;
  readonly pool: GuidRange;
  readonly metrics: LedgerMetrics;
  readonly logger: Logger;
  /** Wait after a change before calling the SM, ms (default 200): one call for a burst of reports. */
  readonly debounceMs?: number;
}

export interface PartitionRunReport {
  readonly added: number;
  readonly removed: number;
  readonly failed: number;
}

export class PartitionReconciler {
  private readonly everManaged = new Set<number>();
  private timer: NodeJS.Timeout | undefined;
  private running: Promise<PartitionRunReport> | undefined;
  private again = false;
  private enabled = false;
  private readonly unsubscribe: (() => void)[] = [];

  constructor(private readonly o: PartitionReconcilerOptions) {}

  /** Starts reacting to report and ledger changes (the leader calls it; `stop` when it loses the lock). */
  start(): void {
    if (this.enabled || this.o.sm.kind === 'noop') return;
    this.enabled = true;
    this.unsubscribe.push(
      this.o.snapshot.addListener({
        onReport: (outcome) => {
          if (outcome.kind === 'accepted') this.schedule();
        },
        onReload: () => this.schedule(),
      }),
      this.o.mirror.onChange(() => this.schedule()),
      this.o.tenants.onChange(() => this.schedule()),
    );
    this.schedule();
  }

  stop(): void {
    this.enabled = false;
    for (const u of this.unsubscribe.splice(0)) u();
    if (this.timer !== undefined) clearTimeout(this.timer);
    this.timer = undefined;
  }

  private schedule(): void {
    if (!this.enabled || this.timer !== undefined) return;
    this.timer = setTimeout(() => {
      this.timer = undefined;
      this.run().catch((err: unknown) =>
        this.o.logger.warn({ err }, 'partition reconcile failed; retried on the next change or period'),
      );
    }, this.o.debounceMs ?? 200);
    this.timer.unref();
  }

  /** One pass (also the periodic one). Passes never overlap: a call during a pass runs once more after it. */
  run(): Promise<PartitionRunReport> {
    if (this.running !== undefined) {
      this.again = true;
      return this.running;
    }
    this.running = this.pass().finally(() => {
      this.running = undefined;
      if (this.again) {
        this.again = false;
        this.schedule();
      }
    });
    return this.running;
  }

  private async pass(): Promise<PartitionRunReport> {
    const { sm, snapshot, mirror, tenants, metrics, logger: log } = this.o;
    if (sm.kind === 'noop') return { added: 0, removed: 0, failed: 0 };
    for (const t of tenants.tenants()) if (t.pkey !== undefined) this.everManaged.add(t.pkey);
    const actual = await sm.listGuids();
    const plan = planPartitions({
      reports: [...snapshot.views()].map((v) => v.report),
      tenantOfPod: (uid) => mirror.reservation(uid)?.tenant,
      pkeyOfTenant: (name) => tenants.tenant(name)?.pkey,
      managedPkeys: this.everManaged,
      actual,
      pool: this.o.pool,
    });
    let added = 0;
    let removed = 0;
    let failed = 0;
    for (const [pkey, guids] of plan.add) {
      this.everManaged.add(pkey);
      try {
        await sm.addGuidsToPKey(pkey, guids);
        added += guids.length;
        metrics.partitionChanges.inc({ op: 'add', result: 'ok' }, guids.length);
        log.info(
          { pkey: `0x${pkey.toString(16).padStart(4, '0')}`, guids },
          'added GUIDs to the tenant PKey',
        );
      } catch (err: unknown) {
        failed += guids.length;
        metrics.partitionChanges.inc({ op: 'add', result: 'failed' }, guids.length);
        log.warn(
          { pkey, err: err instanceof Error ? err.message : String(err) },
          'adding GUIDs to a PKey failed',
        );
      }
    }
    for (const [pkey, guids] of plan.remove) {
      try {
        await sm.removeGuidsFromPKey(pkey, guids);
        removed += guids.length;
        metrics.partitionChanges.inc({ op: 'remove', result: 'ok' }, guids.length);
        log.info(
          { pkey: `0x${pkey.toString(16).padStart(4, '0')}`, guids },
          'removed GUIDs from the tenant PKey',
        );
      } catch (err: unknown) {
        failed += guids.length;
        metrics.partitionChanges.inc({ op: 'remove', result: 'failed' }, guids.length);
        log.warn(
          { pkey, err: err instanceof Error ? err.message : String(err) },
          'removing GUIDs from a PKey failed',
        );
      }
    }
    return { added, removed, failed };
  }
}

/**
 * Keeps every RdmaTenant's status true (core/tenant-status.ts), on the leader replica: a tenant is
 * marked dirty when its usage changes in the ledger mirror or any tenant or namespace changes,
 * and written at most once per `minIntervalMs` (rate limit: a burst of binds is one write), plus
 * a periodic refresh of every tenant. Writes are skipped when nothing but timestamps would change.
 */
import type { Logger } from 'pino';
import type { LedgerMirror } from '../core/ledger-mirror.js';
import { sameTenantStatus, tenantStatus } from '../core/tenant-status.js';
import type { TenantDirectory } from '../core/tenant-catalog.js';
import type { Clock } from '../ports/clock.js';
import type { TenantStatusWriter } from '../ports/tenant-status-writer.js';
import type { LedgerMetrics } from './ledger-metrics.js';

export interface TenantStatusServiceOptions {
  readonly writer: TenantStatusWriter;
  readonly tenants: TenantDirectory;
  readonly mirror: LedgerMirror;
  readonly metrics: LedgerMetrics;
  readonly logger: Logger;
  readonly clock: Clock;
  /** Least time between two writes of one tenant's status, ms. */
  readonly minIntervalMs: number;
}

const isoSeconds = (ms: number) => new Date(ms).toISOString().replace(/\.\d{3}Z$/, 'Z');

export class TenantStatusService {
  private readonly dirty = new Set<string>();
  private readonly lastWrite = new Map<string, number>();
  private timer: NodeJS.Timeout | undefined;
  private flushing: Promise<void> | undefined;
  private enabled = false;
  private readonly unsubscribe: (() => void)[] = [];

  constructor(private readonly o: TenantStatusServiceOptions) {}

  start(): void {
    if (this.enabled) return;
    this.enabled = true;
    this.unsubscribe.push(
      this.o.mirror.addListener({ onTenant: (t) => this.mark(t) }),
      this.o.tenants.onChange(() => this.markAll()),
    );
    this.markAll();
  }

  stop(): void {
    this.enabled = false;
    for (const u of this.unsubscribe.splice(0)) u();
    if (this.timer !== undefined) clearTimeout(this.timer);
    this.timer = undefined;
  }

  markAll(): void {
    for (const t of this.o.tenants.tenants()) this.mark(t.name);
  }

  private mark(tenant: string): void {
    if (!this.enabled || tenant === '' || this.o.tenants.tenant(tenant) === undefined) return;
    this.dirty.add(tenant);
    this.schedule();
  }

  private schedule(): void {
    if (this.timer !== undefined || this.dirty.size === 0 || !this.enabled) return;
    const now = this.o.clock.nowMs();
    let wait = Infinity;
    for (const t of this.dirty)
      wait = Math.min(wait, (this.lastWrite.get(t) ?? 0) + this.o.minIntervalMs - now);
    this.timer = setTimeout(
      () => {
        this.timer = undefined;
        void this.flush();
      },
      Math.max(0, Math.min(wait, this.o.minIntervalMs)),
    );
    this.timer.unref();
  }

  /** Writes every dirty tenant whose rate limit allows it now (others are rescheduled). */
  flush(): Promise<void> {
    this.flushing ??= this.doFlush().finally(() => {
      this.flushing = undefined;
      this.schedule();
    });
    return this.flushing;
  }

  private async doFlush(): Promise<void> {
    const now = this.o.clock.nowMs();
    for (const name of [...this.dirty]) {
      if ((this.lastWrite.get(name) ?? 0) + this.o.minIntervalMs > now) continue;
      this.dirty.delete(name);
      this.lastWrite.set(name, now);
      await this.writeOne(name);
    }
  }

  /** Computes and writes one tenant's status now (no rate limit). */
  async writeOne(name: string): Promise<void> {
    const { tenants, mirror, metrics } = this.o;
    try {
      const result = await this.o.writer.write(name, (current) => {
        const tenant = tenants.tenant(name);
        if (tenant === undefined) return undefined;
        const next = tenantStatus({
          tenant: { ...tenant, generation: current.metadata.generation ?? tenant.generation },
          usage: mirror.tenantUsage(name),
          conflicts: tenants.conflicts(),
          disputed: tenants.disputedNamespaces(),
          previous: current.status,
          nowIso: isoSeconds(this.o.clock.nowMs()),
        });
        return sameTenantStatus(current.status, next) ? undefined : next;
      });
      metrics.statusWrites.inc({ result });
    } catch (err: unknown) {
      metrics.statusWrites.inc({ result: 'failed' });
      this.o.logger.warn(
        { tenant: name, err: err instanceof Error ? err.message : String(err) },
        'writing tenant status failed; retried later',
      );
      this.dirty.add(name);
    }
  }
}

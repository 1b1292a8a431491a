/**
 * Metrics of tenancy, bind, release, reconcile, partitions, preemption and tenant status, on the
 * injected Registry, `rdmasched_extender_` prefixed. The `tenant` label is bounded: tenant names
 * are DNS labels of at most 63 characters and there are as many as RdmaTenant objects, plus
 * `(none)` for pods of no tenant.
 */
import { Counter, Gauge, Histogram, type Registry } from 'prom-client';
import type { LedgerMirror } from '../core/ledger-mirror.js';
import type { TenantDirectory } from '../core/tenant-catalog.js';

export const NO_TENANT_LABEL = '(none)';

export function tenantLabel(name: string | undefined): string {
  return name === undefined || name === '' ? NO_TENANT_LABEL : name;
}

export class LedgerMetrics {
  readonly tenantFilter: Counter<'tenant' | 'outcome' | 'reason'>;
  readonly binds: Counter<'tenant' | 'result' | 'code'>;
  readonly bindDuration: Histogram<'provisioning'>;
  readonly provisionRequests: Counter<'status'>;
  readonly gpuTaken: Counter;
  readonly releases: Counter<'cause'>;
  readonly repairs: Counter<'kind'>;
  readonly reconcileRuns: Counter<'result'>;
  readonly partitionChanges: Counter<'op' | 'result'>;
  readonly preempt: Counter<'result'>;
  readonly statusWrites: Counter<'result'>;
  readonly leader: Gauge;

  constructor(registry: Registry, mirror?: LedgerMirror, tenants?: TenantDirectory) {
    const registers = [registry];
    this.tenantFilter = new Counter({
      name: 'rdmasched_extender_tenant_filter_total',
      help: 'Filter calls per tenant: outcome feasible (some node fits), unschedulable (no node fits) or denied (a tenancy rule rejected every node), with the reason code.',
      labelNames: ['tenant', 'outcome', 'reason'],
      registers,
    });
    this.binds = new Counter({
      name: 'rdmasched_extender_binds_total',
      help: 'Bind calls per tenant: result bound or failed, with the failure code (none when bound).',
      labelNames: ['tenant', 'result', 'code'],
      registers,
    });
    this.bindDuration = new Histogram({
      name: 'rdmasched_extender_bind_duration_seconds',
      help: 'Time to answer a bind, split by whether the node agent had to provision VFs first.',
      labelNames: ['provisioning'],
      buckets: [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
      registers,
    });
    this.provisionRequests = new Counter({
      name: 'rdmasched_extender_provision_requests_total',
      help: 'Provisioning requests sent at bind, by the answer: ready, rejected, failed or timeout.',
      labelNames: ['status'],
      registers,
    });
    this.gpuTaken = new Counter({
      name: 'rdmasched_extender_bind_gpu_taken_total',
      help: 'Bind plans the ledger refused because a GPU they named was promised to another pod (GPU_TAKEN: another replica bound onto the node first), planned again without its GPUs at most twice per bind, then the bind fails (docs/adr/0073).',
      registers,
    });
    this.releases = new Counter({
      name: 'rdmasched_extender_releases_total',
      help: 'Reservations released, by cause: pod_ended, pod_deleted, bind_failed, expired, orphan (reconcile: the pod is gone).',
      labelNames: ['cause'],
      registers,
    });
    this.repairs = new Counter({
      name: 'rdmasched_extender_reconcile_repairs_total',
      help: 'What reconcile repaired: orphan_released (pod gone), expired_released (pending past expiry), marked_bound (pod bound, reservation pending), recorded (pod bound without a reservation), claim_nudged (a resize claim of a pod with no reservation sent back to its agent), gpu_promise_pruned (a GPU promise whose reservation is gone dropped).',
      labelNames: ['kind'],
      registers,
    });
    // Known series start at 0 so that increase() sees the first one too.
    for (const kind of [
      'orphan_released',
      'expired_released',
      'marked_bound',
      'recorded',
      'claim_nudged',
      'gpu_promise_pruned',
    ])
      this.repairs.inc({ kind }, 0);
    for (const cause of ['pod_ended', 'pod_deleted', 'bind_failed', 'expired', 'orphan'])
      this.releases.inc({ cause }, 0);
    this.reconcileRuns = new Counter({
      name: 'rdmasched_extender_reconcile_runs_total',
      help: 'Reconcile passes, by result (ok, failed).',
      labelNames: ['result'],
      registers,
    });
    this.partitionChanges = new Counter({
      name: 'rdmasched_extender_pkey_guid_changes_total',
      help: 'GUIDs added to or removed from tenant PKeys at the subnet manager (op add, remove; result ok, failed).',
      labelNames: ['op', 'result'],
      registers,
    });
    this.preempt = new Counter({
      name: 'rdmasched_extender_preempt_nodes_total',
      help: "Nodes of kube-scheduler's preemption proposals: kept (victims unchanged), trimmed (victims dropped), dropped (the victims would not free the VFs, or tenancy forbids them).",
      labelNames: ['result'],
      registers,
    });
    this.statusWrites = new Counter({
      name: 'rdmasched_extender_tenant_status_writes_total',
      help: 'RdmaTenant status writes, by result (written, unchanged, gone, failed).',
      labelNames: ['result'],
      registers,
    });
    this.leader = new Gauge({
      name: 'rdmasched_extender_leader',
      help: '1 while this replica holds the lock for reconcile, partitions and tenant status.',
      registers,
    });
    if (mirror !== undefined) {
      new Gauge({
        name: 'rdmasched_extender_ledger_reservations',
        help: 'Reservations in the ledger mirror, by state.',
        labelNames: ['state'],
        registers,
        collect() {
          let pending = 0;
          let bound = 0;
          for (const r of mirror.reservations())
            if (r.state === 'bound') bound++;
            else pending++;
          this.set({ state: 'pending' }, pending);
          this.set({ state: 'bound' }, bound);
        },
      });
      new Gauge({
        name: 'rdmasched_extender_tenant_vfs',
        help: 'VFs reserved or in use by each tenant, per link type (from the ledger mirror).',
        labelNames: ['tenant', 'link_type'],
        registers,
        collect() {
          this.reset();
          for (const t of mirror.tenants()) {
            const u = mirror.tenantUsage(t);
            this.set({ tenant: tenantLabel(t), link_type: 'ib' }, u.ib);
            this.set({ tenant: tenantLabel(t), link_type: 'roce' }, u.roce);
          }
        },
      });
    }
    if (tenants !== undefined)
      new Gauge({
        name: 'rdmasched_extender_tenant_quota_vfs',
        help: "Each tenant's VF quota per link type, from its RdmaTenant (no series: not limited).",
        labelNames: ['tenant', 'link_type'],
        registers,
        collect() {
          this.reset();
          for (const t of tenants.tenants())
            for (const lt of ['ib', 'roce'] as const) {
              const q = t.quota[lt];
              if (q !== undefined) this.set({ tenant: tenantLabel(t.name), link_type: lt }, q);
            }
        },
      });
  }
}

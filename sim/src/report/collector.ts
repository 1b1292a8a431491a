/**
 * Everything one run observes, as it happens: the pods' lives (created, scheduled, bound,
 * admitted, released), the checks made at every allocation and ledger change, and the samples
 * the report's percentiles come from. Fed by the job controller, the scheduler's events, the
 * kubelet stand-in and the ledger; turned into the report's sections at the end.
 */
import { LINK_TYPES, type DistanceClass, type LinkType } from '@rdmasched/contracts';
import type { SchedulerEvent } from '../scheduler/protocol.js';
import { distribution, normaliseReason, type Distribution } from './stats.js';
import type { ModeReport, UnschedulableReason } from './report.js';

export interface PodRecord {
  readonly uid: string;
  readonly tenant: string;
  readonly burst: boolean;
  /** Judged for alignment: GPUs and VFs, gpu-locality not `none`. */
  readonly gpuPod: boolean;
  attempts: number;
  lastMessage: string | undefined;
  /** What the scheduler said last about the pod. */
  lastOutcome: 'scheduled' | 'unschedulable' | 'bindFailed' | 'error' | undefined;
  boundAtMs: number | undefined;
  node: string | undefined;
  admitted: boolean;
  eligible: boolean | undefined;
  achieved: DistanceClass | undefined;
  /** What the kubelet gave it (PFs of its VFs, GPUs) and what its reservation named. */
  devices: { pfs: readonly string[]; gpus: readonly string[]; reservedGpus: readonly string[] } | undefined;
}

export interface QuotaBook {
  /** Tenant -> link type -> quota (absent = not limited). */
  readonly quotas: ReadonlyMap<string, Readonly<Partial<Record<LinkType, number>>>>;
}

export class Collector {
  readonly pods = new Map<string, PodRecord>();
  readonly filterMs: number[] = [];
  readonly prioritizeMs: number[] = [];
  readonly bindMs: number[] = [];
  readonly cycleMs: number[] = [];
  readonly candidates: number[] = [];
  admissionFailures = 0;
  reservedGpusTaken = 0;
  bindFailures = 0;
  vfsDoubleAllocated = 0;
  gpusDoubleAllocated = 0;
  quotaViolations = 0;
  readonly quotaRejections = new Map<string, number>();
  readonly doubleAllocations: string[] = [];
  readonly violations: string[] = [];
  vfsCreatedOnDemand = 0;
  provisioningRequests = 0;
  /** Counting VF creation only after the cluster is set up (static provisioning is not on demand). */
  countingProvisioning = false;
  watchErrors = 0;
  /** VFs held (allocated to running pods) per tenant and link type, and their peaks. */
  private readonly held = new Map<string, Record<LinkType, number>>();
  private readonly peakHeld = new Map<string, Record<LinkType, number>>();
  /** Burst bookkeeping. */
  readonly burstBoundAt: number[] = [];
  burstProvisioningRequests = 0;
  inBurst = false;

  constructor(private readonly quota: QuotaBook) {}

  podCreated(uid: string, tenant: string, opts: { burst: boolean; gpuPod: boolean }): void {
    this.pods.set(uid, {
      uid,
      tenant,
      burst: opts.burst,
      gpuPod: opts.gpuPod,
      attempts: 0,
      lastMessage: undefined,
      lastOutcome: undefined,
      boundAtMs: undefined,
      node: undefined,
      admitted: false,
      eligible: undefined,
      achieved: undefined,
      devices: undefined,
    });
  }

  /** A pod got a node (the Binding exists), as seen in the API. */
  podBound(uid: string, node: string, atMs: number): void {
    const p = this.pods.get(uid);
    if (p === undefined || p.boundAtMs !== undefined) return;
    p.boundAtMs = atMs;
    p.node = node;
    if (p.burst) this.burstBoundAt.push(atMs);
  }

  scheduler(e: SchedulerEvent): void {
    if (e.t === 'watchError') {
      this.watchErrors++;
      return;
    }
    const p = this.pods.get(e.uid);
    if (p !== undefined && e.t !== 'bound') p.lastOutcome = e.t;
    switch (e.t) {
      case 'scheduled':
        if (p !== undefined) p.attempts++;
        this.filterMs.push(e.filterMs);
        this.prioritizeMs.push(e.prioritizeMs);
        this.cycleMs.push(e.cycleMs);
        if (e.candidates > 0) this.candidates.push(e.candidates);
        return;
      case 'bound':
        this.bindMs.push(e.bindMs);
        return;
      case 'bindFailed':
        this.bindFailures++;
        if (p !== undefined) p.lastMessage = `binding rejected: ${e.message}`;
        if (/quota/i.test(e.message) && p !== undefined) this.quotaRejected(p.tenant);
        return;
      case 'unschedulable':
        if (p !== undefined) {
          p.attempts++;
          p.lastMessage = e.message;
          if (/ VF quota/.test(e.message)) this.quotaRejected(p.tenant);
        }
        if (e.filterMs > 0) this.filterMs.push(e.filterMs);
        this.cycleMs.push(e.cycleMs);
        return;
      case 'error':
        if (p !== undefined) {
          p.attempts++;
          p.lastMessage = `scheduling error: ${e.message}`;
        }
        return;
    }
  }

  /** A scheduling attempt, binding or job admission refused for the tenant's quota. */
  quotaRejected(tenant: string): void {
    this.quotaRejections.set(tenant, (this.quotaRejections.get(tenant) ?? 0) + 1);
  }

  /** Records a tenant's usage as the ledger or the kubelets count it, and checks it against the quota. */
  checkUsage(source: string, tenant: string, usage: Readonly<Record<LinkType, number>>): void {
    const q = this.quota.quotas.get(tenant);
    const peak = this.peakHeld.get(tenant) ?? { ib: 0, roce: 0 };
    for (const t of LINK_TYPES) {
      peak[t] = Math.max(peak[t], usage[t]);
      const limit = q?.[t];
      if (limit !== undefined && usage[t] > limit) {
        this.quotaViolations++;
        if (this.violations.length < 20)
          this.violations.push(`${source}: tenant ${tenant} holds ${usage[t]} ${t} VFs, quota ${limit}`);
      }
    }
    this.peakHeld.set(tenant, peak);
  }

  /** VFs allocated to (or released from) a running pod of the tenant. */
  allocated(tenant: string, vfs: Readonly<Record<LinkType, number>>, sign: 1 | -1): void {
    const h = this.held.get(tenant) ?? { ib: 0, roce: 0 };
    for (const t of LINK_TYPES) h[t] += sign * vfs[t];
    this.held.set(tenant, h);
    if (sign > 0) this.checkUsage('kubelet', tenant, h);
  }

  doubleAllocation(kind: 'vf' | 'gpu', node: string, device: string, pods: readonly string[]): void {
    if (kind === 'vf') this.vfsDoubleAllocated++;
    else this.gpusDoubleAllocated++;
    if (this.doubleAllocations.length < 20)
      this.doubleAllocations.push(`${kind} ${device} on ${node} held by ${pods.join(' and ')}`);
  }

  vfsCreated(count: number): void {
    if (this.countingProvisioning) this.vfsCreatedOnDemand += count;
  }

  provisionRequested(): void {
    if (!this.countingProvisioning) return;
    this.provisioningRequests++;
    if (this.inBurst) this.burstProvisioningRequests++;
  }

  /** The pod-related sections of the report. */
  sections(): Pick<ModeReport, 'pods' | 'alignment' | 'quota'> & {
    vfs: Pick<ModeReport['vfs'], 'doubleAllocated' | 'gpusDoubleAllocated'>;
    extender: {
      latencyMs: Distribution;
      filterMs: Distribution;
      prioritizeMs: Distribution;
      bindMs: Distribution;
      candidates: Distribution;
    };
    cycleMs: Distribution;
  } {
    const workload = [...this.pods.values()].filter((p) => !p.burst);
    const never = workload.filter((p) => p.boundAtMs === undefined);
    const groups = new Map<string, { pods: number; example: string }>();
    for (const p of never) {
      const msg = p.lastMessage ?? 'never tried (the job ended before the scheduler got to it)';
      const key = normaliseReason(msg);
      const g = groups.get(key) ?? { pods: 0, example: msg };
      g.pods++;
      groups.set(key, g);
    }
    const reasons: UnschedulableReason[] = [...groups.entries()]
      .map(([reason, g]) => ({ reason, pods: g.pods, example: g.example }))
      .sort((a, b) => b.pods - a.pods || a.reason.localeCompare(b.reason));
    const judged = workload.filter((p) => p.gpuPod && p.admitted && p.achieved !== undefined);
    const eligible = judged.filter((p) => p.eligible === true);
    const aligned = (p: PodRecord) => p.achieved === 'PIX' || p.achieved === 'PXB';
    const classes: Record<string, number> = {};
    for (const p of judged)
      if (p.achieved !== undefined) classes[p.achieved] = (classes[p.achieved] ?? 0) + 1;
    const peak: Record<string, Record<string, { held: number; quota: number | null }>> = {};
    for (const [tenant, h] of this.peakHeld) {
      const q = this.quota.quotas.get(tenant);
      peak[tenant] = {};
      for (const t of LINK_TYPES)
        (peak[tenant] as Record<string, unknown>)[t] = { held: h[t], quota: q?.[t] ?? null };
    }
    return {
      pods: {
        created: workload.length,
        placed: workload.filter((p) => p.boundAtMs !== undefined).length,
        running: workload.filter((p) => p.admitted).length,
        unschedulable: { count: never.length, reasons },
        admissionFailures: this.admissionFailures,
        schedulingAttempts: workload.reduce((s, p) => s + p.attempts, 0),
        bindFailures: this.bindFailures,
      },
      alignment: {
        gpuPods: judged.length,
        eligible: eligible.length,
        aligned: eligible.filter(aligned).length,
        share: eligible.length === 0 ? null : eligible.filter(aligned).length / eligible.length,
        alignedTotal: judged.filter(aligned).length,
        classes,
        reservedGpusTaken: this.reservedGpusTaken,
      },
      quota: {
        violations: this.quotaViolations,
        rejections: Object.fromEntries([...this.quotaRejections.entries()].sort()),
        peak,
      },
      vfs: { doubleAllocated: this.vfsDoubleAllocated, gpusDoubleAllocated: this.gpusDoubleAllocated },
      extender: {
        latencyMs: distribution([...this.filterMs, ...this.prioritizeMs.filter((v) => v > 0)]),
        filterMs: distribution(this.filterMs),
        prioritizeMs: distribution(this.prioritizeMs.filter((v) => v > 0)),
        bindMs: distribution(this.bindMs),
        candidates: distribution(this.candidates, 0),
      },
      cycleMs: distribution(this.cycleMs),
    };
  }
}

/**
 * The workload's job controller (what an MPI operator or a training-job controller does): at each
 * job's arrival time it creates the job's k pods in its tenant's namespace; once all of them run,
 * the job runs for its duration and then its pods are deleted; a job whose pods are not all
 * running within the pending timeout is cancelled (its pods deleted). Times are simulated seconds.
 *
 * With `quotaAdmission` it also plays ResourceQuota admission for the count-only baseline: a
 * job's pods are created only while the tenant's VF quota has room for all of them (requests of
 * the tenant's live pods); otherwise the job waits, and is cancelled at the pending timeout.
 */
import {
  ANNOTATIONS,
  GPU_RESOURCE,
  LINK_TYPES,
  SCHEDULER_NAME,
  VF_RESOURCE,
  type LinkType,
} from '@rdmasched/contracts';
import { POD_RESOURCE, type FakeKubeStore, type KubeObject } from '@rdmasched/testkit';
import type { TenantPlan } from '../cluster/tenants.js';
import type { Job, PodShape } from './model.js';

export const JOB_LABEL = 'sim.rdmasched.io/job';
export const TENANT_LABEL = 'rdmasched.io/tenant';

/** Simulated time: wall time since the start, times the scale. */
export class SimClock {
  private readonly t0 = performance.now();
  constructor(readonly timeScale: number) {}
  /** Simulated seconds since the start. */
  now(): number {
    return ((performance.now() - this.t0) / 1000) * this.timeScale;
  }
}

export type JobState =
  'waiting' | 'quota-wait' | 'pending' | 'running' | 'ending' | 'done' | 'cancelled' | 'failed';

export interface JobRecord {
  readonly job: Job;
  state: JobState;
  /** Pod names (created ones). */
  readonly pods: string[];
  readonly uids: string[];
  running: Set<string>;
  /** Simulated second the pods were created / the job started running / it ends. */
  createdAt: number;
  startedAt: number;
  endAt: number;
  /** Why it was cancelled or failed. */
  reason: string;
  /** The state an `ending` job takes once its pods are gone. */
  endState: 'done' | 'cancelled' | 'failed';
}

export interface JobControllerHooks {
  onPodCreated?(pod: KubeObject, job: Job): void;
  onJobStarted?(r: JobRecord): void;
  onJobEnded?(r: JobRecord): void;
  /** A job is held back by ResourceQuota admission (baseline), once per job. */
  onQuotaWait?(r: JobRecord, linkType: LinkType): void;
}

export interface JobControllerOptions {
  readonly store: FakeKubeStore;
  readonly jobs: readonly Job[];
  readonly tenants: readonly TenantPlan[];
  readonly clock: SimClock;
  readonly pendingTimeoutSeconds: number;
  readonly quotaAdmission: boolean;
  readonly hooks: JobControllerHooks;
  /** Wall-clock period of the controller loop. */
  readonly tickMs?: number;
}

export function podManifest(job: Job, index: number, namespace: string): Record<string, unknown> {
  const shape: PodShape = job.perPod;
  const resources: Record<string, string> = { cpu: shape.cpu, memory: shape.memory };
  for (const t of LINK_TYPES) if ((shape.vfs[t] ?? 0) > 0) resources[VF_RESOURCE[t]] = String(shape.vfs[t]);
  if (shape.gpus > 0) resources[GPU_RESOURCE] = String(shape.gpus);
  const annotations: Record<string, string> = {};
  if (shape.minRateGbps !== undefined) annotations[ANNOTATIONS.minRateGbps] = String(shape.minRateGbps);
  if (shape.gpuLocality !== undefined) annotations[ANNOTATIONS.gpuLocality] = shape.gpuLocality;
  return {
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: {
      name: `${job.id}-${index}`,
      namespace,
      labels: { [JOB_LABEL]: job.id, [TENANT_LABEL]: job.tenant },
      annotations,
    },
    spec: {
      schedulerName: SCHEDULER_NAME,
      terminationGracePeriodSeconds: 1,
      restartPolicy: 'Never',
      containers: [
        {
          name: 'worker',
          image: 'rdmasched/sim-worker:1',
          resources: { requests: resources, limits: resources },
        },
      ],
    },
  };
}

function vfDemand(job: Job): Record<LinkType, number> {
  const d: Record<LinkType, number> = { ib: 0, roce: 0 };
  for (const t of LINK_TYPES) d[t] = (job.perPod.vfs[t] ?? 0) * job.pods;
  return d;
}

export class JobController {
  readonly records: JobRecord[];
  private readonly byJob = new Map<string, JobRecord>();
  private readonly tenants = new Map<string, TenantPlan>();
  /** Live VF requests per tenant (ResourceQuota `used`), baseline only. */
  private readonly quotaUsed = new Map<string, Record<LinkType, number>>();
  private next = 0;
  private timer: NodeJS.Timeout | undefined;
  private stopWatch: (() => void) | undefined;

  constructor(private readonly opts: JobControllerOptions) {
    for (const t of opts.tenants) this.tenants.set(t.name, t);
    this.records = opts.jobs.map((job) => ({
      job,
      state: 'waiting',
      pods: [],
      uids: [],
      running: new Set<string>(),
      createdAt: 0,
      startedAt: 0,
      endAt: 0,
      reason: '',
      endState: 'done' as const,
    }));
    for (const r of this.records) this.byJob.set(r.job.id, r);
  }

  start(): void {
    this.stopWatch = this.opts.store.watch(
      POD_RESOURCE,
      { filter: { labels: undefined, fields: [] }, resourceVersion: undefined },
      (type, pod) => this.onPod(type, pod),
    );
    this.timer = setInterval(() => this.tick(), this.opts.tickMs ?? 10);
  }

  stop(): void {
    if (this.timer !== undefined) clearInterval(this.timer);
    this.timer = undefined;
    this.stopWatch?.();
    this.stopWatch = undefined;
  }

  /** Every job ended (done, cancelled or failed) and no arrival is left. */
  get finished(): boolean {
    return this.next >= this.records.length && this.records.every((r) => terminal(r.state));
  }

  /** Jobs not ended yet, by state. */
  counts(): Record<JobState, number> {
    const c: Record<JobState, number> = {
      waiting: 0,
      'quota-wait': 0,
      pending: 0,
      running: 0,
      ending: 0,
      done: 0,
      cancelled: 0,
      failed: 0,
    };
    for (const r of this.records) c[r.state]++;
    return c;
  }

  /** Ends what is left: pending and running jobs are cancelled ("end of run") and their pods deleted. */
  cancelAll(reason: string): void {
    for (const r of this.records) {
      if (terminal(r.state) || r.state === 'ending') continue;
      this.end(r, 'cancelled', reason);
    }
    this.next = this.records.length;
  }

  private tick(): void {
    const now = this.opts.clock.now();
    while (
      this.next < this.records.length &&
      (this.records[this.next] as JobRecord).job.arrivalSeconds <= now
    ) {
      const r = this.records[this.next] as JobRecord;
      this.next++;
      r.createdAt = r.job.arrivalSeconds;
      this.admit(r);
    }
    for (const r of this.records) {
      if (r.state === 'quota-wait') {
        if (now - r.createdAt >= this.opts.pendingTimeoutSeconds) {
          r.state = 'cancelled';
          r.reason = 'exceeded quota (ResourceQuota) until the pending timeout';
          this.opts.hooks.onJobEnded?.(r);
        } else this.admit(r);
      } else if (r.state === 'pending' && now - r.createdAt >= this.opts.pendingTimeoutSeconds) {
        this.end(r, 'cancelled', 'not all pods running within the pending timeout');
      } else if (r.state === 'running' && now >= r.endAt) {
        this.end(r, 'done', '');
      }
    }
  }

  private admit(r: JobRecord): void {
    const tenant = this.tenants.get(r.job.tenant);
    if (this.opts.quotaAdmission && tenant !== undefined) {
      const used = this.quotaUsed.get(tenant.name) ?? { ib: 0, roce: 0 };
      const want = vfDemand(r.job);
      for (const t of LINK_TYPES) {
        const q = tenant.quota[t];
        if (want[t] > 0 && q !== undefined && used[t] + want[t] > q) {
          if (r.state !== 'quota-wait') this.opts.hooks.onQuotaWait?.(r, t);
          r.state = 'quota-wait';
          return;
        }
      }
      for (const t of LINK_TYPES) used[t] += want[t];
      this.quotaUsed.set(tenant.name, used);
    }
    r.state = 'pending';
    const ns = tenant?.namespace ?? r.job.tenant;
    for (let i = 0; i < r.job.pods; i++) {
      const created = this.opts.store.create(POD_RESOURCE, ns, podManifest(r.job, i, ns)).object;
      r.pods.push(created.metadata.name ?? '');
      r.uids.push(created.metadata.uid ?? '');
      this.opts.hooks.onPodCreated?.(created, r.job);
    }
  }

  private end(r: JobRecord, state: 'done' | 'cancelled' | 'failed', reason: string): void {
    r.state = 'ending';
    r.reason = reason;
    const ns = this.tenants.get(r.job.tenant)?.namespace ?? r.job.tenant;
    for (const name of r.pods) {
      try {
        this.opts.store.delete(POD_RESOURCE, ns, name, { gracePeriodSeconds: 1 });
      } catch {
        // already gone
      }
    }
    if (this.opts.quotaAdmission) {
      const used = this.quotaUsed.get(r.job.tenant);
      if (used !== undefined) {
        const want = vfDemand(r.job);
        for (const t of LINK_TYPES) used[t] -= want[t];
      }
    }
    r.endState = state;
    this.finishIfGone(r);
  }

  private finishIfGone(r: JobRecord): void {
    if (r.state !== 'ending') return;
    const ns = this.tenants.get(r.job.tenant)?.namespace ?? r.job.tenant;
    const left = r.pods.some((name) => this.opts.store.tryGet(POD_RESOURCE, ns, name) !== undefined);
    if (left) return;
    r.state = r.endState;
    this.opts.hooks.onJobEnded?.(r);
  }

  private onPod(type: string, pod: KubeObject): void {
    const jobId = pod.metadata.labels?.[JOB_LABEL];
    if (jobId === undefined) return;
    const r = this.byJob.get(jobId);
    if (r === undefined) return;
    const uid = pod.metadata.uid ?? '';
    if (type === 'DELETED') {
      r.running.delete(uid);
      this.finishIfGone(r);
      return;
    }
    const phase = (pod['status'] as { phase?: string } | undefined)?.phase;
    if (phase === 'Running' && r.state === 'pending') {
      r.running.add(uid);
      if (r.running.size === r.job.pods) {
        r.state = 'running';
        r.startedAt = this.opts.clock.now();
        r.endAt = r.startedAt + r.job.durationSeconds;
        this.opts.hooks.onJobStarted?.(r);
      }
    } else if (phase === 'Failed' && (r.state === 'pending' || r.state === 'running')) {
      this.end(r, 'failed', (pod['status'] as { message?: string } | undefined)?.message ?? 'a pod failed');
    }
  }
}

function terminal(s: JobState): boolean {
  return s === 'done' || s === 'cancelled' || s === 'failed';
}

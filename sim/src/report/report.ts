/**
 * The simulation report: what one run measured, per scheduler (the extender, and with --baseline
 * the count-only baseline on the same cluster and workload). `SimReport` is the JSON written by
 * `--json`; `formatReport` the text printed at the end. Fields may be added; none is renamed or
 * removed without a new apiVersion.
 */
import type { Distribution } from './stats.js';

export interface UnschedulableReason {
  /** The causes without per-node counts (see normaliseReason). */
  readonly reason: string;
  readonly pods: number;
  /** One full message as the scheduler wrote it. */
  readonly example: string;
}

export interface ModeReport {
  readonly mode: 'extender' | 'baseline';
  readonly scheduler: {
    readonly description: string;
    readonly thread: 'worker' | 'inline';
    readonly percentageOfNodesToScore: number;
    readonly cycleMs: Distribution;
  };
  readonly jobs: {
    readonly total: number;
    readonly done: number;
    readonly cancelled: number;
    readonly failed: number;
  };
  readonly pods: {
    /** Workload pods created (the burst's are counted under throughput). */
    readonly created: number;
    /** Pods bound to a node. */
    readonly placed: number;
    /** Pods the kubelet started (devices allocated). */
    readonly running: number;
    /** Pods never placed, grouped by their last FailedScheduling reason. */
    readonly unschedulable: { readonly count: number; readonly reasons: readonly UnschedulableReason[] };
    /** Pods the kubelet could not admit (device allocation failed). */
    readonly admissionFailures: number;
    readonly schedulingAttempts: number;
    readonly bindFailures: number;
  };
  readonly alignment: {
    /** GPU pods judged (GPUs and VFs, gpu-locality not `none`) that started. */
    readonly gpuPods: number;
    /** Of those, pods for which an aligned (PIX/PXB) placement existed when they were placed. */
    readonly eligible: number;
    /** Of the eligible pods, those that got one. */
    readonly aligned: number;
    /** aligned / eligible, or null when nothing was eligible. */
    readonly share: number | null;
    /** GPU pods that got an aligned placement, eligible or not. */
    readonly alignedTotal: number;
    /** Achieved distance class -> pods. */
    readonly classes: Readonly<Record<string, number>>;
    /**
     * Pods whose reservation named a GPU another pod held already when the kubelet admitted them
     * (the extender planned with GPU state that was out of date); they got the free GPUs nearest
     * to their VFs instead.
     */
    readonly reservedGpusTaken: number;
  };
  readonly vfs: {
    /** VFs created by the agents on demand (sriov_numvfs writes during the run). */
    readonly provisionedOnDemand: number;
    readonly provisioningRequests: number;
    /** VFs created before the run, statically (baseline: the device plugin's fixed pool). */
    readonly provisionedStatically: number;
    /** Allocations of a VF already held by another pod (must be 0). */
    readonly doubleAllocated: number;
    /** Allocations of a GPU already held by another pod (must be 0). */
    readonly gpusDoubleAllocated: number;
  };
  readonly quota: {
    /** Moments a tenant held more VFs than its quota (must be 0). */
    readonly violations: number;
    /** Placements refused for quota, per tenant. */
    readonly rejections: Readonly<Record<string, number>>;
    /** Most VFs each tenant held at once, against its quota. */
    readonly peak: Readonly<Record<string, Readonly<Record<string, { held: number; quota: number | null }>>>>;
  };
  readonly throughput: {
    /** Sustained SchedulingThroughput of the burst (pods bound per second); null without a burst. */
    readonly podsPerSecond: number | null;
    readonly burstPods: number;
    readonly bound: number;
    readonly seconds: number | null;
    /** Pods bound in each whole second of the burst. */
    readonly perSecond: readonly number[];
    /** Provisioning requests the agents answered during the burst (pods that found no ready VF). */
    readonly provisioningRequests: number;
    /** VFs readied before the burst (set-up, not measured). */
    readonly warmedVfs: number;
    readonly method: string;
  };
  readonly extender: {
    /** Extender HTTP calls (filter and prioritize) as the scheduler measured them. */
    readonly latencyMs: Distribution;
    readonly filterMs: Distribution;
    readonly prioritizeMs: Distribution;
    readonly bindMs: Distribution;
    /** Candidate nodes per filter call. */
    readonly candidates: Distribution;
  } | null;
  readonly timing: {
    readonly setupSeconds: number;
    readonly workloadSeconds: number;
    readonly burstSeconds: number;
  };
}

export interface SimReport extends ModeReport {
  readonly apiVersion: 'rdmasched.io/v1';
  readonly kind: 'SimReport';
  readonly generatedAt: string;
  readonly settings: {
    readonly nodes: number;
    readonly jobs: number;
    readonly seed: number;
    readonly durationSeconds: number;
    readonly timeScale: number;
    readonly vfsPerPf: number;
    readonly store: 'memory' | 'redis';
    readonly presets: Readonly<Record<string, number>>;
  };
  readonly cluster: {
    readonly nodesByPreset: Readonly<Record<string, number>>;
    readonly tenants: readonly { name: string; quota: Readonly<Record<string, number>> }[];
    readonly memoryPerNodeKiB: number | null;
  };
  readonly endpoints: { readonly extender: string; readonly agentMetrics: string; readonly api: string };
  readonly baseline?: ModeReport;
  readonly comparison?: {
    /** alignment.share of each, and the difference in percentage points. */
    readonly alignedShare: {
      readonly extender: number | null;
      readonly baseline: number | null;
      readonly gainPoints: number | null;
    };
    readonly placed: { readonly extender: number; readonly baseline: number };
  };
}

const pct = (v: number | null) => (v === null ? 'n/a' : `${(v * 100).toFixed(1)}%`);
const ms = (d: Distribution) =>
  d.p50 === null ? 'n/a' : `p50 ${d.p50} ms, p99 ${d.p99 ?? 'n/a'} ms (${d.count})`;

function modeLines(r: ModeReport): string[] {
  const lines: string[] = [];
  lines.push(`  scheduler     ${r.scheduler.description}`);
  lines.push(
    `  jobs          ${r.jobs.total} (done ${r.jobs.done}, cancelled ${r.jobs.cancelled}, failed ${r.jobs.failed})`,
  );
  lines.push(
    `  pods          ${r.pods.created} created, ${r.pods.placed} placed, ${r.pods.running} ran, ${r.pods.unschedulable.count} never placed, ${r.pods.admissionFailures} admission failures`,
  );
  for (const u of r.pods.unschedulable.reasons.slice(0, 5))
    lines.push(`                  ${u.pods} x ${u.reason}`);
  lines.push(
    `  alignment     ${r.alignment.aligned} of ${r.alignment.eligible} GPU pods with an aligned placement available got one (${pct(r.alignment.share)}); ${r.alignment.alignedTotal} of ${r.alignment.gpuPods} GPU pods aligned`,
  );
  const classes = Object.entries(r.alignment.classes)
    .map(([c, n]) => `${c} ${n}`)
    .join(', ');
  if (classes !== '') lines.push(`                  classes: ${classes}`);
  lines.push(
    `  VFs           ${r.vfs.provisionedOnDemand} created on demand (${r.vfs.provisioningRequests} requests), ${r.vfs.provisionedStatically} static; given twice: ${r.vfs.doubleAllocated} VFs, ${r.vfs.gpusDoubleAllocated} GPUs`,
  );
  const rej = Object.entries(r.quota.rejections)
    .map(([t, n]) => `${t} ${n}`)
    .join(', ');
  lines.push(`  quota         violations ${r.quota.violations}; rejections: ${rej === '' ? 'none' : rej}`);
  lines.push(
    r.throughput.podsPerSecond === null
      ? '  throughput    no burst'
      : `  throughput    ${r.throughput.podsPerSecond.toFixed(1)} pods/s sustained (${r.throughput.bound} of ${r.throughput.burstPods} burst pods bound in ${r.throughput.seconds?.toFixed(2) ?? '?'} s)`,
  );
  if (r.extender !== null) {
    lines.push(`  extender      filter+prioritize calls ${ms(r.extender.latencyMs)}`);
    lines.push(
      `                bind ${ms(r.extender.bindMs)}; candidates per filter p50 ${r.extender.candidates.p50 ?? 'n/a'}`,
    );
  }
  lines.push(`  cycle         ${ms(r.scheduler.cycleMs)}`);
  return lines;
}

export function formatReport(r: SimReport): string {
  const lines: string[] = [];
  const presets = Object.entries(r.cluster.nodesByPreset)
    .map(([p, n]) => `${n} ${p}`)
    .join(', ');
  lines.push(`rdmasched simulation (seed ${r.settings.seed}, ${r.settings.store} store)`);
  lines.push(`  cluster       ${r.settings.nodes} nodes: ${presets}; ${r.cluster.tenants.length} tenants`);
  lines.push(
    `  time          setup ${r.timing.setupSeconds.toFixed(1)} s, workload ${r.timing.workloadSeconds.toFixed(1)} s, burst ${r.timing.burstSeconds.toFixed(1)} s`,
  );
  lines.push('');
  lines.push('rdmasched (extender):');
  lines.push(...modeLines(r));
  if (r.baseline !== undefined) {
    lines.push('');
    lines.push('count-only baseline (device plugins, no extender):');
    lines.push(...modeLines(r.baseline));
  }
  if (r.comparison !== undefined) {
    const g = r.comparison.alignedShare.gainPoints;
    lines.push('');
    lines.push(
      `comparison    aligned when possible: rdmasched ${pct(r.comparison.alignedShare.extender)} vs baseline ${pct(r.comparison.alignedShare.baseline)} (${g === null ? 'n/a' : `${g >= 0 ? '+' : ''}${g.toFixed(1)} points`})`,
    );
  }
  return lines.join('\n');
}

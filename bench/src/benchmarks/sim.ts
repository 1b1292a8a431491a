/**
 * The one-machine simulation as a benchmark (sim/README.md).
 *
 * Throughput: scheduler_perf's method (anchors.md §4.2): a burst of pods created at once with no
 * kubelet running them, measured from the first creation to the last binding, set-up excluded;
 * every pod goes through the kube-scheduler stand-in (in-tree filters, `percentageOfNodesToScore`
 * sampling) and the real extender over HTTP (filter, prioritize, bind with its reservation and
 * the Binding on the fake API server). Before the burst the agents ready VFs on some PFs (set-up),
 * so the burst measures the scheduling path, not the simulated kernels creating VFs. Clusters of
 * 500 and 5,000 nodes from the default preset mix; target at 5,000: 810 pods/s (scheduler_perf
 * SchedulingBasic/5000Nodes_50000Pods threshold); published extender setups reach 111 pods/s at
 * 500 nodes (kube-scheduler-wasm-extension PR #63).
 *
 * Placement quality: the default workload on the default cluster, with rdmasched and then with the
 * count-only baseline (device plugins, static VFs, no extender) on the same seed: the share of GPU
 * pods that got a PIX/PXB placement when one existed, and the gain in percentage points.
 */
import { pino } from 'pino';
import { parseConfig, simulate, SILENT_PROGRESS, type SimConfig, type SimReport } from '@rdmasched/sim';
import type { Benchmark, BenchContext } from '../benchmark.js';
import type { Figure } from '../results.js';

function config(args: string[]): SimConfig {
  const parsed = parseConfig([...args, '--plain'], {});
  if (parsed.help) throw new Error('unexpected --help');
  return parsed.config;
}

async function run(args: string[], ctx: BenchContext): Promise<SimReport> {
  ctx.log(`sim ${args.join(' ')}`);
  const t = performance.now();
  const { report } = await simulate(config(args), {
    logger: pino({ level: 'silent' }),
    progress: SILENT_PROGRESS,
  });
  ctx.log(`  done in ${((performance.now() - t) / 1000).toFixed(1)} s`);
  global.gc?.();
  return report;
}

export const simBenchmark: Benchmark = {
  name: 'sim',
  description:
    'one-machine simulation: pods/s through the extender at 500 and 5,000 nodes; alignment vs the count-only baseline',
  async run(ctx) {
    const figures: Figure[] = [];
    const notes: string[] = [];
    const sizes = ctx.quick ? [100, 500] : [500, 5000];
    for (const nodes of sizes) {
      const burst = Math.min(5000, 2 * nodes);
      const r = await run(
        ['--nodes', String(nodes), '--jobs', '0', '--burst', String(burst), '--seed', '1'],
        ctx,
      );
      const key = `${nodes}_nodes`;
      const pps = r.throughput.podsPerSecond ?? 0;
      // Every figure of a cluster size is named sim.WHAT.N_nodes.
      const figure = (what: string, value: number, unit: string, better: Figure['better']) =>
        figures.push({ name: `sim.${what}.${key}`, value, unit, better });
      figures.push({
        name: `sim.pods_per_s.${key}`,
        value: pps,
        unit: 'pods/s',
        better: 'higher',
        ...(nodes === 5000 ? { target: 810 } : {}),
      });
      figure('burst_bound', r.throughput.bound, 'pods', 'higher');
      if (r.extender !== null) {
        figure('extender_call_p50_ms', r.extender.latencyMs.p50 ?? 0, 'ms', 'lower');
        figure('extender_call_p99_ms', r.extender.latencyMs.p99 ?? 0, 'ms', 'lower');
        figure('bind_p50_ms', r.extender.bindMs.p50 ?? 0, 'ms', 'lower');
        figure('candidates_p50', r.extender.candidates.p50 ?? 0, 'nodes', 'lower');
      }
      figure('cycle_p50_ms', r.scheduler.cycleMs.p50 ?? 0, 'ms', 'lower');
      figure('setup_s', Number(r.timing.setupSeconds.toFixed(1)), 's', 'lower');
      if (r.cluster.memoryPerNodeKiB !== null)
        figure('heap_per_node_kib', r.cluster.memoryPerNodeKiB, 'KiB', 'lower');
      notes.push(
        `${nodes} nodes: ${r.throughput.bound}/${burst} one-VF pods bound in ${r.throughput.seconds?.toFixed(2) ?? '?'} s ` +
          `(${pps.toFixed(1)} pods/s; ${r.throughput.warmedVfs} VFs readied before, ${r.throughput.provisioningRequests} provisioned during); ` +
          `extender calls p50 ${r.extender?.latencyMs.p50 ?? '?'} ms p99 ${r.extender?.latencyMs.p99 ?? '?'} ms, ` +
          `${r.extender?.candidates.p50 ?? '?'} candidates per filter; scheduler in a ${r.scheduler.thread} thread.`,
      );
    }
    const q = await run(['--baseline', '--seed', '1'], ctx);
    const ext = q.alignment.share;
    const base = q.baseline?.alignment.share ?? null;
    figures.push({
      name: 'sim.aligned_share.extender',
      value: ext ?? 0,
      unit: 'ratio',
      better: 'higher',
      target: 0.99,
    });
    figures.push({ name: 'sim.aligned_share.baseline', value: base ?? 0, unit: 'ratio', better: 'higher' });
    figures.push({
      name: 'sim.aligned_gain_points',
      value: q.comparison?.alignedShare.gainPoints ?? 0,
      unit: 'points',
      better: 'higher',
    });
    figures.push({
      name: 'sim.reserved_gpus_taken',
      value: q.alignment.reservedGpusTaken,
      unit: 'pods',
      better: 'lower',
    });
    notes.push(
      `placement quality (default workload, ${q.settings.nodes} nodes, ${q.settings.jobs} jobs, seed 1): ` +
        `rdmasched ${q.alignment.aligned}/${q.alignment.eligible} GPU pods aligned when an aligned placement existed, ` +
        `baseline ${q.baseline?.alignment.aligned ?? '?'}/${q.baseline?.alignment.eligible ?? '?'}; ` +
        `${q.alignment.reservedGpusTaken} pods found a reserved GPU already taken (the extender planned with stale GPU state).`,
    );
    notes.push(
      'Method: scheduler_perf SchedulingThroughput (burst of pods, no kubelets, set-up excluded); pods bound / seconds from the first creation to the last binding.',
    );
    return { figures, notes };
  },
};

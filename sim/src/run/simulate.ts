/**
 * A whole simulation: the workload (generated with the seed, or read from a trace), the node mix,
 * the tenants; the run with the rdmasched extender; with `baseline`, the same cluster and workload
 * again with the count-only baseline; the report.
 */
import { readFile, writeFile } from 'node:fs/promises';
import type { Logger } from 'pino';
import { LINK_TYPES, type LinkType } from '@rdmasched/contracts';
import { presetSpec, walkDevices } from '@rdmasched/node-agent';
import type { SimConfig } from '../config.js';
import { SIM_ERROR_CODES, SimError } from '../errors.js';
import { planNodes, type NodePlan } from '../cluster/node-mix.js';
import { planTenants, type TenantPlan } from '../cluster/tenants.js';
import type { Progress } from '../progress.js';
import type { ModeReport, SimReport } from '../report/report.js';
import { generateJobs } from '../workload/generator.js';
import { formatTrace, parseTrace, TraceError, type Job } from '../workload/model.js';
import { createRng } from '../workload/random.js';
import type { SimCluster } from './cluster.js';
import { runMode } from './run-mode.js';

export interface Simulation {
  readonly report: SimReport;
  /** The extender-mode cluster, still running when `keepRunning` was asked (for --hold). */
  readonly cluster: SimCluster | undefined;
}

/** VFs a preset's SR-IOV PFs can hold, per link type, with at most `vfsPerPf` per PF. */
export function presetVfCapacity(preset: string, vfsPerPf: number): Record<LinkType, number> {
  const out: Record<LinkType, number> = { ib: 0, roce: 0 };
  for (const { device } of walkDevices(presetSpec(preset))) {
    if (device.type !== 'nic' || device.sriov === null) continue;
    out[device.linkType] += Math.min(vfsPerPf, device.sriov.totalVfs);
  }
  return out;
}

export async function loadJobs(config: SimConfig): Promise<Job[]> {
  if (config.traceFile === undefined) {
    const mean = config.jobs === 0 ? 1 : config.durationSeconds / config.jobs;
    return generateJobs(createRng(config.seed).fork('workload'), {
      jobs: config.jobs,
      meanInterArrivalSeconds: mean,
    });
  }
  let text: string;
  try {
    text = await readFile(config.traceFile, 'utf8');
  } catch (err: unknown) {
    throw new SimError(
      SIM_ERROR_CODES.INVALID_TRACE,
      `--trace ${config.traceFile}: ${(err as Error).message}`,
      {
        cause: err,
      },
    );
  }
  try {
    return parseTrace(text);
  } catch (err: unknown) {
    if (err instanceof TraceError)
      throw new SimError(SIM_ERROR_CODES.INVALID_TRACE, `--trace ${config.traceFile}: ${err.message}`, {
        cause: err,
      });
    throw err;
  }
}

function clusterCapacity(plans: readonly NodePlan[], vfsPerPf: number): Record<LinkType, number> {
  const perPreset = new Map<string, Record<LinkType, number>>();
  const total: Record<LinkType, number> = { ib: 0, roce: 0 };
  for (const p of plans) {
    let c = perPreset.get(p.preset);
    if (c === undefined) perPreset.set(p.preset, (c = presetVfCapacity(p.preset, vfsPerPf)));
    for (const t of LINK_TYPES) total[t] += c[t];
  }
  return total;
}

export async function simulate(
  config: SimConfig,
  deps: { readonly logger: Logger; readonly progress: Progress; readonly keepRunning?: boolean },
): Promise<Simulation> {
  const jobs = await loadJobs(config);
  if (config.writeTraceFile !== undefined) await writeFile(config.writeTraceFile, formatTrace(jobs));
  const plans = planNodes(config.nodes, config.presets, config.seed);
  const capacity = clusterCapacity(plans, config.vfsPerPf);
  const tenants: TenantPlan[] = planTenants(jobs, capacity);

  // The baseline first, so that the extender's cluster can keep serving afterwards (--hold).
  let baseline: ModeReport | undefined;
  if (config.baseline) {
    const b = await runMode({
      mode: 'baseline',
      config,
      capacity,
      plans,
      tenants,
      jobs,
      logger: deps.logger,
      progress: deps.progress,
    });
    await b.cluster.stop();
    baseline = b.report;
  }
  const main = await runMode({
    mode: 'extender',
    config,
    capacity,
    plans,
    tenants,
    jobs,
    logger: deps.logger,
    progress: deps.progress,
  });
  const endpoints = {
    extender: main.cluster.extender?.url ?? '',
    agentMetrics: `${main.cluster.metrics.url}/metrics`,
    api: main.cluster.api.url,
  };
  if (deps.keepRunning !== true) await main.cluster.stop();

  const byPreset: Record<string, number> = {};
  for (const p of plans) byPreset[p.preset] = (byPreset[p.preset] ?? 0) + 1;
  const share = (r: ModeReport) => r.alignment.share;
  const report: SimReport = {
    apiVersion: 'rdmasched.io/v1',
    kind: 'SimReport',
    generatedAt: new Date().toISOString(),
    settings: {
      nodes: config.nodes,
      jobs: jobs.length,
      seed: config.seed,
      durationSeconds: config.durationSeconds,
      timeScale: config.timeScale,
      vfsPerPf: config.vfsPerPf,
      store: config.redisUrl === undefined ? 'memory' : 'redis',
      presets: Object.fromEntries(config.presets),
    },
    cluster: {
      nodesByPreset: byPreset,
      tenants: tenants.map((t) => ({ name: t.name, quota: { ...t.quota } })),
      memoryPerNodeKiB: main.heapPerNodeKiB === null ? null : Math.round(main.heapPerNodeKiB),
    },
    endpoints,
    ...main.report,
    ...(baseline === undefined
      ? {}
      : {
          baseline,
          comparison: {
            alignedShare: {
              extender: share(main.report),
              baseline: share(baseline),
              gainPoints:
                share(main.report) === null || share(baseline) === null
                  ? null
                  : Number((((share(main.report) ?? 0) - (share(baseline) ?? 0)) * 100).toFixed(1)),
            },
            placed: { extender: main.report.pods.placed, baseline: baseline.pods.placed },
          },
        }),
  };
  return { report, cluster: deps.keepRunning === true ? main.cluster : undefined };
}

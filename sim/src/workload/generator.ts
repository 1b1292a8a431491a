/**
 * A seeded workload generator: tenants with job mixes, Poisson arrivals, log-normal durations.
 * The default mix is modelled on what RDMA clusters run: rail-aligned 8-GPU training gangs on
 * InfiniBand, MPI jobs without GPUs, single-GPU RoCE inference pods, and RoCE storage clients.
 */
import type { Job, PodShape } from './model.js';
import type { Rng } from './random.js';

export interface JobClass {
  readonly name: string;
  /** Relative frequency within the tenant. */
  readonly weight: number;
  readonly podsMin: number;
  readonly podsMax: number;
  readonly perPod: PodShape;
  /** Median duration in simulated seconds. */
  readonly medianSeconds: number;
}

export interface TenantMix {
  readonly tenant: string;
  /** Share of all job arrivals. */
  readonly share: number;
  readonly classes: readonly JobClass[];
}

export const DEFAULT_MIX: readonly TenantMix[] = [
  {
    tenant: 'ai-train',
    share: 0.35,
    classes: [
      {
        name: 'train-8gpu',
        weight: 3,
        podsMin: 1,
        podsMax: 4,
        medianSeconds: 40,
        perPod: { vfs: { ib: 8 }, gpus: 8, cpu: '32', memory: '256Gi', gpuLocality: 'preferred' },
      },
      {
        name: 'train-2gpu',
        weight: 2,
        podsMin: 1,
        podsMax: 4,
        medianSeconds: 25,
        perPod: { vfs: { ib: 2 }, gpus: 2, cpu: '8', memory: '64Gi', gpuLocality: 'required' },
      },
    ],
  },
  {
    tenant: 'hpc-mpi',
    share: 0.3,
    classes: [
      {
        name: 'mpi',
        weight: 1,
        podsMin: 2,
        podsMax: 8,
        medianSeconds: 30,
        perPod: { vfs: { ib: 1 }, gpus: 0, cpu: '16', memory: '32Gi', minRateGbps: 200 },
      },
    ],
  },
  {
    tenant: 'inference',
    share: 0.25,
    classes: [
      {
        name: 'serve-1gpu',
        weight: 1,
        podsMin: 1,
        podsMax: 2,
        medianSeconds: 20,
        perPod: { vfs: { roce: 1 }, gpus: 1, cpu: '4', memory: '16Gi', gpuLocality: 'preferred' },
      },
    ],
  },
  {
    tenant: 'storage',
    share: 0.1,
    classes: [
      {
        name: 'client',
        weight: 1,
        podsMin: 1,
        podsMax: 2,
        medianSeconds: 15,
        perPod: { vfs: { roce: 2 }, gpus: 0, cpu: '2', memory: '4Gi', gpuLocality: 'none' },
      },
    ],
  },
];

export interface GenerateOptions {
  readonly jobs: number;
  /** Mean seconds between arrivals (Poisson process). */
  readonly meanInterArrivalSeconds: number;
  readonly mix?: readonly TenantMix[];
  /** Spread of durations (log-normal sigma). */
  readonly durationSigma?: number;
}

export function generateJobs(rng: Rng, opts: GenerateOptions): Job[] {
  const mix = opts.mix ?? DEFAULT_MIX;
  const sigma = opts.durationSigma ?? 0.5;
  const jobs: Job[] = [];
  let t = 0;
  for (let i = 0; i < opts.jobs; i++) {
    t += rng.exponential(opts.meanInterArrivalSeconds);
    const tenant = rng.weighted(mix.map((m) => ({ item: m, weight: m.share })));
    const cls = rng.weighted(tenant.classes.map((c) => ({ item: c, weight: c.weight })));
    jobs.push({
      id: `j${i + 1}`,
      tenant: tenant.tenant,
      arrivalSeconds: Math.round(t * 1000) / 1000,
      durationSeconds: Math.max(1, Math.round(rng.logNormal(cls.medianSeconds, sigma) * 1000) / 1000),
      pods: rng.int(cls.podsMin, cls.podsMax),
      perPod: cls.perPod,
    });
  }
  return jobs;
}

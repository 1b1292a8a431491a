import type { Benchmark } from '../benchmark.js';
import { bindBenchmark } from './bind.js';
import { discoveryBenchmark } from './discovery.js';
import { extenderBenchmark } from './extender.js';
import { simBenchmark } from './sim.js';

/**
 * Every benchmark `npm run bench` runs, in order. Add one import and one entry per benchmark.
 */
export const BENCHMARKS: readonly Benchmark[] = [
  extenderBenchmark,
  bindBenchmark,
  discoveryBenchmark,
  simBenchmark,
];

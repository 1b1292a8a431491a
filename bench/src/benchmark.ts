import type { Figure } from './results.js';

/** What a benchmark gets from the runner. */
export interface BenchContext {
  /** Progress lines for the person watching (stderr). */
  readonly log: (line: string) => void;
  /** `--quick`: fewer iterations, for smoke tests. Figures are still real measurements. */
  readonly quick: boolean;
}

/** One benchmark of `npm run bench`; `--only <name>` selects it. */
export interface Benchmark {
  readonly name: string;
  readonly description: string;
  run(ctx: BenchContext): Promise<{ figures: Figure[]; notes: string[] }>;
}

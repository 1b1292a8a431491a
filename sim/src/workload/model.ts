/**
 * The simulated workload: tenants submit jobs; a job is a gang of k identical pods (an MPI job or
 * a distributed training run) that arrive together, run for a while and end, releasing their VFs
 * and GPUs. Times are in simulated seconds from the start of the run.
 *
 * Trace files (`--trace FILE`) are JSON Lines, one job per line, in exactly this shape:
 *   {"id":"j1","tenant":"ai-train","arrivalSeconds":0.5,"durationSeconds":30,"pods":2,
 *    "perPod":{"vfs":{"ib":8},"gpus":8,"cpu":"32","memory":"256Gi","gpuLocality":"required"}}
 * Blank lines and lines starting with `#` are ignored.
 */
import { Type, type Static } from '@sinclair/typebox';
import { TypeCompiler } from '@sinclair/typebox/compiler';

export const PodShapeSchema = Type.Object(
  {
    /** VFs per link type. At least one link type with a positive count. */
    vfs: Type.Object(
      {
        ib: Type.Optional(Type.Integer({ minimum: 0, maximum: 64 })),
        roce: Type.Optional(Type.Integer({ minimum: 0, maximum: 64 })),
      },
      { additionalProperties: false },
    ),
    gpus: Type.Integer({ minimum: 0, maximum: 16 }),
    cpu: Type.String({ pattern: '^[0-9]+(\\.[0-9]+)?m?$' }),
    memory: Type.String({ pattern: '^[0-9]+(Ki|Mi|Gi|Ti)?$' }),
    minRateGbps: Type.Optional(Type.Number({ minimum: 0, maximum: 3200 })),
    gpuLocality: Type.Optional(
      Type.Union([Type.Literal('required'), Type.Literal('preferred'), Type.Literal('none')]),
    ),
  },
  { additionalProperties: false },
);
export type PodShape = Static<typeof PodShapeSchema>;

export const JobSchema = Type.Object(
  {
    id: Type.String({ pattern: '^[a-z0-9]([-a-z0-9]{0,40}[a-z0-9])?$' }),
    tenant: Type.String({ pattern: '^[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?$' }),
    arrivalSeconds: Type.Number({ minimum: 0 }),
    durationSeconds: Type.Number({ exclusiveMinimum: 0 }),
    pods: Type.Integer({ minimum: 1, maximum: 1024 }),
    perPod: PodShapeSchema,
  },
  { additionalProperties: false },
);
export type Job = Static<typeof JobSchema>;

const jobCheck = TypeCompiler.Compile(JobSchema);

export class TraceError extends Error {
  constructor(
    readonly line: number,
    message: string,
  ) {
    super(`trace line ${line}: ${message}`);
    this.name = 'TraceError';
  }
}

/** Parses a JSON Lines trace; throws TraceError naming the line and field of the first problem. */
export function parseTrace(text: string): Job[] {
  const jobs: Job[] = [];
  const ids = new Set<string>();
  text.split('\n').forEach((raw, i) => {
    const line = raw.trim();
    if (line === '' || line.startsWith('#')) return;
    let value: unknown;
    try {
      value = JSON.parse(line);
    } catch {
      throw new TraceError(i + 1, 'not valid JSON');
    }
    if (!jobCheck.Check(value)) {
      const first = jobCheck.Errors(value).First();
      throw new TraceError(i + 1, `${first?.path || '/'}: ${first?.message ?? 'invalid job'}`);
    }
    const vfs = (value.perPod.vfs.ib ?? 0) + (value.perPod.vfs.roce ?? 0);
    if (vfs === 0) throw new TraceError(i + 1, '/perPod/vfs: a job must request at least one VF');
    if (ids.has(value.id)) throw new TraceError(i + 1, `/id: job ${value.id} appears twice`);
    ids.add(value.id);
    jobs.push(value);
  });
  return jobs.sort((a, b) => a.arrivalSeconds - b.arrivalSeconds || a.id.localeCompare(b.id));
}

export function formatTrace(jobs: readonly Job[]): string {
  return jobs.map((j) => JSON.stringify(j)).join('\n') + '\n';
}

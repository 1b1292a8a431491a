/** `rdmasched-bench rdma run` as a person types it: usage errors, the matrix file, the kubeconfig, --dry-run. */
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseAllDocuments } from 'yaml';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createRdmaCommand } from '../../src/commands/rdma.js';
import {
  createRunCommand,
  DEFAULT_TUNING,
  newRunId,
  type RunCommandDeps,
} from '../../src/rdma-run/command.js';
import { KubeClusterApi } from '../../src/rdma-run/cluster-api.js';
import { RUN_EXIT } from '../../src/rdma-run/run-cluster.js';

let dir = '';
let out: string[] = [];
let err: string[] = [];
beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'rdma-run-cmd-'));
  out = [];
  err = [];
});
afterEach(async () => {
  await rm(dir, { recursive: true, force: true });
});

function command(env: NodeJS.ProcessEnv = {}) {
  const deps: RunCommandDeps = {
    io: { out: (t) => out.push(t), err: (t) => err.push(t) },
    env,
    cwd: () => dir,
    now: () => new Date('2026-11-26T10:15:00Z'),
    onInterrupt: () => () => undefined,
    stderrIsTTY: false,
    tuning: DEFAULT_TUNING,
    newRunId: () => '20261126-101500-abcd',
    makeApi: (kc, retry) => new KubeClusterApi(kc, retry),
  };
  return createRunCommand(deps);
}

describe('rdmasched-bench rdma run', () => {
  it('is an rdma subcommand with its own help', async () => {
    const rdma = createRdmaCommand([command()], {
      out: (t) => out.push(t),
      err: (t) => err.push(t),
    });
    expect(await rdma.run(['run', '--help'])).toBe(RUN_EXIT.ok);
    expect(out.join('\n')).toContain('usage: rdmasched-bench rdma run --pairs SERVER:CLIENT');
  });

  it('lists every bad option at once, each by name, and exits 2', async () => {
    const code = await command().run([
      '--pairs',
      'node-a:node-a',
      '--sizes',
      '64k',
      '--image-pull-policy',
      'Sometimes',
      '--toleration',
      'nvidia.com/gpu:Sometimes',
      '--cpu',
      'lots',
      '--annotation',
      'novalue',
      '-n',
      'Team_A',
    ]);
    expect(code).toBe(RUN_EXIT.usage);
    const text = err.join('\n');
    for (const m of [
      '--pairs[0]: node-a:node-a names one node twice; add --same-node',
      '--sizes[0]: must be a whole number',
      '--image-pull-policy must be Always, IfNotPresent or Never, got "Sometimes"',
      '--toleration "nvidia.com/gpu:Sometimes": effect must be NoSchedule, PreferNoSchedule, NoExecute',
      '--cpu "lots" is not a Kubernetes quantity',
      '--annotation "novalue": must be KEY=VALUE',
      '--namespace "Team_A" is not a namespace name',
    ])
      expect(text).toContain(m);
  });

  it('reads a matrix file, naming the file and field of a bad value', async () => {
    const file = join(dir, 'matrix.yaml');
    await writeFile(file, 'pairs:\n  - node-a:node-b\nqps: [1, many]\nlinktype: ib\n');
    expect(await command().run(['--matrix', file, '--dry-run'])).toBe(RUN_EXIT.usage);
    expect(err.join('\n')).toContain(`${file}: qps[1]: must be a whole number from 1 to 16384, got "many"`);
    expect(err.join('\n')).toContain(`${file}: unknown field "linktype"`);
  });

  it('--dry-run prints the manifests of every pair without a cluster', async () => {
    const file = join(dir, 'matrix.json');
    await writeFile(
      file,
      JSON.stringify({ pairs: ['node-a:node-b', { server: 'any', client: 'any' }], tests: ['read-bw'] }),
    );
    expect(await command().run(['--matrix', file, '--qps', '2', '--dry-run', '-n', 'team-a'])).toBe(
      RUN_EXIT.ok,
    );
    const pods = parseAllDocuments(out.join('\n')).map(
      (d) =>
        d.toJS() as {
          metadata: { name: string; namespace: string };
          spec: { containers: { command: string[] }[] };
        },
    );
    expect(pods.map((p) => p.metadata.name)).toEqual([
      'rdma-bench-20261126-101500-abcd-p1-server',
      'rdma-bench-20261126-101500-abcd-p1-client',
      'rdma-bench-20261126-101500-abcd-p2-server',
      'rdma-bench-20261126-101500-abcd-p2-client',
    ]);
    expect(pods[0]?.metadata.namespace).toBe('team-a');
    expect(pods[1]?.spec.containers[0]?.command[2]).toContain(
      'run 1 18515 ib_read_bw -F -p 18515 -s 65536 --report_gbits -q 2',
    );
  });

  it('without a kubeconfig: a clear error and exit 6', async () => {
    expect(await command({ HOME: dir }).run(['--pairs', 'a:b', '--kubeconfig', join(dir, 'missing')])).toBe(
      RUN_EXIT.cluster,
    );
    expect(err.join('\n')).toMatch(/^error: cannot load the kubeconfig .*missing/m);
  });

  it('run ids are sortable and valid in names and label values', () => {
    const id = newRunId(new Date('2026-11-26T10:15:00Z'));
    expect(id).toMatch(/^20261126-101500-[0-9a-f]{4}$/);
  });
});

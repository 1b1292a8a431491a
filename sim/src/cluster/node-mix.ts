/**
 * Which simulated host each node is: presets drawn with the seed, by weight. The same seed and
 * weights give the same cluster, whatever else the run does (the draw has its own RNG stream).
 */
import type { NodeReport } from '@rdmasched/contracts';
import { VF_RESOURCE, GPU_RESOURCE, LINK_TYPES } from '@rdmasched/contracts';
import { createRng } from '../workload/random.js';

export interface NodePlan {
  readonly name: string;
  readonly preset: string;
}

/** Node names sort in creation order: `node-0001` .. `node-5000`. */
export function nodeName(i: number, total: number): string {
  return `node-${String(i + 1).padStart(Math.max(4, String(total).length), '0')}`;
}

export function planNodes(count: number, presets: ReadonlyMap<string, number>, seed: number): NodePlan[] {
  const rng = createRng(seed).fork('node-mix');
  const items = [...presets.entries()].filter(([, w]) => w > 0).map(([item, weight]) => ({ item, weight }));
  return Array.from({ length: count }, (_, i) => ({ name: nodeName(i, count), preset: rng.weighted(items) }));
}

/** CPU, memory of each preset's machine (what its kubelet would advertise, minus reservations). */
const MACHINE: Readonly<Record<string, { cpu: string; memory: string }>> = {
  'dgx-h100': { cpu: '220', memory: '1900Gi' },
  'reference-host': { cpu: '124', memory: '1000Gi' },
  'roce-single': { cpu: '15', memory: '120Gi' },
  'sriov-disabled': { cpu: '30', memory: '250Gi' },
};

export const PRESET_LABEL = 'sim.rdmasched.io/preset';

/**
 * The v1.Node a kubelet would register for the host: allocatable cpu, memory, pods and GPUs
 * (the NVIDIA device plugin's count). `staticVfs` adds the VF resources a device plugin
 * advertises for statically created VFs (the count-only baseline); the extender mode leaves them
 * out (VFs are the extender's, `ignoredByScheduler`).
 */
export function nodeObject(
  plan: NodePlan,
  report: NodeReport,
  staticVfs?: Readonly<Record<(typeof LINK_TYPES)[number], number>>,
): Record<string, unknown> {
  const machine = MACHINE[plan.preset] ?? { cpu: '32', memory: '256Gi' };
  const allocatable: Record<string, string> = {
    cpu: machine.cpu,
    memory: machine.memory,
    pods: '110',
    [GPU_RESOURCE]: String(report.gpus.length),
  };
  if (staticVfs !== undefined) for (const t of LINK_TYPES) allocatable[VF_RESOURCE[t]] = String(staticVfs[t]);
  return {
    apiVersion: 'v1',
    kind: 'Node',
    metadata: {
      name: plan.name,
      labels: {
        'kubernetes.io/hostname': plan.name,
        'kubernetes.io/os': 'linux',
        [PRESET_LABEL]: plan.preset,
      },
    },
    spec: {},
    status: {
      capacity: { ...allocatable },
      allocatable,
      conditions: [{ type: 'Ready', status: 'True', reason: 'KubeletReady' }],
    },
  };
}

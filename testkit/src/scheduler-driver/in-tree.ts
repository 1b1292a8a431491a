/**
 * The in-tree filter and score plugins the driver runs before the extender, reduced to what RDMA
 * pods exercise: NodeUnschedulable, NodeName, NodeSelector, NodeResourcesFit (filter), and
 * NodeResourcesFit LeastAllocated + NodeResourcesBalancedAllocation (score, 0..100 each, weight 1).
 * Differences from kube-scheduler are listed in testkit/README.md.
 */
import type { CachedNode } from './node-cache.js';
import type { PodLike, ResourceList } from './pod-resources.js';

export const MAX_NODE_SCORE = 100;

export interface PodInfo {
  readonly pod: PodLike;
  readonly requests: ResourceList;
  readonly nodeSelector?: Record<string, string>;
  readonly nodeName?: string;
}

/** Returns undefined when the node fits, else the upstream-style reason. */
export function inTreeFilter(
  info: PodInfo,
  node: CachedNode,
  ignored: ReadonlySet<string>,
): string | undefined {
  if (node.node.spec?.unschedulable === true) return 'node(s) were unschedulable';
  if (info.nodeName !== undefined && info.nodeName !== '' && info.nodeName !== node.name)
    return "node(s) didn't match the requested node name";
  if (info.nodeSelector !== undefined) {
    const labels = node.node.metadata.labels ?? {};
    for (const [k, v] of Object.entries(info.nodeSelector))
      if (labels[k] !== v) return "node(s) didn't match Pod's node affinity/selector";
  }
  const pods = node.allocatable.get('pods');
  if (pods !== undefined && node.pods.size + 1 > pods) return 'Too many pods';
  for (const [res, want] of info.requests) {
    if (want <= 0 || ignored.has(res)) continue;
    const free = (node.allocatable.get(res) ?? 0) - (node.requested.get(res) ?? 0);
    if (want > free) return `Insufficient ${res}`;
  }
  return undefined;
}

function fraction(node: CachedNode, res: string, extra: number): number {
  const alloc = node.allocatable.get(res) ?? 0;
  if (alloc <= 0) return 1;
  return Math.min(1, ((node.requested.get(res) ?? 0) + extra) / alloc);
}

/** LeastAllocated over cpu and memory (equal weights), plus BalancedAllocation. */
export function inTreeScore(info: PodInfo, node: CachedNode): number {
  const cpu = fraction(node, 'cpu', info.requests.get('cpu') ?? 0);
  const mem = fraction(node, 'memory', info.requests.get('memory') ?? 0);
  const least = Math.trunc(((1 - cpu) * MAX_NODE_SCORE + (1 - mem) * MAX_NODE_SCORE) / 2);
  const mean = (cpu + mem) / 2;
  const std = Math.sqrt(((cpu - mean) ** 2 + (mem - mean) ** 2) / 2);
  const balanced = Math.trunc((1 - std) * MAX_NODE_SCORE);
  return least + balanced;
}

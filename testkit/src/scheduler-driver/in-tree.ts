/**
 * The in-tree filter and score plugins the driver runs before the extender, reduced to what RDMA
 * pods exercise: NodeUnschedulable, NodeName, NodeSelector, NodeResourcesFit (filter), and
 * NodeResourcesFit LeastAllocated + NodeResourcesBalancedAllocation (score, 0..100 each, weight 1).
 * Differences from kube-scheduler are listed in testkit/README.md.
 */
import { ResourceIndex, type CachedNode, type InternedRequests } from './node-cache.js';
import type { PodLike } from './pod-resources.js';

export const MAX_NODE_SCORE = 100;

export interface PodInfo {
  readonly pod: PodLike;
  readonly requests: InternedRequests;
  readonly nodeSelector?: Record<string, string>;
  readonly nodeName?: string;
}

/** In-tree rejection codes; `reasonText` gives kube-scheduler's wording. */
export const FIT = 0;
export const UNSCHEDULABLE_NODE = -1;
export const NODE_NAME_MISMATCH = -2;
export const SELECTOR_MISMATCH = -3;
export const TOO_MANY_PODS = -4;
/** Codes >= INSUFFICIENT_BASE mean "Insufficient <resource index = code - INSUFFICIENT_BASE>". */
export const INSUFFICIENT_BASE = 1;

export function reasonText(code: number, resources: ResourceIndex): string {
  switch (code) {
    case UNSCHEDULABLE_NODE:
      return 'node(s) were unschedulable';
    case NODE_NAME_MISMATCH:
      return "node(s) didn't match the requested node name";
    case SELECTOR_MISMATCH:
      return "node(s) didn't match Pod's node affinity/selector";
    case TOO_MANY_PODS:
      return 'Too many pods';
    default:
      return `Insufficient ${resources.nameOf(code - INSUFFICIENT_BASE)}`;
  }
}

/**
 * FIT when the node fits, else a rejection code (see above). `ignored[r]` is 1 for resources the
 * fit check skips (extender-managed with `ignoredByScheduler: true`).
 */
export function inTreeFilter(info: PodInfo, node: CachedNode, ignored: Uint8Array): number {
  if (node.node.spec?.unschedulable === true) return UNSCHEDULABLE_NODE;
  if (info.nodeName !== undefined && info.nodeName !== '' && info.nodeName !== node.name)
    return NODE_NAME_MISMATCH;
  if (info.nodeSelector !== undefined) {
    const labels = node.node.metadata.labels ?? {};
    for (const [k, v] of Object.entries(info.nodeSelector)) if (labels[k] !== v) return SELECTOR_MISMATCH;
  }
  const alloc = node.allocatable;
  const used = node.requested;
  const podsCap = alloc[ResourceIndex.PODS] ?? 0;
  if (podsCap > 0 && node.pods.size + 1 > podsCap) return TOO_MANY_PODS;
  const { index, amount } = info.requests;
  for (let i = 0; i < index.length; i++) {
    const r = index[i] as number;
    const want = amount[i] as number;
    if (want <= 0 || ignored[r] === 1) continue;
    if (want > (alloc[r] ?? 0) - (used[r] ?? 0)) return INSUFFICIENT_BASE + r;
  }
  return FIT;
}

function fraction(node: CachedNode, r: number, extra: number): number {
  const alloc = node.allocatable[r] ?? 0;
  if (alloc <= 0) return 1;
  return Math.min(1, ((node.requested[r] ?? 0) + extra) / alloc);
}

function requestOf(info: PodInfo, r: number): number {
  const { index, amount } = info.requests;
  for (let i = 0; i < index.length; i++) if (index[i] === r) return amount[i] as number;
  return 0;
}

/** LeastAllocated over cpu and memory (equal weights), plus BalancedAllocation. */
export function inTreeScore(info: PodInfo, node: CachedNode): number {
  const cpu = fraction(node, ResourceIndex.CPU, requestOf(info, ResourceIndex.CPU));
  const mem = fraction(node, ResourceIndex.MEMORY, requestOf(info, ResourceIndex.MEMORY));
  const least = Math.trunc(((1 - cpu) * MAX_NODE_SCORE + (1 - mem) * MAX_NODE_SCORE) / 2);
  const mean = (cpu + mem) / 2;
  const std = Math.sqrt(((cpu - mean) ** 2 + (mem - mean) ** 2) / 2);
  const balanced = Math.trunc((1 - std) * MAX_NODE_SCORE);
  return least + balanced;
}

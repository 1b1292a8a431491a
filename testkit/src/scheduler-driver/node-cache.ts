import { parseQuantity } from './quantity.js';
import { podRequests, type PodLike, type ResourceList } from './pod-resources.js';

/** The parts of a v1.Node the driver reads. */
export interface NodeLike {
  metadata: { name: string; labels?: Record<string, string> };
  spec?: { unschedulable?: boolean };
  status?: { allocatable?: Record<string, string | number> };
}

export interface CachedNode {
  readonly name: string;
  node: NodeLike;
  allocatable: ResourceList;
  /** Sum of the requests of the pods assumed or bound here. */
  readonly requested: ResourceList;
  readonly pods: Map<string, ResourceList>;
}

/**
 * kube-scheduler's cache, reduced to what fit checks and scores need: per node, allocatable and the
 * requests of the pods placed there (assumed before binding, kept after).
 */
export class NodeCache {
  private readonly byName = new Map<string, CachedNode>();
  private readonly podNode = new Map<string, string>();
  private ordered: CachedNode[] = [];
  private dirty = false;

  upsertNode(node: NodeLike): void {
    const allocatable: ResourceList = new Map();
    for (const [k, v] of Object.entries(node.status?.allocatable ?? {})) allocatable.set(k, parseQuantity(v));
    const existing = this.byName.get(node.metadata.name);
    if (existing !== undefined) {
      existing.node = node;
      existing.allocatable = allocatable;
      return;
    }
    this.byName.set(node.metadata.name, {
      name: node.metadata.name,
      node,
      allocatable,
      requested: new Map(),
      pods: new Map(),
    });
    this.dirty = true;
  }

  removeNode(name: string): void {
    const n = this.byName.get(name);
    if (n === undefined) return;
    for (const uid of n.pods.keys()) this.podNode.delete(uid);
    this.byName.delete(name);
    this.dirty = true;
  }

  /** Nodes in a stable order (insertion), for the rotating start index. */
  list(): readonly CachedNode[] {
    if (this.dirty) {
      this.ordered = [...this.byName.values()];
      this.dirty = false;
    }
    return this.ordered;
  }

  get(name: string): CachedNode | undefined {
    return this.byName.get(name);
  }

  /** Counts the pod's requests on the node (assume). Idempotent per pod UID. */
  assume(uid: string, pod: PodLike, nodeName: string): void {
    if (this.podNode.has(uid)) return;
    const n = this.byName.get(nodeName);
    if (n === undefined) return;
    const req = podRequests(pod);
    n.pods.set(uid, req);
    for (const [k, v] of req) n.requested.set(k, (n.requested.get(k) ?? 0) + v);
    this.podNode.set(uid, nodeName);
  }

  /** Removes the pod's requests (the pod ended, was deleted, or its binding failed). */
  forget(uid: string): void {
    const nodeName = this.podNode.get(uid);
    if (nodeName === undefined) return;
    this.podNode.delete(uid);
    const n = this.byName.get(nodeName);
    const req = n?.pods.get(uid);
    if (n === undefined || req === undefined) return;
    n.pods.delete(uid);
    for (const [k, v] of req) n.requested.set(k, (n.requested.get(k) ?? 0) - v);
  }

  nodeOf(uid: string): string | undefined {
    return this.podNode.get(uid);
  }

  get size(): number {
    return this.byName.size;
  }
}

import { parseQuantity } from './quantity.js';
import { podRequests, type PodLike, type ResourceList } from './pod-resources.js';

/** The parts of a v1.Node the driver reads. */
export interface NodeLike {
  metadata: { name: string; labels?: Record<string, string> };
  spec?: { unschedulable?: boolean };
  status?: { allocatable?: Record<string, string | number> };
}

/**
 * Resource names interned to small indices, so a fit check reads typed arrays instead of maps.
 * `cpu`, `memory` and `pods` always have indices 0, 1 and 2.
 */
export class ResourceIndex {
  private readonly byName = new Map<string, number>([
    ['cpu', 0],
    ['memory', 1],
    ['pods', 2],
  ]);
  private readonly names = ['cpu', 'memory', 'pods'];

  static readonly CPU = 0;
  static readonly MEMORY = 1;
  static readonly PODS = 2;

  /** The index of `name`, interning it on first sight. */
  intern(name: string): number {
    let i = this.byName.get(name);
    if (i === undefined) {
      i = this.names.length;
      this.byName.set(name, i);
      this.names.push(name);
    }
    return i;
  }

  /** The index of `name`, or -1 when it was never seen. */
  find(name: string): number {
    return this.byName.get(name) ?? -1;
  }

  nameOf(index: number): string {
    return this.names[index] ?? `#${index}`;
  }

  get size(): number {
    return this.names.length;
  }
}

/** A pod's requests as parallel arrays of resource indices and amounts (base units). */
export interface InternedRequests {
  readonly index: Int32Array;
  readonly amount: Float64Array;
}

export function internRequests(resources: ResourceIndex, list: ResourceList): InternedRequests {
  const index = new Int32Array(list.size);
  const amount = new Float64Array(list.size);
  let i = 0;
  for (const [name, value] of list) {
    index[i] = resources.intern(name);
    amount[i] = value;
    i++;
  }
  return { index, amount };
}

export interface CachedNode {
  readonly name: string;
  /** The name as a JSON string literal, for building extender requests without re-encoding. */
  readonly nameJson: string;
  /** Position in `NodeCache.list()` (changes only when nodes are added or removed). */
  position: number;
  node: NodeLike;
  /** Allocatable per resource index (0 when the node does not have it). */
  allocatable: Float64Array;
  /** Sum of the requests of the pods assumed or bound here, per resource index. */
  requested: Float64Array;
  /** Pods assumed or bound here and their requests. */
  readonly pods: Map<string, InternedRequests>;
}

const INITIAL_RESOURCES = 16;

/**
 * kube-scheduler's cache, reduced to what fit checks and scores need: per node, allocatable and the
 * requests of the pods placed there (assumed before binding, kept after).
 */
export class NodeCache {
  readonly resources = new ResourceIndex();
  private readonly byName = new Map<string, CachedNode>();
  private readonly podNode = new Map<string, string>();
  private ordered: CachedNode[] = [];
  private dirty = false;
  private width = INITIAL_RESOURCES;

  private widen(needed: number): void {
    if (needed <= this.width) return;
    let w = this.width;
    while (w < needed) w *= 2;
    for (const n of this.byName.values()) {
      const a = new Float64Array(w);
      a.set(n.allocatable);
      n.allocatable = a;
      const r = new Float64Array(w);
      r.set(n.requested);
      n.requested = r;
    }
    this.width = w;
  }

  /** Interns a pod's requests, making room in every node's arrays for new resources. */
  requestsOf(pod: PodLike): InternedRequests {
    const r = internRequests(this.resources, podRequests(pod));
    this.widen(this.resources.size);
    return r;
  }

  upsertNode(node: NodeLike): void {
    const entries = Object.entries(node.status?.allocatable ?? {}).map(
      ([k, v]) => [this.resources.intern(k), parseQuantity(v)] as const,
    );
    this.widen(this.resources.size);
    const allocatable = new Float64Array(this.width);
    for (const [i, v] of entries) allocatable[i] = v;
    const existing = this.byName.get(node.metadata.name);
    if (existing !== undefined) {
      existing.node = node;
      existing.allocatable = allocatable;
      return;
    }
    this.byName.set(node.metadata.name, {
      name: node.metadata.name,
      nameJson: JSON.stringify(node.metadata.name),
      position: -1,
      node,
      allocatable,
      requested: new Float64Array(this.width),
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
      this.ordered.forEach((n, i) => (n.position = i));
      this.dirty = false;
    }
    return this.ordered;
  }

  get(name: string): CachedNode | undefined {
    return this.byName.get(name);
  }

  /** Counts the pod's requests on the node (a bound pod seen by the informer). Idempotent per UID. */
  assumePod(uid: string, pod: PodLike, nodeName: string): void {
    if (!this.podNode.has(uid)) this.assume(uid, this.requestsOf(pod), nodeName);
  }

  /** Counts interned requests on the node (assume). Idempotent per UID. */
  assume(uid: string, req: InternedRequests, nodeName: string): void {
    if (this.podNode.has(uid)) return;
    const n = this.byName.get(nodeName);
    if (n === undefined) return;
    n.pods.set(uid, req);
    for (let i = 0; i < req.index.length; i++) {
      const r = req.index[i] as number;
      n.requested[r] = (n.requested[r] ?? 0) + (req.amount[i] ?? 0);
    }
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
    for (let i = 0; i < req.index.length; i++) {
      const r = req.index[i] as number;
      n.requested[r] = (n.requested[r] ?? 0) - (req.amount[i] ?? 0);
    }
  }

  nodeOf(uid: string): string | undefined {
    return this.podNode.get(uid);
  }

  /** Requested amount of `resource` on the node (0 when unknown). */
  requestedOf(name: string, resource: string): number {
    const i = this.resources.find(resource);
    const n = this.byName.get(name);
    return i < 0 || n === undefined ? 0 : (n.requested[i] ?? 0);
  }

  get size(): number {
    return this.byName.size;
  }
}

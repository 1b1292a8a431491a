import { parseQuantity } from './quantity.js';

/** The parts of a v1.Pod the driver reads. */
export interface PodLike {
  metadata?: { name?: string; namespace?: string; uid?: string; annotations?: Record<string, string> };
  spec?: {
    schedulerName?: string;
    nodeName?: string;
    containers?: ContainerLike[];
    initContainers?: ContainerLike[];
    overhead?: Record<string, string | number>;
  };
}

export interface ContainerLike {
  name?: string;
  restartPolicy?: string;
  resources?: { requests?: Record<string, string | number>; limits?: Record<string, string | number> };
}

export type ResourceList = Map<string, number>;

function containerRequests(c: ContainerLike): ResourceList {
  const out: ResourceList = new Map();
  const req = c.resources?.requests ?? {};
  const lim = c.resources?.limits ?? {};
  for (const [k, v] of Object.entries(req)) out.set(k, parseQuantity(v));
  // A limit without a request defaults the request to the limit (API defaulting).
  for (const [k, v] of Object.entries(lim)) if (!out.has(k)) out.set(k, parseQuantity(v));
  return out;
}

function addInto(acc: ResourceList, r: ResourceList): void {
  for (const [k, v] of r) acc.set(k, (acc.get(k) ?? 0) + v);
}

function maxInto(acc: ResourceList, r: ResourceList): void {
  for (const [k, v] of r) acc.set(k, Math.max(acc.get(k) ?? 0, v));
}

/**
 * Effective pod request as kube-scheduler computes it (`computePodResourceRequest`): the larger of
 * (sum of app containers + restartable sidecar init containers) and, for each init container, its
 * request plus the sidecars started before it; plus pod overhead.
 */
export function podRequests(pod: PodLike): ResourceList {
  const total: ResourceList = new Map();
  for (const c of pod.spec?.containers ?? []) addInto(total, containerRequests(c));
  const sidecars: ResourceList = new Map();
  const initMax: ResourceList = new Map();
  for (const c of pod.spec?.initContainers ?? []) {
    const r = containerRequests(c);
    if (c.restartPolicy === 'Always') {
      addInto(sidecars, r);
      addInto(total, r);
      maxInto(initMax, sidecars);
    } else {
      const withSidecars: ResourceList = new Map(sidecars);
      addInto(withSidecars, r);
      maxInto(initMax, withSidecars);
    }
  }
  maxInto(total, initMax);
  for (const [k, v] of Object.entries(pod.spec?.overhead ?? {}))
    total.set(k, (total.get(k) ?? 0) + parseQuantity(v));
  return total;
}

/** True when any container or init container requests or limits one of `names` (IsInterested). */
export function requestsAnyOf(pod: PodLike, names: ReadonlySet<string>): boolean {
  const all = [...(pod.spec?.containers ?? []), ...(pod.spec?.initContainers ?? [])];
  return all.some((c) =>
    [...Object.keys(c.resources?.requests ?? {}), ...Object.keys(c.resources?.limits ?? {})].some((k) =>
      names.has(k),
    ),
  );
}

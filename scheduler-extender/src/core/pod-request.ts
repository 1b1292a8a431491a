/**
 * What a pod asks of rdmasched, read from its `v1.Pod` JSON: VFs per link type, GPUs, minimum
 * link rate and GPU-locality strictness.
 *
 * Counts follow Kubernetes' effective-request rule (k8s.io/component-helpers `PodRequests`):
 *   total = max( sum(regular containers) + sum(sidecars),
 *                max over init containers i of (request(i) + sidecars started before i) )
 *           + pod overhead
 * where a sidecar is an init container with `restartPolicy: Always` (its own "init" value is the
 * running sum of sidecars up to and including it). For extended resources a missing request
 * defaults to the limit (the API server defaults it that way; they must be equal).
 *
 * Outcomes are data: `ok`, `invalid` (a value the user can fix: a bad annotation or quantity;
 * the extender rejects every node with the message), or `malformed` (not a v1.Pod at all; HTTP
 * 400 naming the field).
 */
import {
  ANNOTATIONS,
  GPU_LOCALITY_MODES,
  GPU_RESOURCE,
  LINK_TYPES,
  VF_RESOURCE,
  type GpuLocality,
  type LinkType,
} from '@rdmasched/contracts';
import { field, isObject, type JsonObject } from './json-fields.js';
import { describe, parseWholeQuantity } from './quantity.js';

/** Most VFs one pod may ask for per link type (a reservation's per-PF maximum). */
export const MAX_VFS_PER_LINK_TYPE = 4096;
/** Most GPUs one pod may ask for (a node report's maximum). */
export const MAX_GPUS = 256;
/** Highest minimum rate accepted, in Gb/s (a node report's maximum port rate). */
export const MAX_RATE_GBPS = 100_000;

export interface PodRequest {
  /** VFs per link type. */
  readonly vfs: Readonly<Record<LinkType, number>>;
  /** Sum of `vfs`; 0 means the pod is not rdmasched's business. */
  readonly totalVfs: number;
  readonly gpus: number;
  /** Minimum port rate in Gb/s for every VF; 0 when the pod states none. */
  readonly minRateGbps: number;
  readonly gpuLocality: GpuLocality;
}

export interface PodIdentity {
  readonly namespace: string;
  readonly name: string;
  readonly uid: string;
}

export type PodRequestOutcome =
  | { readonly kind: 'ok'; readonly request: PodRequest; readonly pod: PodIdentity }
  | { readonly kind: 'invalid'; readonly message: string; readonly pod: PodIdentity }
  | { readonly kind: 'malformed'; readonly field: string; readonly message: string };

/** A request for nothing: pods without VFs pass through the extender untouched. */
export const EMPTY_REQUEST: PodRequest = Object.freeze({
  vfs: Object.freeze({ ib: 0, roce: 0 }),
  totalVfs: 0,
  gpus: 0,
  minRateGbps: 0,
  gpuLocality: 'preferred',
});

const RESOURCES = [...LINK_TYPES.map((t) => VF_RESOURCE[t]), GPU_RESOURCE];
const MAXIMA = [...LINK_TYPES.map(() => MAX_VFS_PER_LINK_TYPE), MAX_GPUS];

class Malformed extends Error {
  constructor(
    readonly field: string,
    message: string,
  ) {
    super(message);
  }
}
class Invalid extends Error {}

function optionalObject(parent: JsonObject, name: string, path: string): JsonObject | undefined {
  const v = field(parent, name);
  if (v === undefined || v === null) return undefined;
  if (!isObject(v)) throw new Malformed(`${path}.${name}`, `must be an object, not ${describe(v)}`);
  return v;
}

function optionalArray(parent: JsonObject, name: string, path: string): unknown[] {
  const v = field(parent, name);
  if (v === undefined || v === null) return [];
  if (!Array.isArray(v)) throw new Malformed(`${path}.${name}`, `must be an array, not ${describe(v)}`);
  return v;
}

function optionalString(parent: JsonObject | undefined, name: string, path: string): string {
  if (parent === undefined) return '';
  const v = field(parent, name);
  if (v === undefined || v === null) return '';
  if (typeof v !== 'string') throw new Malformed(`${path}.${name}`, `must be a string, not ${describe(v)}`);
  return v;
}

/** Requests of one container for RESOURCES, in order; a request defaults to the limit. */
function containerRequests(container: unknown, path: string): number[] {
  if (!isObject(container)) throw new Malformed(path, `must be an object, not ${describe(container)}`);
  const resources = optionalObject(container, 'resources', path);
  const out = RESOURCES.map(() => 0);
  if (resources === undefined) return out;
  const requests = optionalObject(resources, 'requests', `${path}.resources`);
  const limits = optionalObject(resources, 'limits', `${path}.resources`);
  RESOURCES.forEach((name, i) => {
    const fromRequests = requests !== undefined && Object.hasOwn(requests, name);
    const raw = fromRequests ? requests[name] : limits !== undefined ? limits[name] : undefined;
    if (raw === undefined || raw === null) return;
    const q = parseWholeQuantity(raw, MAXIMA[i] ?? 0);
    if (!q.ok) {
      const where = `${path}.resources.${fromRequests ? 'requests' : 'limits'}["${name}"]`;
      throw new Invalid(`${where}: ${q.message}`);
    }
    out[i] = q.value;
  });
  return out;
}

function isSidecar(container: unknown): boolean {
  return isObject(container) && field(container, 'restartPolicy') === 'Always';
}

function podIdentity(pod: JsonObject): PodIdentity {
  const metadata = optionalObject(pod, 'metadata', 'Pod');
  return {
    namespace: optionalString(metadata, 'namespace', 'Pod.metadata'),
    name: optionalString(metadata, 'name', 'Pod.metadata'),
    uid: optionalString(metadata, 'uid', 'Pod.metadata'),
  };
}

function parseAnnotations(pod: JsonObject): Pick<PodRequest, 'minRateGbps' | 'gpuLocality'> {
  const metadata = optionalObject(pod, 'metadata', 'Pod');
  const annotations =
    metadata === undefined ? undefined : optionalObject(metadata, 'annotations', 'Pod.metadata');
  let minRateGbps = 0;
  let gpuLocality: GpuLocality = 'preferred';
  const rate = annotations?.[ANNOTATIONS.minRateGbps];
  if (rate !== undefined && rate !== null) {
    const text = typeof rate === 'string' ? rate.trim() : undefined;
    const value = text !== undefined && /^\d+(\.\d+)?$/.test(text) ? Number(text) : NaN;
    if (!(value >= 0 && value <= MAX_RATE_GBPS)) {
      throw new Invalid(
        `annotation ${ANNOTATIONS.minRateGbps}=${JSON.stringify(rate)} must be a number of Gb/s between 0 and ${MAX_RATE_GBPS}, e.g. "200"`,
      );
    }
    minRateGbps = value;
  }
  const locality = annotations?.[ANNOTATIONS.gpuLocality];
  if (locality !== undefined && locality !== null) {
    if (typeof locality !== 'string' || !(GPU_LOCALITY_MODES as readonly string[]).includes(locality)) {
      throw new Invalid(
        `annotation ${ANNOTATIONS.gpuLocality}=${JSON.stringify(locality)} must be one of ${GPU_LOCALITY_MODES.join(', ')}`,
      );
    }
    gpuLocality = locality as GpuLocality;
  }
  return { minRateGbps, gpuLocality };
}

/** Reads a pod's request. Never throws. */
export function podRequestFrom(pod: unknown): PodRequestOutcome {
  if (!isObject(pod))
    return { kind: 'malformed', field: 'Pod', message: `must be a v1.Pod object, not ${describe(pod)}` };
  let identity: PodIdentity;
  try {
    identity = podIdentity(pod);
  } catch (err: unknown) {
    if (err instanceof Malformed) return { kind: 'malformed', field: err.field, message: err.message };
    throw err;
  }
  try {
    const spec = optionalObject(pod, 'spec', 'Pod');
    if (spec === undefined) return { kind: 'malformed', field: 'Pod.spec', message: 'is required' };
    const containers = optionalArray(spec, 'containers', 'Pod.spec');
    const initContainers = optionalArray(spec, 'initContainers', 'Pod.spec');
    const total = RESOURCES.map(() => 0);
    containers.forEach((c, i) => {
      containerRequests(c, `Pod.spec.containers[${i}]`).forEach((v, r) => (total[r] = (total[r] ?? 0) + v));
    });
    const sidecars = RESOURCES.map(() => 0);
    const initMax = RESOURCES.map(() => 0);
    initContainers.forEach((c, i) => {
      const req = containerRequests(c, `Pod.spec.initContainers[${i}]`);
      const sidecar = isSidecar(c);
      req.forEach((v, r) => {
        let candidate: number;
        if (sidecar) {
          total[r] = (total[r] ?? 0) + v;
          sidecars[r] = (sidecars[r] ?? 0) + v;
          candidate = sidecars[r] ?? 0;
        } else {
          candidate = v + (sidecars[r] ?? 0);
        }
        initMax[r] = Math.max(initMax[r] ?? 0, candidate);
      });
    });
    const overhead = optionalObject(spec, 'overhead', 'Pod.spec');
    const effective = RESOURCES.map((name, r) => {
      let v = Math.max(total[r] ?? 0, initMax[r] ?? 0);
      const extra = overhead?.[name];
      if (extra !== undefined && extra !== null) {
        const q = parseWholeQuantity(extra, MAXIMA[r] ?? 0);
        if (!q.ok) throw new Invalid(`Pod.spec.overhead["${name}"]: ${q.message}`);
        v += q.value;
      }
      return v;
    });
    const vfs = { ib: 0, roce: 0 } as Record<LinkType, number>;
    LINK_TYPES.forEach((t, i) => {
      const v = effective[i] ?? 0;
      if (v > MAX_VFS_PER_LINK_TYPE) {
        throw new Invalid(
          `${VF_RESOURCE[t]}: ${v} VFs exceed the maximum of ${MAX_VFS_PER_LINK_TYPE} per pod`,
        );
      }
      vfs[t] = v;
    });
    const gpus = effective[LINK_TYPES.length] ?? 0;
    if (gpus > MAX_GPUS)
      throw new Invalid(`${GPU_RESOURCE}: ${gpus} GPUs exceed the maximum of ${MAX_GPUS} per pod`);
    const totalVfs = LINK_TYPES.reduce((s, t) => s + vfs[t], 0);
    if (totalVfs === 0) return { kind: 'ok', request: { ...EMPTY_REQUEST, gpus }, pod: identity };
    const annotations = parseAnnotations(pod);
    return {
      kind: 'ok',
      request: Object.freeze({ vfs: Object.freeze(vfs), totalVfs, gpus, ...annotations }),
      pod: identity,
    };
  } catch (err: unknown) {
    if (err instanceof Malformed) return { kind: 'malformed', field: err.field, message: err.message };
    if (err instanceof Invalid) return { kind: 'invalid', message: err.message, pod: identity };
    throw err;
  }
}

/**
 * A stable key for everything in a request that changes a node's decision. Requests with the
 * same key get the same answer from the same node state, which is what the per-node memo uses.
 * Locality does not matter without GPUs, so it is left out then.
 */
export function requestShapeKey(r: PodRequest): string {
  const locality = r.gpus === 0 ? '-' : r.gpuLocality;
  return `${r.vfs.ib}/${r.vfs.roce}/${r.gpus}/${r.minRateGbps}/${locality}`;
}

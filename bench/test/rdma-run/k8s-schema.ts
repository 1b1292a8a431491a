/**
 * Validates Kubernetes objects the way the API server would, offline:
 *
 * 1. the Kubernetes OpenAPI schema of the kind, compiled with ajv (the `kubernetes-models`
 *    package ships the v1.27 OpenAPI definitions as ajv standalone validators): types, required
 *    fields, enums, quantity formats;
 * 2. unknown fields, which that schema allows (as the API server's default does) but which a typo
 *    would turn into a silently ignored setting: the object is round-tripped through
 *    `@kubernetes/client-node`'s ObjectSerializer (loadYaml/dumpYaml), which keeps only the
 *    fields the typed model knows, and must come back unchanged;
 * 3. the API server's own validation a schema cannot express: object, container and label
 *    names, label values, annotation keys, env names, extended resources (requests = limits,
 *    whole numbers).
 */
import { dumpYaml, loadYaml } from '@kubernetes/client-node';
import { isDeepStrictEqual } from 'node:util';
import { parse as parseYaml } from 'yaml';
import { ClusterRole } from 'kubernetes-models/rbac.authorization.k8s.io/v1/ClusterRole';
import { ClusterRoleBinding } from 'kubernetes-models/rbac.authorization.k8s.io/v1/ClusterRoleBinding';
import { Role } from 'kubernetes-models/rbac.authorization.k8s.io/v1/Role';
import { RoleBinding } from 'kubernetes-models/rbac.authorization.k8s.io/v1/RoleBinding';
import { Pod } from 'kubernetes-models/v1/Pod';
import { ServiceAccount } from 'kubernetes-models/v1/ServiceAccount';
import { isLabelValue, isQualifiedName } from '../../src/rdma-run/options.js';

const DNS_LABEL = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/;
const DNS_SUBDOMAIN = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/;
const ENV_NAME = /^[-._a-zA-Z][-._a-zA-Z0-9]*$/;

const MODELS: Readonly<Record<string, new (data: never) => { validate(): void }>> = {
  'v1/Pod': Pod,
  'v1/ServiceAccount': ServiceAccount,
  'rbac.authorization.k8s.io/v1/Role': Role,
  'rbac.authorization.k8s.io/v1/RoleBinding': RoleBinding,
  'rbac.authorization.k8s.io/v1/ClusterRole': ClusterRole,
  'rbac.authorization.k8s.io/v1/ClusterRoleBinding': ClusterRoleBinding,
};

/** Problems with one object; empty when the API server would accept it as it is. */
export function kubernetesProblems(object: unknown): string[] {
  const o = object as { apiVersion?: string; kind?: string; metadata?: Record<string, unknown> };
  const key = `${o.apiVersion ?? '?'}/${o.kind ?? '?'}`;
  const Model = MODELS[key];
  if (Model === undefined) return [`no schema for ${key}`];
  const problems: string[] = [];
  // 1. the OpenAPI schema
  try {
    new Model(object as never).validate();
  } catch (err: unknown) {
    problems.push(`schema: ${err instanceof Error ? err.message : String(err)}`);
  }
  // 2. unknown fields: the typed round trip drops them
  const plain = JSON.parse(JSON.stringify(object)) as unknown;
  const back = parseYaml(dumpYaml(loadYaml(JSON.stringify(plain)))) as unknown;
  if (!isDeepStrictEqual(back, plain))
    problems.push(`unknown or mistyped fields: ${diff(plain, back).join(', ')}`);
  // 3. what the API server checks beyond the schema
  problems.push(...metadataProblems(o.metadata ?? {}, key !== 'rbac.authorization.k8s.io/v1/ClusterRole'));
  if (key === 'v1/Pod') problems.push(...podProblems(object as PodLike));
  return problems;
}

function diff(a: unknown, b: unknown, path = ''): string[] {
  if (isDeepStrictEqual(a, b)) return [];
  if (a !== null && b !== null && typeof a === 'object' && typeof b === 'object') {
    const keys = new Set([...Object.keys(a), ...Object.keys(b)]);
    return [...keys].flatMap((k) =>
      diff((a as Record<string, unknown>)[k], (b as Record<string, unknown>)[k], `${path}/${k}`),
    );
  }
  return [path || '/'];
}

function metadataProblems(m: Record<string, unknown>, nameIsDnsLabel: boolean): string[] {
  const problems: string[] = [];
  const name = m['name'];
  if (typeof name !== 'string' || name.length > 253 || !DNS_SUBDOMAIN.test(name))
    problems.push(`metadata.name ${JSON.stringify(name)} is not a DNS-1123 subdomain`);
  else if (nameIsDnsLabel && name.length > 63 && m['namespace'] !== undefined)
    problems.push(`metadata.name ${name} is longer than 63 characters (it becomes the pod's hostname)`);
  for (const [k, v] of Object.entries((m['labels'] ?? {}) as Record<string, unknown>)) {
    if (!isQualifiedName(k)) problems.push(`label key ${JSON.stringify(k)} is not a qualified name`);
    if (typeof v !== 'string' || !isLabelValue(v))
      problems.push(`label ${k} value ${JSON.stringify(v)} is not a label value`);
  }
  let annotationBytes = 0;
  for (const [k, v] of Object.entries((m['annotations'] ?? {}) as Record<string, unknown>)) {
    if (!isQualifiedName(k)) problems.push(`annotation key ${JSON.stringify(k)} is not a qualified name`);
    annotationBytes += k.length + (typeof v === 'string' ? Buffer.byteLength(v) : 0);
  }
  if (annotationBytes > 256 * 1024) problems.push('annotations exceed 256 KiB');
  return problems;
}

interface PodLike {
  spec?: {
    containers?: {
      name?: string;
      env?: { name?: string }[];
      resources?: { requests?: Record<string, string>; limits?: Record<string, string> };
    }[];
  };
}

function podProblems(pod: PodLike): string[] {
  const problems: string[] = [];
  for (const c of pod.spec?.containers ?? []) {
    if (c.name === undefined || !DNS_LABEL.test(c.name) || c.name.length > 63)
      problems.push(`container name ${JSON.stringify(c.name)} is not a DNS-1123 label`);
    for (const e of c.env ?? [])
      if (e.name === undefined || !ENV_NAME.test(e.name))
        problems.push(`env name ${JSON.stringify(e.name)} is not valid`);
    const requests = c.resources?.requests ?? {};
    const limits = c.resources?.limits ?? {};
    for (const [res, amount] of Object.entries({ ...requests, ...limits })) {
      if (res === 'cpu' || res === 'memory' || res === 'ephemeral-storage' || res.startsWith('hugepages-'))
        continue;
      // Extended resources cannot be overcommitted: whole numbers, requests equal to limits.
      if (!isQualifiedName(res) || !res.includes('/'))
        problems.push(`resource name ${res} is not an extended resource name`);
      if (!/^\d+$/.test(amount)) problems.push(`${res}: ${amount} is not a whole number`);
      if (requests[res] !== undefined && limits[res] !== undefined && requests[res] !== limits[res])
        problems.push(`${res}: requests ${requests[res]} must equal limits ${limits[res]}`);
      if (requests[res] !== undefined && limits[res] === undefined)
        problems.push(`${res}: requests without limits`);
    }
  }
  return problems;
}

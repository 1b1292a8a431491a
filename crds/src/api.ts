/**
 * Names of rdmasched's API: group, version, kinds and resource paths. Users type these in
 * manifests and RBAC rules, so they are part of the public API.
 */
import type { RdmaNodePolicy, RdmaTenant } from './generated/types.js';
import type { ListMeta } from './object-meta.js';

export const API_GROUP = 'rdmasched.io';
export const API_VERSION = 'v1alpha1';
/** `rdmasched.io/v1alpha1`, the apiVersion of every rdmasched custom resource. */
export const API_GROUP_VERSION = `${API_GROUP}/${API_VERSION}` as const;

export interface ResourceNames {
  readonly kind: string;
  readonly listKind: string;
  readonly plural: string;
  readonly singular: string;
  readonly shortNames: readonly string[];
}

export const RDMA_TENANT: ResourceNames = {
  kind: 'RdmaTenant',
  listKind: 'RdmaTenantList',
  plural: 'rdmatenants',
  singular: 'rdmatenant',
  shortNames: ['rt', 'rdmat'],
};

export const RDMA_NODE_POLICY: ResourceNames = {
  kind: 'RdmaNodePolicy',
  listKind: 'RdmaNodePolicyList',
  plural: 'rdmanodepolicies',
  singular: 'rdmanodepolicy',
  shortNames: ['rnp', 'rdmanp'],
};

/** REST path of a cluster-scoped rdmasched resource collection, e.g. `/apis/rdmasched.io/v1alpha1/rdmatenants`. */
export function collectionPath(names: ResourceNames): string {
  return `/apis/${API_GROUP_VERSION}/${names.plural}`;
}

export interface RdmaTenantList {
  apiVersion: typeof API_GROUP_VERSION;
  kind: 'RdmaTenantList';
  metadata: ListMeta;
  items: RdmaTenant[];
}

export interface RdmaNodePolicyList {
  apiVersion: typeof API_GROUP_VERSION;
  kind: 'RdmaNodePolicyList';
  metadata: ListMeta;
  items: RdmaNodePolicy[];
}

/** Condition types rdmasched writes on its custom resources. */
export const CONDITION_TYPES = {
  /** RdmaTenant: the spec is usable as written (no conflict with another tenant). RdmaNodePolicy: every matched node applied it. */
  ready: 'Ready',
  /** RdmaTenant: another tenant claims one of its namespaces, its PKey or its VLAN (reason names which). */
  conflict: 'Conflict',
  /** RdmaTenant: usage is at or above quota for some link type. */
  quotaExhausted: 'QuotaExhausted',
} as const;

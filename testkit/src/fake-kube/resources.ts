/**
 * The resources the fake apiserver serves, with what differs between them: scope, status
 * subresource, supported field selectors, defaults on create and validation.
 */
import {
  API_GROUP,
  API_VERSION,
  RDMA_NODE_POLICY,
  RDMA_TENANT,
  validateRdmaNodePolicy,
  validateRdmaTenant,
  type FieldError,
} from '@rdmasched/crds';
import type { StatusCause } from './api-error.js';

export type KubeObject = {
  apiVersion?: string;
  kind?: string;
  metadata: Metadata;
  [key: string]: unknown;
};

export interface Metadata {
  name?: string;
  generateName?: string;
  namespace?: string;
  uid?: string;
  resourceVersion?: string;
  generation?: number;
  creationTimestamp?: string;
  deletionTimestamp?: string;
  deletionGracePeriodSeconds?: number;
  labels?: Record<string, string>;
  annotations?: Record<string, string>;
  finalizers?: string[];
  [key: string]: unknown;
}

export interface ResourceType {
  readonly group: string;
  readonly version: string;
  readonly plural: string;
  readonly singular: string;
  readonly kind: string;
  readonly listKind: string;
  readonly namespaced: boolean;
  readonly shortNames: readonly string[];
  /** Has a /status subresource: the main endpoint ignores status, /status ignores the rest. */
  readonly hasStatus: boolean;
  /** metadata.generation counts spec changes. */
  readonly tracksGeneration: boolean;
  /** PUT without metadata.resourceVersion is allowed (AllowUnconditionalUpdate). */
  readonly allowUnconditionalUpdate: boolean;
  /** Field selectors the real apiserver supports for this resource (beyond metadata.name/namespace). */
  readonly fields: Readonly<Record<string, (o: KubeObject) => string>>;
  /** Names must be DNS-1123 labels (namespaces) rather than subdomains. */
  readonly dnsLabelNames: boolean;
  /** Fills server-side defaults on create (pod phase, namespace labels, ...). */
  readonly defaults?: (o: KubeObject) => void;
  /**
   * Validates (and defaults/prunes) a whole object before it is stored. Returns the object to
   * store and warnings, or field causes for a 422.
   */
  readonly validate?: (
    o: KubeObject,
  ) => { value: KubeObject; warnings: readonly string[] } | { causes: StatusCause[] };
}

const get = (o: unknown, path: string): unknown =>
  path
    .split('.')
    .reduce<unknown>(
      (v, k) => (typeof v === 'object' && v !== null ? (v as Record<string, unknown>)[k] : undefined),
      o,
    );
const str = (path: string) => (o: KubeObject) => {
  const v = get(o, path);
  return typeof v === 'string' ? v : typeof v === 'number' || typeof v === 'boolean' ? String(v) : '';
};

/** `/spec/quota/ib` -> `spec.quota.ib`, the apiserver's field notation. */
function dotted(path: string): string {
  return path
    .split('/')
    .filter((s) => s !== '')
    .map((s) => (/^\d+$/.test(s) ? `[${s}]` : `.${s}`))
    .join('')
    .replace(/^\./, '');
}

function crValidator(
  validate: typeof validateRdmaTenant | typeof validateRdmaNodePolicy,
): NonNullable<ResourceType['validate']> {
  return (o) => {
    // The apiserver's default field validation (Warn): unknown fields are pruned, with a warning.
    const result = validate(o, { unknownFields: 'prune' });
    if (result.ok) return { value: result.value as unknown as KubeObject, warnings: result.warnings };
    return {
      causes: result.errors.map((e: FieldError) => ({
        reason: e.reason,
        message: e.message,
        field: dotted(e.path),
      })),
    };
  };
}

const core = {
  group: '',
  version: 'v1',
  shortNames: [] as string[],
  allowUnconditionalUpdate: true,
  dnsLabelNames: false,
};

export const POD: ResourceType = {
  ...core,
  plural: 'pods',
  singular: 'pod',
  kind: 'Pod',
  listKind: 'PodList',
  shortNames: ['po'],
  namespaced: true,
  hasStatus: true,
  tracksGeneration: true,
  fields: {
    'spec.nodeName': str('spec.nodeName'),
    'spec.schedulerName': str('spec.schedulerName'),
    'spec.serviceAccountName': str('spec.serviceAccountName'),
    'spec.hostNetwork': (o) => (get(o, 'spec.hostNetwork') === true ? 'true' : 'false'),
    'status.phase': str('status.phase'),
    'status.podIP': str('status.podIP'),
    'status.nominatedNodeName': str('status.nominatedNodeName'),
    'spec.restartPolicy': str('spec.restartPolicy'),
  },
  defaults: (o) => {
    const spec = (o['spec'] ??= {}) as Record<string, unknown>;
    spec['schedulerName'] ??= 'default-scheduler';
    spec['restartPolicy'] ??= 'Always';
    spec['terminationGracePeriodSeconds'] ??= 30;
    const status = (o['status'] ??= {}) as Record<string, unknown>;
    status['phase'] ??= 'Pending';
  },
};

export const NAMESPACE: ResourceType = {
  ...core,
  plural: 'namespaces',
  singular: 'namespace',
  kind: 'Namespace',
  listKind: 'NamespaceList',
  shortNames: ['ns'],
  namespaced: false,
  hasStatus: true,
  tracksGeneration: false,
  dnsLabelNames: true,
  fields: { 'status.phase': str('status.phase') },
  defaults: (o) => {
    // The apiserver labels every namespace with its own name (since Kubernetes 1.21).
    o.metadata.labels = { ...o.metadata.labels, 'kubernetes.io/metadata.name': o.metadata.name ?? '' };
    const status = (o['status'] ??= {}) as Record<string, unknown>;
    status['phase'] ??= 'Active';
  },
};

export const NODE: ResourceType = {
  ...core,
  plural: 'nodes',
  singular: 'node',
  kind: 'Node',
  listKind: 'NodeList',
  shortNames: ['no'],
  namespaced: false,
  hasStatus: true,
  tracksGeneration: false,
  fields: { 'spec.unschedulable': (o) => (get(o, 'spec.unschedulable') === true ? 'true' : 'false') },
};

export const EVENT: ResourceType = {
  ...core,
  plural: 'events',
  singular: 'event',
  kind: 'Event',
  listKind: 'EventList',
  shortNames: ['ev'],
  namespaced: true,
  hasStatus: false,
  tracksGeneration: false,
  fields: {
    'involvedObject.kind': str('involvedObject.kind'),
    'involvedObject.namespace': str('involvedObject.namespace'),
    'involvedObject.name': str('involvedObject.name'),
    'involvedObject.uid': str('involvedObject.uid'),
    'involvedObject.apiVersion': str('involvedObject.apiVersion'),
    'involvedObject.fieldPath': str('involvedObject.fieldPath'),
    reason: str('reason'),
    reportingComponent: str('reportingComponent'),
    source: str('source.component'),
    type: str('type'),
  },
};

const crd = {
  group: API_GROUP,
  version: API_VERSION,
  namespaced: false,
  hasStatus: true,
  tracksGeneration: true,
  // Custom resources refuse an update without metadata.resourceVersion.
  allowUnconditionalUpdate: false,
  dnsLabelNames: false,
  fields: {},
};

export const RDMA_TENANT_RESOURCE: ResourceType = {
  ...crd,
  ...RDMA_TENANT,
  validate: crValidator(validateRdmaTenant),
};

export const RDMA_NODE_POLICY_RESOURCE: ResourceType = {
  ...crd,
  ...RDMA_NODE_POLICY,
  validate: crValidator(validateRdmaNodePolicy),
};

export const RESOURCES: readonly ResourceType[] = [
  POD,
  NAMESPACE,
  NODE,
  EVENT,
  RDMA_TENANT_RESOURCE,
  RDMA_NODE_POLICY_RESOURCE,
];

export function apiVersionOf(r: ResourceType): string {
  return r.group === '' ? r.version : `${r.group}/${r.version}`;
}

/** The value of a field selector's field, or undefined when the resource does not support it. */
export function fieldGetter(r: ResourceType, field: string): ((o: KubeObject) => string) | undefined {
  if (field === 'metadata.name') return (o) => o.metadata.name ?? '';
  if (field === 'metadata.namespace') return (o) => o.metadata.namespace ?? '';
  return r.fields[field];
}

/**
 * The parts of Kubernetes ObjectMeta that rdmasched reads or writes on its custom resources.
 * Hand-written rather than taken from @kubernetes/client-node so that this package (and the node
 * agent that imports it) does not depend on the client. Structurally compatible with V1ObjectMeta
 * for these fields; dates are RFC 3339 strings as on the wire.
 */
export interface ObjectMeta {
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
  ownerReferences?: {
    apiVersion: string;
    kind: string;
    name: string;
    uid: string;
    controller?: boolean;
    blockOwnerDeletion?: boolean;
  }[];
}

/** ListMeta of a list response. */
export interface ListMeta {
  resourceVersion?: string;
  continue?: string;
  remainingItemCount?: number;
}

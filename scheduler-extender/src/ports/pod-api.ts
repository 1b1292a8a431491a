/**
 * The Kubernetes API as far as bind, release, reconcile and preempt need it: pods and Bindings.
 * The adapter is `@kubernetes/client-node` (adapters/kube/); tests drive it against the fake
 * kube-apiserver (testkit), so the real REST and watch protocol is exercised.
 *
 * Expected answers are data (`BindingOutcome`); exceptions mean the API could not be asked
 * (outage, timeout) and are translated by the caller.
 */

/** What the extender reads of a pod. */
export interface PodSummary {
  readonly uid: string;
  readonly namespace: string;
  readonly name: string;
  /** spec.nodeName; undefined while unassigned. */
  readonly nodeName: string | undefined;
  /** status.phase (`Pending`, `Running`, `Succeeded`, `Failed`, `Unknown`). */
  readonly phase: string | undefined;
  /** metadata.deletionTimestamp is set. */
  readonly deleting: boolean;
  readonly schedulerName: string | undefined;
  readonly annotations: Readonly<Record<string, string>>;
  /** The v1.Pod as JSON-shaped data (read by podRequestFrom). */
  readonly object: unknown;
}

export type BindingOutcome =
  | { readonly kind: 'bound' }
  /** 409: already assigned (to `assignedTo` when the message says), being deleted, or another UID. */
  | { readonly kind: 'conflict'; readonly message: string }
  | { readonly kind: 'not-found'; readonly message: string }
  /** Any other refusal (4xx/5xx) or an outage. */
  | { readonly kind: 'failed'; readonly message: string };

export interface PodApi {
  /**
   * POST pods/{name}/binding with `metadata.uid` = the pod's UID (the apiserver refuses the
   * Binding for a pod recreated under the same name) and `annotations`, which the apiserver
   * copies onto the pod in the same write.
   */
  bind(
    pod: { readonly namespace: string; readonly name: string; readonly uid: string },
    node: string,
    annotations: Readonly<Record<string, string>>,
  ): Promise<BindingOutcome>;
  /** GET one pod; undefined when it does not exist. Throws when the API cannot be reached. */
  get(namespace: string, name: string): Promise<PodSummary | undefined>;
  /** Every pod of the extender's scheduler name (reconcile). Throws when the API cannot be reached. */
  list(): Promise<PodSummary[]>;
  /** Every pod assigned to a node, whatever its scheduler (preemption victims). */
  listOnNode(node: string): Promise<PodSummary[]>;
}

/** Pods as an informer sees them: a read of memory, never a request. */
export interface PodCache {
  readonly synced: boolean;
  get(namespace: string, name: string): PodSummary | undefined;
  byUid(uid: string): PodSummary | undefined;
}

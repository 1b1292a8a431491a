/**
 * The fake apiserver's storage: objects by resource, one global resourceVersion counter (as etcd
 * has), a bounded event history for watches, and the write semantics the real apiserver applies
 * (optimistic concurrency, status subresource split, generation, finalizers, graceful pod
 * deletion, binding). The HTTP layer and the test helpers both go through it, so objects seeded
 * by a test produce the same watch events as objects created over HTTP.
 */
import { randomUUID } from 'node:crypto';
import { isDeepStrictEqual } from 'node:util';
import {
  alreadyExists,
  badRequest,
  conflict,
  gone,
  invalid,
  notFound,
  type StatusCause,
} from './api-error.js';
import { applyPatch } from './patch.js';
import {
  NAMESPACE,
  POD,
  apiVersionOf,
  fieldGetter,
  type KubeObject,
  type ResourceType,
} from './resources.js';
import { matchesFilter, type ObjectFilter } from './selectors.js';

export type WatchEventType = 'ADDED' | 'MODIFIED' | 'DELETED';

interface HistoryEntry {
  readonly rv: number;
  readonly resource: ResourceType;
  readonly type: WatchEventType;
  readonly object: KubeObject;
  /** The object before this change (MODIFIED, DELETED). */
  readonly previous: KubeObject | undefined;
}

export interface WatchOptions {
  readonly namespace?: string | undefined;
  readonly filter: ObjectFilter;
  /** '' or '0': start with ADDED for every current object; N: every change after N. */
  readonly resourceVersion: string | undefined;
}

export type WatchListener = (type: WatchEventType, object: KubeObject) => void;

export interface WriteResult {
  readonly object: KubeObject;
  readonly warnings: readonly string[];
}

export interface StoreOptions {
  /** Watch events kept for resuming watches; older resourceVersions get 410 Gone. Default 1000. */
  readonly historySize?: number;
  /** What happens after a bound, running pod is deleted gracefully (see FakeKubeApiServerOptions). */
  readonly podTermination?: 'immediate' | 'manual';
  readonly now?: () => Date;
}

const GENERATE_NAME_ALPHABET = 'bcdfghjklmnpqrstvwxz2456789';
const DNS_LABEL = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/;
const DNS_SUBDOMAIN = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/;
/** Namespaces every cluster has. */
export const BUILTIN_NAMESPACES = ['default', 'kube-system', 'kube-public', 'kube-node-lease'];

const keyOf = (namespace: string | undefined, name: string) => `${namespace ?? ''}/${name}`;

export class FakeKubeStore {
  private rv = 1;
  /** Oldest resourceVersion a watch may resume from. */
  private compactedThrough = 1;
  private readonly objects = new Map<ResourceType, Map<string, KubeObject>>();
  private readonly history: HistoryEntry[] = [];
  private readonly watchers = new Set<{
    resource: ResourceType;
    options: WatchOptions;
    listener: WatchListener;
  }>();
  private readonly historySize: number;
  private readonly now: () => Date;
  readonly podTermination: 'immediate' | 'manual';

  constructor(opts: StoreOptions = {}) {
    this.historySize = opts.historySize ?? 1000;
    this.now = opts.now ?? (() => new Date());
    this.podTermination = opts.podTermination ?? 'immediate';
    for (const name of BUILTIN_NAMESPACES) this.create(NAMESPACE, undefined, { metadata: { name } });
  }

  /** The current global resourceVersion (as a list response carries it). */
  resourceVersion(): string {
    return String(this.rv);
  }

  /** Forgets the watch history: resuming a watch from any earlier resourceVersion now gets 410 Gone. */
  compact(): void {
    this.history.length = 0;
    this.compactedThrough = this.rv;
  }

  private table(r: ResourceType): Map<string, KubeObject> {
    let t = this.objects.get(r);
    if (t === undefined) this.objects.set(r, (t = new Map<string, KubeObject>()));
    return t;
  }

  private namespaceOf(r: ResourceType, namespace: string | undefined): string | undefined {
    return r.namespaced ? namespace : undefined;
  }

  /** A copy of the object, or undefined. */
  tryGet(r: ResourceType, namespace: string | undefined, name: string): KubeObject | undefined {
    const o = this.table(r).get(keyOf(this.namespaceOf(r, namespace), name));
    return o === undefined ? undefined : structuredClone(o);
  }

  get(r: ResourceType, namespace: string | undefined, name: string): KubeObject {
    const o = this.tryGet(r, namespace, name);
    if (o === undefined) throw notFound(r, name);
    return o;
  }

  private matches(
    r: ResourceType,
    o: KubeObject,
    namespace: string | undefined,
    filter: ObjectFilter,
  ): boolean {
    if (r.namespaced && namespace !== undefined && o.metadata.namespace !== namespace) return false;
    return matchesFilter(filter, o.metadata.labels ?? {}, (field) => fieldGetter(r, field)?.(o) ?? '');
  }

  /** Copies of the matching objects, sorted by namespace/name as etcd returns them. */
  list(
    r: ResourceType,
    namespace?: string,
    filter: ObjectFilter = { labels: undefined, fields: [] },
  ): KubeObject[] {
    return [...this.table(r).entries()]
      .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
      .map(([, o]) => o)
      .filter((o) => this.matches(r, o, namespace, filter))
      .map((o) => structuredClone(o));
  }

  private commit(
    r: ResourceType,
    type: WatchEventType,
    object: KubeObject,
    previous: KubeObject | undefined,
  ): KubeObject {
    this.rv += 1;
    const key = keyOf(object.metadata.namespace, object.metadata.name ?? '');
    if (type === 'DELETED') {
      this.table(r).delete(key);
      // The DELETED event carries the last state with a new resourceVersion, as the apiserver sends it.
      object = {
        ...structuredClone(object),
        metadata: { ...structuredClone(object.metadata), resourceVersion: String(this.rv) },
      };
    } else {
      object.metadata.resourceVersion = String(this.rv);
      this.table(r).set(key, object);
    }
    const entry: HistoryEntry = { rv: this.rv, resource: r, type, object: structuredClone(object), previous };
    this.history.push(entry);
    while (this.history.length > this.historySize) {
      const dropped = this.history.shift();
      if (dropped !== undefined) this.compactedThrough = dropped.rv;
    }
    for (const w of this.watchers)
      if (w.resource === r) this.deliver(w.resource, w.options, w.listener, entry);
    return structuredClone(object);
  }

  /**
   * Sends an event to one watcher, translated for its selectors as the apiserver's watch cache
   * does: an object that starts matching arrives as ADDED, one that stops matching as DELETED.
   */
  private deliver(r: ResourceType, options: WatchOptions, listener: WatchListener, e: HistoryEntry): void {
    const now = this.matches(r, e.object, options.namespace, options.filter);
    const before = e.previous !== undefined && this.matches(r, e.previous, options.namespace, options.filter);
    let type: WatchEventType | undefined;
    if (e.type === 'ADDED') type = now ? 'ADDED' : undefined;
    else if (e.type === 'DELETED') type = before ? 'DELETED' : undefined;
    else type = now && before ? 'MODIFIED' : now ? 'ADDED' : before ? 'DELETED' : undefined;
    if (type !== undefined) listener(type, structuredClone(e.object));
  }

  /**
   * Starts a watch: replays what the client missed, then follows changes. Throws ApiError 410
   * when `resourceVersion` is older than the history kept. Returns the function that stops it.
   */
  watch(r: ResourceType, options: WatchOptions, listener: WatchListener): () => void {
    const from = options.resourceVersion;
    if (from === undefined || from === '' || from === '0') {
      for (const o of this.list(r, options.namespace, options.filter)) listener('ADDED', o);
    } else {
      const n = Number(from);
      if (!Number.isInteger(n) || n < 0) throw badRequest(`invalid resourceVersion: ${from}`);
      if (n < this.compactedThrough) throw gone(`too old resource version: ${n} (${this.compactedThrough})`);
      for (const e of this.history) if (e.resource === r && e.rv > n) this.deliver(r, options, listener, e);
    }
    const watcher = { resource: r, options, listener };
    this.watchers.add(watcher);
    return () => this.watchers.delete(watcher);
  }

  private timestamp(): string {
    return this.now()
      .toISOString()
      .replace(/\.\d{3}Z$/, 'Z');
  }

  private checkTypeMeta(r: ResourceType, body: KubeObject): void {
    if (body.kind !== undefined && body.kind !== r.kind) {
      throw badRequest(
        `${body.kind} in version "${body.apiVersion ?? ''}" cannot be handled as a ${r.kind}: the kind does not match the URL`,
      );
    }
    if (body.apiVersion !== undefined && body.apiVersion !== apiVersionOf(r)) {
      throw badRequest(
        `${r.kind} in version "${body.apiVersion}" cannot be handled: expected apiVersion ${apiVersionOf(r)}`,
      );
    }
  }

  /** Schema validation (custom resources); with `strict` (fieldValidation=Strict) unknown fields are a 400. */
  private validated(r: ResourceType, o: KubeObject, name: string, strict: boolean): WriteResult {
    if (r.validate === undefined) return { object: o, warnings: [] };
    const result = r.validate(o);
    if ('causes' in result) throw invalid(r.kind, r.group, name, result.causes);
    if (strict && result.warnings.length > 0)
      throw badRequest(`strict decoding error: ${result.warnings.join(', ')}`);
    return { object: result.value, warnings: result.warnings };
  }

  /** POST: create with generateName, uid, creationTimestamp, resourceVersion and server defaults. */
  create(
    r: ResourceType,
    namespace: string | undefined,
    input: unknown,
    opts: { strict?: boolean } = {},
  ): WriteResult {
    if (typeof input !== 'object' || input === null || Array.isArray(input))
      throw badRequest(`the body must be a ${r.kind} object`);
    const body = structuredClone(input) as KubeObject;
    if (typeof body.metadata !== 'object' || body.metadata === null) body.metadata = {};
    this.checkTypeMeta(r, body);
    const meta = body.metadata;
    if (r.namespaced) {
      if (meta.namespace !== undefined && meta.namespace !== '' && meta.namespace !== namespace) {
        throw badRequest(
          'the namespace of the provided object does not match the namespace sent on the request',
        );
      }
      if (namespace === undefined || this.tryGet(NAMESPACE, undefined, namespace) === undefined) {
        throw notFound(NAMESPACE, namespace ?? '');
      }
      meta.namespace = namespace;
    } else {
      delete meta.namespace;
    }
    if (meta.resourceVersion !== undefined && meta.resourceVersion !== '') {
      throw badRequest('resourceVersion should not be set on objects to be created');
    }
    if (
      (meta.name === undefined || meta.name === '') &&
      typeof meta.generateName === 'string' &&
      meta.generateName !== ''
    ) {
      let suffix = '';
      for (let i = 0; i < 5; i++)
        suffix += GENERATE_NAME_ALPHABET[Math.floor(Math.random() * GENERATE_NAME_ALPHABET.length)];
      meta.name = `${meta.generateName}${suffix}`;
    }
    const name = meta.name;
    if (name === undefined || name === '') {
      throw invalid(r.kind, r.group, '', [
        {
          reason: 'FieldValueRequired',
          field: 'metadata.name',
          message: 'Required value: name or generateName is required',
        },
      ]);
    }
    const nameOk = r.dnsLabelNames
      ? name.length <= 63 && DNS_LABEL.test(name)
      : name.length <= 253 && DNS_SUBDOMAIN.test(name);
    if (!nameOk) {
      throw invalid(r.kind, r.group, name, [
        {
          reason: 'FieldValueInvalid',
          field: 'metadata.name',
          message: `Invalid value: "${name}": must be a lowercase RFC 1123 ${r.dnsLabelNames ? 'label' : 'subdomain'}`,
        },
      ]);
    }
    if (this.tryGet(r, namespace, name) !== undefined) throw alreadyExists(r, name);
    body.apiVersion = apiVersionOf(r);
    body.kind = r.kind;
    meta.uid = randomUUID();
    meta.creationTimestamp = this.timestamp();
    delete meta.deletionTimestamp;
    delete meta.deletionGracePeriodSeconds;
    if (r.tracksGeneration) meta.generation = 1;
    else delete meta.generation;
    r.defaults?.(body);
    const { object, warnings } = this.validated(r, body, name, opts.strict === true);
    return { object: this.commit(r, 'ADDED', object, undefined), warnings };
  }

  /**
   * PUT (main resource or /status). A stale metadata.resourceVersion is a 409 Conflict; the main
   * endpoint keeps the stored status and /status keeps everything but status.
   */
  update(
    r: ResourceType,
    namespace: string | undefined,
    name: string,
    input: unknown,
    opts: { subresource?: 'status'; isPatch?: boolean; strict?: boolean } = {},
  ): WriteResult {
    if (typeof input !== 'object' || input === null || Array.isArray(input))
      throw badRequest(`the body must be a ${r.kind} object`);
    const body = structuredClone(input) as KubeObject;
    if (typeof body.metadata !== 'object' || body.metadata === null) body.metadata = {};
    this.checkTypeMeta(r, body);
    const old = this.get(r, namespace, name);
    if (body.metadata.name !== undefined && body.metadata.name !== name) {
      throw badRequest(
        `the name of the object (${body.metadata.name}) does not match the name on the URL (${name})`,
      );
    }
    const rv = body.metadata.resourceVersion;
    if (rv !== undefined && rv !== '' && rv !== old.metadata.resourceVersion) throw conflict(r, name);
    if ((rv === undefined || rv === '') && opts.isPatch !== true && !r.allowUnconditionalUpdate) {
      throw invalid(r.kind, r.group, name, [
        {
          reason: 'FieldValueInvalid',
          field: 'metadata.resourceVersion',
          message: 'Invalid value: 0x0: must be specified for an update',
        },
      ]);
    }
    let next: KubeObject;
    if (opts.subresource === 'status') {
      next = { ...old, status: body['status'] };
    } else {
      next = { ...body, apiVersion: apiVersionOf(r), kind: r.kind };
      if (r.hasStatus) next['status'] = old['status'];
      if (next['status'] === undefined) delete next['status'];
      const keep = [
        'uid',
        'creationTimestamp',
        'namespace',
        'name',
        'deletionTimestamp',
        'deletionGracePeriodSeconds',
        'generation',
        'resourceVersion',
      ];
      const meta = { ...body.metadata };
      for (const k of keep) {
        if (old.metadata[k] === undefined) delete meta[k];
        else meta[k] = old.metadata[k];
      }
      next.metadata = meta;
      if (r === POD) checkPodSpecUpdate(old, next);
    }
    const { object, warnings } = this.validated(r, next, name, opts.strict === true);
    const specOf = (o: KubeObject) => ({ ...o, metadata: undefined, status: undefined });
    if (r.tracksGeneration && !isDeepStrictEqual(specOf(object), specOf(old))) {
      object.metadata.generation = (old.metadata.generation ?? 0) + 1;
    }
    if (isDeepStrictEqual(object, old)) return { object: old, warnings };
    const stored = this.commit(r, 'MODIFIED', object, old);
    return { object: this.finishDeletionIfDue(r, stored), warnings };
  }

  /** PATCH: applies the patch to the stored object, then updates as PUT would (resourceVersion in the patch is a precondition). */
  patch(
    r: ResourceType,
    namespace: string | undefined,
    name: string,
    contentType: string,
    patch: unknown,
    opts: { subresource?: 'status'; strict?: boolean } = {},
  ): WriteResult {
    const old = this.get(r, namespace, name);
    const patched = applyPatch(old, contentType, patch);
    if (typeof patched !== 'object' || patched === null || Array.isArray(patched))
      throw badRequest('the patch must leave an object');
    return this.update(r, namespace, name, patched, { ...opts, isPatch: true });
  }

  /**
   * DELETE. Objects with finalizers get a deletionTimestamp and stay until the last finalizer is
   * removed. A pod bound to a node and not finished is deleted gracefully: deletionTimestamp now,
   * and the (simulated) kubelet removes it (see podTermination). Deleting a namespace removes
   * everything in it. Returns the object as the apiserver does.
   */
  delete(
    r: ResourceType,
    namespace: string | undefined,
    name: string,
    opts: { gracePeriodSeconds?: number; preconditions?: { uid?: string; resourceVersion?: string } } = {},
  ): KubeObject {
    const old = this.get(r, namespace, name);
    const pre = opts.preconditions;
    if (pre?.uid !== undefined && pre.uid !== old.metadata.uid) {
      throw conflict(
        r,
        name,
        `Precondition failed: UID in precondition: ${pre.uid}, UID in object meta: ${old.metadata.uid ?? ''}`,
      );
    }
    if (pre?.resourceVersion !== undefined && pre.resourceVersion !== old.metadata.resourceVersion) {
      throw conflict(
        r,
        name,
        `Precondition failed: ResourceVersion in precondition: ${pre.resourceVersion}, ResourceVersion in object meta: ${old.metadata.resourceVersion ?? ''}`,
      );
    }
    if (r === POD && this.deletesGracefully(old, opts.gracePeriodSeconds)) {
      if (old.metadata.deletionTimestamp !== undefined) return old;
      const grace =
        opts.gracePeriodSeconds ??
        (old['spec'] as { terminationGracePeriodSeconds?: number } | undefined)
          ?.terminationGracePeriodSeconds ??
        30;
      const next = structuredClone(old);
      next.metadata.deletionTimestamp = new Date(this.now().getTime() + grace * 1000)
        .toISOString()
        .replace(/\.\d{3}Z$/, 'Z');
      next.metadata.deletionGracePeriodSeconds = grace;
      const stored = this.commit(r, 'MODIFIED', next, old);
      if (this.podTermination === 'immediate')
        setImmediate(() => this.finishPodTermination(namespace ?? '', name));
      return stored;
    }
    if ((old.metadata.finalizers ?? []).length > 0) {
      if (old.metadata.deletionTimestamp !== undefined && old.metadata.deletionGracePeriodSeconds === 0)
        return old;
      const next = structuredClone(old);
      next.metadata.deletionTimestamp = this.timestamp();
      next.metadata.deletionGracePeriodSeconds = 0;
      return this.commit(r, 'MODIFIED', next, old);
    }
    if (r === NAMESPACE) {
      for (const [res] of this.objects) {
        if (!res.namespaced) continue;
        for (const o of this.list(res, name)) this.commit(res, 'DELETED', o, o);
      }
    }
    return this.commit(r, 'DELETED', old, old);
  }

  private deletesGracefully(pod: KubeObject, gracePeriodSeconds: number | undefined): boolean {
    const nodeName = (pod['spec'] as { nodeName?: string } | undefined)?.nodeName;
    const phase = (pod['status'] as { phase?: string } | undefined)?.phase;
    const grace = gracePeriodSeconds ?? 1;
    return (
      grace > 0 && nodeName !== undefined && nodeName !== '' && phase !== 'Succeeded' && phase !== 'Failed'
    );
  }

  /** The kubelet's part of a graceful pod deletion: the containers are gone, delete with grace 0. */
  finishPodTermination(namespace: string, name: string): void {
    const pod = this.tryGet(POD, namespace, name);
    if (pod?.metadata.deletionTimestamp === undefined) return;
    const next = structuredClone(pod);
    next.metadata.deletionGracePeriodSeconds = 0;
    if ((pod.metadata.finalizers ?? []).length > 0) {
      this.commit(POD, 'MODIFIED', next, pod);
      return;
    }
    this.commit(POD, 'DELETED', pod, pod);
  }

  /** An object being deleted whose last finalizer is gone (and, for a pod, whose kubelet is done) is removed. */
  private finishDeletionIfDue(r: ResourceType, o: KubeObject): KubeObject {
    if (o.metadata.deletionTimestamp === undefined || (o.metadata.finalizers ?? []).length > 0) return o;
    if (o.metadata.deletionGracePeriodSeconds !== 0) return o;
    return this.commit(r, 'DELETED', o, o);
  }

  /**
   * POST pods/{name}/binding: assigns a pod to a node, as the apiserver's binding REST does:
   * 404 when the pod does not exist, 409 when it is already assigned, being deleted, or its UID
   * differs from binding.metadata.uid. Copies the binding's annotations to the pod and sets the
   * PodScheduled condition. Does not check that the node exists (neither does the apiserver).
   */
  bind(namespace: string, name: string, input: unknown): KubeObject {
    const binding = (typeof input === 'object' && input !== null ? input : {}) as {
      kind?: string;
      metadata?: { name?: string; uid?: string; annotations?: Record<string, string> };
      target?: { kind?: string; name?: string };
    };
    if (binding.kind !== undefined && binding.kind !== 'Binding')
      throw badRequest(`expected a Binding, got ${binding.kind}`);
    if (binding.metadata?.name !== undefined && binding.metadata.name !== name) {
      throw badRequest(
        `the name of the object (${binding.metadata.name}) does not match the name on the URL (${name})`,
      );
    }
    const target = binding.target?.name;
    const causes: StatusCause[] = [];
    if (target === undefined || target === '')
      causes.push({ reason: 'FieldValueRequired', field: 'target.name', message: 'Required value' });
    if (binding.target?.kind !== undefined && binding.target.kind !== '' && binding.target.kind !== 'Node') {
      causes.push({
        reason: 'FieldValueNotSupported',
        field: 'target.kind',
        message: `Unsupported value: "${binding.target.kind}": supported values: "Node"`,
      });
    }
    if (causes.length > 0) throw invalid('Binding', '', name, causes);
    const pod = this.get(POD, namespace, name);
    const bindingResource = { plural: 'pods/binding', group: '' };
    if (binding.metadata?.uid !== undefined && binding.metadata.uid !== pod.metadata.uid) {
      throw conflict(
        bindingResource,
        name,
        `the UID in the binding (${binding.metadata.uid}) does not match the pod's (${pod.metadata.uid ?? ''})`,
      );
    }
    if (pod.metadata.deletionTimestamp !== undefined) {
      throw conflict(bindingResource, name, `pod ${name} is being deleted, cannot be assigned to a host`);
    }
    const spec = (pod['spec'] ?? {}) as { nodeName?: string };
    if (spec.nodeName !== undefined && spec.nodeName !== '') {
      throw conflict(bindingResource, name, `pod ${name} is already assigned to node "${spec.nodeName}"`);
    }
    const next = structuredClone(pod);
    next['spec'] ??= {};
    (next['spec'] as { nodeName?: string }).nodeName = target ?? '';
    if (binding.metadata?.annotations !== undefined) {
      next.metadata.annotations = { ...next.metadata.annotations, ...binding.metadata.annotations };
    }
    const status = (next['status'] ??= {}) as {
      conditions?: { type: string; status: string; lastTransitionTime?: string }[];
    };
    status.conditions = [
      ...(status.conditions ?? []).filter((c) => c.type !== 'PodScheduled'),
      { type: 'PodScheduled', status: 'True', lastTransitionTime: this.timestamp() },
    ];
    return this.commit(POD, 'MODIFIED', next, pod);
  }
}

/**
 * The pod fields an update may change (k8s ValidatePodUpdate): container images,
 * activeDeadlineSeconds, tolerations, terminationGracePeriodSeconds, schedulingGates. Anything
 * else, spec.nodeName included (that is what Binding is for), is a 422.
 */
function checkPodSpecUpdate(old: KubeObject, next: KubeObject): void {
  const mutableStripped = (o: KubeObject) => {
    const spec = structuredClone((o['spec'] ?? {}) as Record<string, unknown>);
    for (const k of [
      'activeDeadlineSeconds',
      'tolerations',
      'terminationGracePeriodSeconds',
      'schedulingGates',
    ])
      delete spec[k];
    for (const list of ['containers', 'initContainers']) {
      const containers = spec[list];
      if (Array.isArray(containers))
        for (const c of containers as Record<string, unknown>[]) delete c['image'];
    }
    return spec;
  };
  if (!isDeepStrictEqual(mutableStripped(old), mutableStripped(next))) {
    throw invalid('Pod', '', next.metadata.name ?? '', [
      {
        reason: 'FieldValueForbidden',
        field: 'spec',
        message:
          'Forbidden: pod updates may not change fields other than `spec.containers[*].image`, `spec.initContainers[*].image`, `spec.activeDeadlineSeconds`, `spec.tolerations` (only additions to existing tolerations), `spec.terminationGracePeriodSeconds` (allow it to be set to 1 if it was previously negative)',
      },
    ]);
  }
}

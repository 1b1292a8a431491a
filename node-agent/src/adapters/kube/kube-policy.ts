/**
 * The Kubernetes side of RdmaNodePolicy for one node agent, on `@kubernetes/client-node`:
 *
 * - `KubePolicySource`: informers (list + watch, relisting after a 410 or a dropped watch) on
 *   `rdmanodepolicies.rdmasched.io/v1alpha1` and on the agent's own Node (field selector
 *   `metadata.name=<node>`, for its labels). Policies are validated with the CRD's own schema
 *   (`@rdmasched/crds`) before use: an object the agent cannot trust is left out and logged.
 * - `KubePolicyStatusWriter`: the node's entry in `status.nodes[]`, by read-modify-write of the
 *   status subresource with the resourceVersion, retried on 409 Conflict (ADR 0030/0032). A merge
 *   patch would replace the whole list and lose the other agents' entries.
 *
 * RBAC: get/list/watch `rdmanodepolicies`, update `rdmanodepolicies/status`, get/list/watch `nodes`.
 */
import {
  ApiException,
  CoreV1Api,
  CustomObjectsApi,
  ListWatch,
  Watch,
  type KubeConfig,
  type KubernetesListObject,
  type KubernetesObject,
  type V1Node,
} from '@kubernetes/client-node';
import type { Logger } from 'pino';
import {
  API_GROUP,
  API_VERSION,
  RDMA_NODE_POLICY,
  collectionPath,
  validateRdmaNodePolicy,
  type Labels,
  type RdmaNodePolicy,
  type RdmaNodePolicyNodeStatus,
} from '@rdmasched/crds';
import type { PolicyView } from '../../core/node-policy.js';
import type {
  PolicyNodeEntry,
  PolicySource,
  PolicyStatusWriter,
  StatusWriteOutcome,
} from '../../ports/policy-source.js';

const POLICIES = { group: API_GROUP, version: API_VERSION, plural: RDMA_NODE_POLICY.plural };

export interface KubePolicySourceOptions {
  readonly kubeConfig: KubeConfig;
  readonly nodeName: string;
  readonly logger: Logger;
  /** Pause before restarting an informer that stopped on an error (default 2 s). */
  readonly restartDelayMs?: number;
}

export class KubePolicySource implements PolicySource {
  readonly #o: KubePolicySourceOptions;
  readonly #policies: ListWatch<KubernetesObject>;
  readonly #node: ListWatch<V1Node>;
  readonly #listeners = new Set<() => void>();
  /** `<name>@<resourceVersion>` of invalid policies already logged (each version once). */
  readonly #warned = new Set<string>();
  #valid = new Map<string, RdmaNodePolicy>();
  #policiesListed = false;
  #nodeListed = false;
  #stopped = false;
  #timers = new Set<NodeJS.Timeout>();
  #view: PolicyView = { state: 'waiting', reason: 'the informers have not listed yet' };

  constructor(opts: KubePolicySourceOptions) {
    this.#o = opts;
    const custom = opts.kubeConfig.makeApiClient(CustomObjectsApi);
    const core = opts.kubeConfig.makeApiClient(CoreV1Api);
    this.#policies = new ListWatch<KubernetesObject>(
      collectionPath(RDMA_NODE_POLICY),
      new Watch(opts.kubeConfig),
      async () => {
        const list = (await custom.listClusterCustomObject(
          POLICIES,
        )) as KubernetesListObject<KubernetesObject>;
        this.#policiesListed = true;
        return list;
      },
      false,
    );
    const field = `metadata.name=${opts.nodeName}`;
    this.#node = new ListWatch<V1Node>(
      '/api/v1/nodes',
      new Watch(opts.kubeConfig),
      async () => {
        const list = await core.listNode({ fieldSelector: field });
        this.#nodeListed = true;
        return list;
      },
      false,
      undefined,
      field,
    );
    for (const [name, informer] of [
      ['policies', this.#policies],
      ['node', this.#node],
    ] as const) {
      informer.on('add', () => this.#changed());
      informer.on('update', () => this.#changed());
      informer.on('delete', () => this.#changed());
      informer.on('error', (err: unknown) => {
        this.#o.logger.warn(
          { informer: name, err: err instanceof Error ? err.message : String(err) },
          'Kubernetes watch failed; restarting it',
        );
        this.#restart(informer);
      });
    }
  }

  /** Lists and starts watching; resolves once both lists answered (or failed: retried in the background). */
  async start(): Promise<void> {
    await Promise.all(
      [this.#policies, this.#node].map(async (informer) => {
        try {
          await informer.start();
        } catch (err: unknown) {
          this.#o.logger.warn(
            { err: err instanceof Error ? err.message : String(err) },
            'cannot read RdmaNodePolicies or the node yet; retrying',
          );
          this.#restart(informer);
        }
      }),
    );
    this.#changed();
  }

  async stop(): Promise<void> {
    this.#stopped = true;
    for (const t of this.#timers) clearTimeout(t);
    this.#timers.clear();
    await Promise.all([this.#policies.stop(), this.#node.stop()]);
  }

  #restart(informer: ListWatch<KubernetesObject> | ListWatch<V1Node>): void {
    if (this.#stopped) return;
    const t = setTimeout(() => {
      this.#timers.delete(t);
      if (this.#stopped) return;
      informer.start().then(
        () => this.#changed(),
        () => this.#restart(informer),
      );
    }, this.#o.restartDelayMs ?? 2_000);
    t.unref();
    this.#timers.add(t);
  }

  current(): PolicyView {
    return this.#view;
  }

  onChange(listener: () => void): () => void {
    this.#listeners.add(listener);
    return () => this.#listeners.delete(listener);
  }

  #changed(): void {
    const valid = new Map<string, RdmaNodePolicy>();
    for (const obj of this.#policies.list()) {
      const name = obj.metadata?.name ?? '';
      const v = validateRdmaNodePolicy(obj, { unknownFields: 'prune' });
      if (v.ok) valid.set(name, v.value);
      else if (this.#valid.has(name) || !this.#warned.has(`${name}@${obj.metadata?.resourceVersion ?? ''}`)) {
        this.#warned.add(`${name}@${obj.metadata?.resourceVersion ?? ''}`);
        this.#o.logger.warn(
          { policy: name, errors: v.message },
          'RdmaNodePolicy ignored: it fails its schema',
        );
      }
    }
    this.#valid = valid;
    const node = this.#node.get(this.#o.nodeName);
    if (!this.#policiesListed || !this.#nodeListed)
      this.#view = { state: 'waiting', reason: 'the informers have not listed yet' };
    else if (node === undefined)
      this.#view = { state: 'waiting', reason: `node ${this.#o.nodeName} not found in the API` };
    else {
      const nodeLabels: Labels = { ...(node.metadata?.labels ?? {}) };
      this.#view = { state: 'synced', policies: [...valid.values()], nodeLabels };
    }
    for (const l of [...this.#listeners]) l();
  }
}

export interface KubePolicyStatusWriterOptions {
  readonly kubeConfig: KubeConfig;
  /** Attempts on 409 Conflict (default 5). */
  readonly maxAttempts?: number;
  readonly nowMs?: () => number;
  readonly sleep?: (ms: number) => Promise<void>;
}

const sameEntry = (a: RdmaNodePolicyNodeStatus | undefined, b: PolicyNodeEntry | null): boolean =>
  a === undefined || b === null
    ? a === undefined && b === null
    : JSON.stringify([a.pfs ?? [], a.vfsReady ?? 0, a.lastError ?? '', a.observedGeneration ?? 0]) ===
      JSON.stringify([b.pfs, b.vfsReady, b.lastError, b.observedGeneration]);

const codeOf = (err: unknown): number | undefined => (err instanceof ApiException ? err.code : undefined);

export class KubePolicyStatusWriter implements PolicyStatusWriter {
  readonly #custom: CustomObjectsApi;
  readonly #o: KubePolicyStatusWriterOptions;

  constructor(opts: KubePolicyStatusWriterOptions) {
    this.#o = opts;
    this.#custom = opts.kubeConfig.makeApiClient(CustomObjectsApi);
  }

  async write(policy: string, node: string, entry: PolicyNodeEntry | null): Promise<StatusWriteOutcome> {
    const attempts = this.#o.maxAttempts ?? 5;
    const sleep = this.#o.sleep ?? ((ms: number) => new Promise<void>((r) => setTimeout(r, ms)));
    for (let attempt = 1; ; attempt++) {
      let obj: RdmaNodePolicy;
      try {
        obj = (await this.#custom.getClusterCustomObject({ ...POLICIES, name: policy })) as RdmaNodePolicy;
      } catch (err: unknown) {
        if (codeOf(err) === 404) return 'gone';
        throw err;
      }
      const nodes = obj.status?.nodes ?? [];
      if (
        sameEntry(
          nodes.find((n) => n.nodeName === node),
          entry,
        )
      )
        return 'unchanged';
      const next = nodes.filter((n) => n.nodeName !== node);
      if (entry !== null)
        next.push({
          nodeName: entry.nodeName,
          pfs: [...entry.pfs],
          vfsReady: entry.vfsReady,
          lastError: entry.lastError,
          observedGeneration: entry.observedGeneration,
          lastUpdateTime: new Date((this.#o.nowMs ?? Date.now)()).toISOString().replace(/\.\d{3}Z$/, 'Z'),
        });
      next.sort((a, b) => (a.nodeName < b.nodeName ? -1 : a.nodeName > b.nodeName ? 1 : 0));
      try {
        await this.#custom.replaceClusterCustomObjectStatus({
          ...POLICIES,
          name: policy,
          body: { ...obj, status: { ...obj.status, nodes: next } },
        });
        return 'written';
      } catch (err: unknown) {
        const code = codeOf(err);
        if (code === 404) return 'gone';
        if (code !== 409 || attempt >= attempts) throw err;
        // Another agent wrote first: read again. Jitter keeps racing agents from colliding again.
        await sleep(20 * attempt + Math.floor(Math.random() * 30));
      }
    }
  }
}

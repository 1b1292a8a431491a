/**
 * What `rdma run` needs from the Kubernetes API, as a narrow port, and its implementation on
 * `@kubernetes/client-node`. The adapter retries what is worth retrying (429, 5xx, a dropped
 * connection) a bounded number of times and turns every other failure into a `ClusterError` with a
 * stable code and a sentence naming the call, the object and what the API said.
 */
import {
  ApiException,
  CoreV1Api,
  type CoreV1Event,
  type KubeConfig,
  type V1Pod,
} from '@kubernetes/client-node';

export type ClusterErrorCode =
  /** 401: the credentials were refused. */
  | 'unauthorized'
  /** 403: RBAC does not allow the call (see bench/deploy/runner-rbac.yaml). */
  | 'forbidden'
  | 'not-found'
  /** 409 that is not ours to resolve (e.g. a pod name held by something else). */
  | 'conflict'
  /** 400/422: the API refused the object. */
  | 'invalid'
  /** 429/5xx or no connection, still failing after the retries. */
  | 'unavailable';

export class ClusterError extends Error {
  constructor(
    readonly code: ClusterErrorCode,
    message: string,
    readonly status: number | null,
    options?: ErrorOptions,
  ) {
    super(message, options);
    this.name = 'ClusterError';
  }
}

/**
 * The calls the runner makes. Every method either succeeds or throws a ClusterError (already
 * retried where that makes sense). Nothing here waits for a pod to change: the runner polls.
 */
export interface ClusterApi {
  /** POST a pod. 409 AlreadyExists for a pod that carries `adoptLabel` (our earlier try whose answer was lost) returns that pod. */
  createPod(namespace: string, pod: V1Pod, adoptLabel: { key: string; value: string }): Promise<V1Pod>;
  /** GET a pod; null when it does not exist. */
  readPod(namespace: string, name: string): Promise<V1Pod | null>;
  listPods(namespace: string, labelSelector: string): Promise<V1Pod[]>;
  /** DELETE with a grace period; a pod already gone is not an error. */
  deletePod(namespace: string, name: string, gracePeriodSeconds: number): Promise<void>;
  /** The container's log (stdout and stderr merged), at most `limitBytes`. */
  podLog(namespace: string, name: string, container: string, limitBytes: number): Promise<string>;
  /** Events about one pod, oldest first. */
  podEvents(namespace: string, name: string): Promise<CoreV1Event[]>;
  /** `created`, or `exists` when it was there already. */
  createNamespace(name: string, labels: Record<string, string>): Promise<'created' | 'exists'>;
  deleteNamespace(name: string): Promise<void>;
}

export interface RetryPolicy {
  /** Pause before each retry; its length is the number of retries. */
  readonly delaysMs: readonly number[];
  readonly sleep: (ms: number) => Promise<void>;
}

export const DEFAULT_RETRY: RetryPolicy = {
  delaysMs: [250, 500, 1000, 2000, 4000],
  sleep: (ms) => new Promise((r) => setTimeout(r, ms)),
};

interface Failure {
  readonly status: number | null;
  readonly reason: string;
  readonly message: string;
}

/** What the API said: the Status object's reason and message, or the transport error. */
function failureOf(err: unknown): Failure {
  if (err instanceof ApiException) {
    let body: unknown = err.body;
    if (typeof body === 'string') {
      try {
        body = JSON.parse(body) as unknown;
      } catch {
        // not a Status; keep the text
      }
    }
    const status = body as { reason?: unknown; message?: unknown } | string | undefined;
    const code = typeof err.code === 'number' ? err.code : null;
    if (status !== null && typeof status === 'object')
      return {
        status: code,
        reason: typeof status.reason === 'string' ? status.reason : '',
        message: typeof status.message === 'string' ? status.message : `HTTP ${code ?? '?'}`,
      };
    return {
      status: code,
      reason: '',
      message: typeof status === 'string' && status !== '' ? status.slice(0, 300) : `HTTP ${code ?? '?'}`,
    };
  }
  const e = err as { code?: unknown; message?: unknown; cause?: { code?: unknown } };
  const sys = typeof e.code === 'string' ? e.code : typeof e.cause?.code === 'string' ? e.cause.code : '';
  return {
    status: null,
    reason: sys,
    message: `${sys !== '' ? `${sys}: ` : ''}${typeof e.message === 'string' ? e.message : String(err)}`,
  };
}

const retryable = (f: Failure) => f.status === null || f.status === 429 || f.status >= 500;

function codeOf(f: Failure): ClusterErrorCode {
  if (f.status === 401) return 'unauthorized';
  if (f.status === 403) return 'forbidden';
  if (f.status === 404) return 'not-found';
  if (f.status === 409) return 'conflict';
  if (f.status === 400 || f.status === 422) return 'invalid';
  return 'unavailable';
}

const HINTS: Partial<Record<ClusterErrorCode, string>> = {
  unauthorized: ' (the credentials in the kubeconfig were refused)',
  forbidden: ' (RBAC: grant the runner the Role in bench/deploy/runner-rbac.yaml)',
  unavailable: ' (the API server did not answer successfully; check the kubeconfig server and the network)',
};

export class KubeClusterApi implements ClusterApi {
  private readonly core: CoreV1Api;

  constructor(
    kc: KubeConfig,
    private readonly retry: RetryPolicy = DEFAULT_RETRY,
  ) {
    this.core = kc.makeApiClient(CoreV1Api);
  }

  /** Runs a call, retrying transient failures; anything else becomes a ClusterError. */
  private async call<T>(
    what: string,
    op: () => Promise<T>,
    accept?: (f: Failure) => { value: T } | undefined,
  ): Promise<T> {
    for (let attempt = 0; ; attempt++) {
      try {
        return await op();
      } catch (err: unknown) {
        const f = failureOf(err);
        const accepted = accept?.(f);
        if (accepted !== undefined) return accepted.value;
        const delay = this.retry.delaysMs[attempt];
        if (retryable(f) && delay !== undefined) {
          await this.retry.sleep(delay);
          continue;
        }
        const code = codeOf(f);
        const tries = attempt > 0 ? ` after ${attempt + 1} attempts` : '';
        throw new ClusterError(
          code,
          `${what}: ${f.status !== null ? `${f.status} ${f.reason}`.trim() + ': ' : ''}${f.message}${tries}${HINTS[code] ?? ''}`,
          f.status,
          { cause: err },
        );
      }
    }
  }

  async createPod(namespace: string, pod: V1Pod, adoptLabel: { key: string; value: string }): Promise<V1Pod> {
    const name = pod.metadata?.name ?? '';
    const what = `create pod ${namespace}/${name}`;
    // A 409 after a create whose answer was lost: the pod is ours when it carries our label.
    for (let conflicts = 0; ; conflicts++) {
      let conflict = false;
      const created = await this.call(
        what,
        () => this.core.createNamespacedPod({ namespace, body: pod }),
        (f) => {
          if (f.status === 409 && conflicts < this.retry.delaysMs.length) {
            conflict = true;
            return { value: pod };
          }
          if (f.status === 404)
            throw new ClusterError(
              'not-found',
              `${what}: namespace ${JSON.stringify(namespace)} does not exist (create it, or pass --create-namespace)`,
              404,
            );
          return undefined;
        },
      );
      if (!conflict) return created;
      const existing = await this.readPod(namespace, name);
      if (existing !== null) {
        if (existing.metadata?.labels?.[adoptLabel.key] === adoptLabel.value) return existing;
        throw new ClusterError(
          'conflict',
          `${what}: a pod of that name exists and is not part of this run (label ${adoptLabel.key}=${adoptLabel.value} missing)`,
          409,
        );
      }
      await this.retry.sleep(this.retry.delaysMs[conflicts] ?? 0);
    }
  }

  async readPod(namespace: string, name: string): Promise<V1Pod | null> {
    return this.call<V1Pod | null>(
      `read pod ${namespace}/${name}`,
      () => this.core.readNamespacedPod({ name, namespace }),
      (f) => (f.status === 404 ? { value: null } : undefined),
    );
  }

  async listPods(namespace: string, labelSelector: string): Promise<V1Pod[]> {
    const list = await this.call(`list pods in ${namespace} (${labelSelector})`, () =>
      this.core.listNamespacedPod({ namespace, labelSelector }),
    );
    return list.items;
  }

  async deletePod(namespace: string, name: string, gracePeriodSeconds: number): Promise<void> {
    await this.call<unknown>(
      `delete pod ${namespace}/${name}`,
      () => this.core.deleteNamespacedPod({ name, namespace, gracePeriodSeconds }),
      (f) => (f.status === 404 ? { value: null } : undefined),
    );
  }

  async podLog(namespace: string, name: string, container: string, limitBytes: number): Promise<string> {
    const text = await this.call(`read the log of pod ${namespace}/${name}`, () =>
      this.core.readNamespacedPodLog({ name, namespace, container, limitBytes }),
    );
    return typeof text === 'string' ? text : String(text);
  }

  async podEvents(namespace: string, name: string): Promise<CoreV1Event[]> {
    const list = await this.call(`list events of pod ${namespace}/${name}`, () =>
      this.core.listNamespacedEvent({ namespace, fieldSelector: `involvedObject.name=${name}` }),
    );
    const at = (e: CoreV1Event) =>
      new Date(
        e.lastTimestamp ?? e.eventTime ?? e.firstTimestamp ?? e.metadata.creationTimestamp ?? 0,
      ).getTime();
    return [...list.items].sort((a, b) => at(a) - at(b));
  }

  async createNamespace(name: string, labels: Record<string, string>): Promise<'created' | 'exists'> {
    let exists = false;
    await this.call<unknown>(
      `create namespace ${name}`,
      () =>
        this.core.createNamespace({
          body: { apiVersion: 'v1', kind: 'Namespace', metadata: { name, labels } },
        }),
      (f) => {
        if (f.status === 409 && f.reason === 'AlreadyExists') {
          exists = true;
          return { value: null };
        }
        return undefined;
      },
    );
    return exists ? 'exists' : 'created';
  }

  async deleteNamespace(name: string): Promise<void> {
    await this.call<unknown>(
      `delete namespace ${name}`,
      () => this.core.deleteNamespace({ name }),
      (f) => (f.status === 404 ? { value: null } : undefined),
    );
  }
}

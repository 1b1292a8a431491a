/**
 * kube-scheduler's side of the HTTP extender protocol (pkg/scheduler/extender.go), as a stand-in:
 * POST <urlPrefix>/<verb> with the extender/v1 types (capitalised keys, no JSON tags), any non-200
 * is an error, and the checks kube-scheduler applies to the answers.
 */
import { Agent, request as httpRequest } from 'node:http';
import { request as httpsRequest, Agent as HttpsAgent } from 'node:https';
import type { PodLike } from './pod-resources.js';

export interface ExtenderConfig {
  readonly urlPrefix: string;
  readonly filterVerb?: string;
  readonly prioritizeVerb?: string;
  readonly bindVerb?: string;
  readonly preemptVerb?: string;
  /** Positive integer; the extender's 0..10 score is multiplied by weight × 10. */
  readonly weight: number;
  readonly nodeCacheCapable: boolean;
  /** Default 5 s, as upstream. */
  readonly httpTimeoutMs?: number;
  readonly managedResources: readonly { name: string; ignoredByScheduler: boolean }[];
  readonly ignorable?: boolean;
  /** CA for https URLs (PEM). */
  readonly caPem?: string;
}

export interface FilterAnswer {
  readonly feasible: string[];
  readonly failed: Record<string, string>;
  readonly failedAndUnresolvable: Record<string, string>;
}

export interface HostPriority {
  readonly host: string;
  readonly score: number;
}

export class ExtenderError extends Error {
  constructor(
    message: string,
    readonly verb: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
    this.name = 'ExtenderError';
  }
}

/** Reads a key of a Go-decoded struct: encoding/json matches field names case-insensitively. */
function field(obj: unknown, name: string): unknown {
  if (obj === null || typeof obj !== 'object') return undefined;
  const rec = obj as Record<string, unknown>;
  if (name in rec) return rec[name];
  const lower = name.toLowerCase();
  for (const k of Object.keys(rec)) if (k.toLowerCase() === lower) return rec[k];
  return undefined;
}

function stringMap(v: unknown): Record<string, string> {
  if (v === null || v === undefined || typeof v !== 'object') return {};
  const out: Record<string, string> = {};
  for (const [k, val] of Object.entries(v as Record<string, unknown>))
    out[k] = typeof val === 'string' ? val : String(val);
  return out;
}

export class ExtenderClient {
  private readonly url: URL;
  private readonly agent: Agent | HttpsAgent;
  private readonly timeoutMs: number;

  constructor(readonly config: ExtenderConfig) {
    this.url = new URL(config.urlPrefix.replace(/\/+$/, ''));
    this.timeoutMs = config.httpTimeoutMs ?? 5000;
    this.agent =
      this.url.protocol === 'https:'
        ? new HttpsAgent({ keepAlive: true, maxSockets: 64, ...(config.caPem ? { ca: config.caPem } : {}) })
        : new Agent({ keepAlive: true, maxSockets: 64 });
  }

  /** IsInterested: the pod requests one of the managed resources (or none are configured). */
  isInterested(pod: PodLike, requestsAnyOf: (pod: PodLike, names: ReadonlySet<string>) => boolean): boolean {
    if (this.config.managedResources.length === 0) return true;
    return requestsAnyOf(pod, new Set(this.config.managedResources.map((r) => r.name)));
  }

  /** Resources the in-tree fit check must skip (`ignoredByScheduler: true`). */
  ignoredResources(): Set<string> {
    return new Set(this.config.managedResources.filter((r) => r.ignoredByScheduler).map((r) => r.name));
  }

  async filter(pod: PodLike, nodeNames: readonly string[], nodes: () => unknown[]): Promise<FilterAnswer> {
    const verb = this.config.filterVerb ?? '';
    const args = this.config.nodeCacheCapable
      ? { Pod: pod, Nodes: null, NodeNames: nodeNames }
      : { Pod: pod, Nodes: { metadata: {}, items: nodes() }, NodeNames: null };
    const result = await this.send(verb, args);
    const error = field(result, 'Error');
    if (typeof error === 'string' && error !== '') throw new ExtenderError(error, verb);
    const failed = stringMap(field(result, 'FailedNodes'));
    const failedAndUnresolvable = stringMap(field(result, 'FailedAndUnresolvableNodes'));
    const names = field(result, 'NodeNames');
    const list = field(result, 'Nodes');
    let feasible: string[];
    if (this.config.nodeCacheCapable && Array.isArray(names)) {
      const input = new Set(nodeNames);
      feasible = [];
      for (const n of names) {
        if (typeof n !== 'string' || !input.has(n))
          throw new ExtenderError(
            `extender ${this.config.urlPrefix} claims a filtered node ${String(n)} which is not found in the input node list`,
            verb,
          );
        feasible.push(n);
      }
    } else if (list !== null && list !== undefined) {
      const items = field(list, 'items');
      feasible = Array.isArray(items)
        ? items.map((i) => {
            const name = field(field(i, 'metadata'), 'name');
            return typeof name === 'string' ? name : '';
          })
        : [];
    } else {
      feasible = [];
    }
    return { feasible, failed, failedAndUnresolvable };
  }

  async prioritize(
    pod: PodLike,
    nodeNames: readonly string[],
    nodes: () => unknown[],
  ): Promise<HostPriority[]> {
    const verb = this.config.prioritizeVerb ?? '';
    const args = this.config.nodeCacheCapable
      ? { Pod: pod, Nodes: null, NodeNames: nodeNames }
      : { Pod: pod, Nodes: { metadata: {}, items: nodes() }, NodeNames: null };
    const result = await this.send(verb, args);
    if (!Array.isArray(result)) throw new ExtenderError('prioritize answer is not a HostPriorityList', verb);
    return result.map((e) => ({ host: String(field(e, 'Host')), score: Number(field(e, 'Score')) }));
  }

  async bind(pod: { name: string; namespace: string; uid: string }, node: string): Promise<void> {
    const verb = this.config.bindVerb ?? '';
    const result = await this.send(verb, {
      PodName: pod.name,
      PodNamespace: pod.namespace,
      PodUID: pod.uid,
      Node: node,
    });
    const error = field(result, 'Error');
    if (typeof error === 'string' && error !== '') throw new ExtenderError(error, verb);
  }

  close(): void {
    this.agent.destroy();
  }

  private send(verb: string, body: unknown): Promise<unknown> {
    const payload = JSON.stringify(body);
    const target = new URL(`${this.url.href}/${verb}`);
    const doRequest = target.protocol === 'https:' ? httpsRequest : httpRequest;
    return new Promise((resolve, reject) => {
      const req = doRequest(
        target,
        {
          method: 'POST',
          agent: this.agent,
          headers: { 'content-type': 'application/json', 'content-length': Buffer.byteLength(payload) },
          timeout: this.timeoutMs,
        },
        (res) => {
          const chunks: Buffer[] = [];
          res.on('data', (c: Buffer) => chunks.push(c));
          res.on('end', () => {
            const text = Buffer.concat(chunks).toString('utf8');
            if (res.statusCode !== 200) {
              reject(
                new ExtenderError(
                  `extender ${verb} answered HTTP ${res.statusCode}: ${text.slice(0, 300)}`,
                  verb,
                ),
              );
              return;
            }
            try {
              resolve(JSON.parse(text));
            } catch (err: unknown) {
              reject(new ExtenderError(`extender ${verb} answered invalid JSON`, verb, { cause: err }));
            }
          });
          res.on('error', (err) =>
            reject(new ExtenderError(`extender ${verb}: ${err.message}`, verb, { cause: err })),
          );
        },
      );
      req.on('timeout', () => req.destroy(new Error(`timed out after ${this.timeoutMs} ms`)));
      req.on('error', (err) =>
        reject(new ExtenderError(`extender ${verb}: ${err.message}`, verb, { cause: err })),
      );
      req.end(payload);
    });
  }
}

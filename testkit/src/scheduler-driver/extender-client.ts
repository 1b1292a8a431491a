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

/** What the driver sends about the candidate nodes: their names (pre-encoded) and, lazily, objects. */
export interface Candidates {
  /** Node names in order. */
  readonly names: readonly string[];
  /** The same names as JSON string literals (`"node-1"`), to build bodies without re-encoding. */
  readonly namesJson: readonly string[];
  /** Full v1.Node objects, only asked for when `nodeCacheCapable` is false. */
  readonly nodes: () => unknown[];
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

export interface Victims {
  /** UIDs of the pods to evict on the node. */
  readonly podUids: readonly string[];
  readonly numPDBViolations: number;
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
export function goField(obj: unknown, name: string): unknown {
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

/** Validates an extender configuration as kube-scheduler's config validation does. */
export function validateExtenders(configs: readonly ExtenderConfig[]): string[] {
  const problems: string[] = [];
  let binders = 0;
  const managed = new Map<string, number>();
  configs.forEach((c, i) => {
    const where = `extenders[${i}]`;
    if (c.bindVerb !== undefined && c.bindVerb !== '') binders++;
    if (c.prioritizeVerb !== undefined && c.prioritizeVerb !== '' && !(c.weight > 0))
      problems.push(`${where}.weight: must have a positive weight applied to it`);
    for (const r of c.managedResources) {
      if (r.name.startsWith('kubernetes.io/') || !r.name.includes('/'))
        problems.push(`${where}.managedResources: ${r.name} is not a valid extended resource name`);
      const seen = managed.get(r.name);
      if (seen !== undefined && seen !== i)
        problems.push(`${where}.managedResources: duplicate extender managed resource name ${r.name}`);
      managed.set(r.name, i);
    }
  });
  if (binders > 1) problems.push('extenders: only one extender can implement bind, found ' + String(binders));
  return problems;
}

export class ExtenderClient {
  private readonly base: string;
  private readonly protocol: string;
  private readonly agent: Agent | HttpsAgent;
  private readonly timeoutMs: number;
  private readonly managed: ReadonlySet<string>;

  constructor(readonly config: ExtenderConfig) {
    const url = new URL(config.urlPrefix);
    this.protocol = url.protocol;
    this.base = url.href.replace(/\/+$/, '');
    this.timeoutMs = config.httpTimeoutMs ?? 5000;
    this.managed = new Set(config.managedResources.map((r) => r.name));
    this.agent =
      url.protocol === 'https:'
        ? new HttpsAgent({ keepAlive: true, maxSockets: 64, ...(config.caPem ? { ca: config.caPem } : {}) })
        : new Agent({ keepAlive: true, maxSockets: 64 });
  }

  /** IsInterested: the pod requests one of the managed resources (or none are configured). */
  isInterested(pod: PodLike, requestsAnyOf: (pod: PodLike, names: ReadonlySet<string>) => boolean): boolean {
    if (this.managed.size === 0) return true;
    return requestsAnyOf(pod, this.managed);
  }

  /** Resources the in-tree fit check must skip (`ignoredByScheduler: true`). */
  ignoredResources(): Set<string> {
    return new Set(this.config.managedResources.filter((r) => r.ignoredByScheduler).map((r) => r.name));
  }

  /** ExtenderArgs as kube-scheduler marshals it: Pod, then Nodes, then NodeNames (Go field order). */
  private args(podJson: string, c: Candidates): string {
    return this.config.nodeCacheCapable
      ? `{"Pod":${podJson},"Nodes":null,"NodeNames":[${c.namesJson.join(',')}]}`
      : `{"Pod":${podJson},"Nodes":${JSON.stringify({ metadata: {}, items: c.nodes() })},"NodeNames":null}`;
  }

  /**
   * Filter. `podJson` is the pod as JSON (encoded once per scheduling cycle by the caller).
   * Throws ExtenderError for a transport error, a non-200, an `Error` in the result, or a node
   * name that was not in the input (as kube-scheduler does).
   */
  async filter(podJson: string, c: Candidates): Promise<FilterAnswer> {
    const verb = this.config.filterVerb ?? '';
    const result = await this.send(verb, this.args(podJson, c));
    const error = goField(result, 'Error');
    if (typeof error === 'string' && error !== '') throw new ExtenderError(error, verb);
    const failed = stringMap(goField(result, 'FailedNodes'));
    const failedAndUnresolvable = stringMap(goField(result, 'FailedAndUnresolvableNodes'));
    const names = goField(result, 'NodeNames');
    const list = goField(result, 'Nodes');
    let feasible: string[];
    if (this.config.nodeCacheCapable && Array.isArray(names)) {
      // Each name must be one of the input's; candidates are usually few hundred, so a Set is cheap.
      const input = new Set(c.names);
      for (const n of names) {
        if (typeof n !== 'string' || !input.has(n))
          throw new ExtenderError(
            `extender ${this.config.urlPrefix} claims a filtered node ${String(n)} which is not found in the input node list`,
            verb,
          );
      }
      feasible = names as string[];
    } else if (list !== null && list !== undefined) {
      const items = goField(list, 'items');
      feasible = Array.isArray(items)
        ? items.map((i) => {
            const name = goField(goField(i, 'metadata'), 'name');
            return typeof name === 'string' ? name : '';
          })
        : [];
    } else {
      feasible = [];
    }
    return { feasible, failed, failedAndUnresolvable };
  }

  async prioritize(podJson: string, c: Candidates): Promise<HostPriority[]> {
    const verb = this.config.prioritizeVerb ?? '';
    const result = await this.send(verb, this.args(podJson, c));
    if (!Array.isArray(result)) throw new ExtenderError('prioritize answer is not a HostPriorityList', verb);
    const out: HostPriority[] = new Array<HostPriority>(result.length);
    for (let i = 0; i < result.length; i++) {
      const e = result[i] as Record<string, unknown>;
      // Fast path for the canonical keys; Go decoding is case-insensitive.
      const host = 'Host' in e ? e['Host'] : goField(e, 'Host');
      const score = 'Score' in e ? e['Score'] : goField(e, 'Score');
      out[i] = { host: String(host), score: Number(score) };
    }
    return out;
  }

  async bind(pod: { name: string; namespace: string; uid: string }, node: string): Promise<void> {
    const verb = this.config.bindVerb ?? '';
    const result = await this.send(
      verb,
      JSON.stringify({ PodName: pod.name, PodNamespace: pod.namespace, PodUID: pod.uid, Node: node }),
    );
    const error = goField(result, 'Error');
    if (typeof error === 'string' && error !== '') throw new ExtenderError(error, verb);
  }

  /**
   * Preempt (ProcessPreemption): sends the proposed victims (NodeNameToMetaVictims when
   * nodeCacheCapable, else NodeNameToVictims with the pods) and returns what the extender keeps.
   * Victim UIDs the extender returns must be among the ones proposed on that node.
   */
  async preempt(
    podJson: string,
    proposal: ReadonlyMap<string, { pods: readonly PodLike[]; numPDBViolations: number }>,
  ): Promise<Map<string, Victims>> {
    const verb = this.config.preemptVerb ?? '';
    const meta: Record<string, unknown> = {};
    const full: Record<string, unknown> = {};
    for (const [node, v] of proposal) {
      meta[node] = {
        Pods: v.pods.map((p) => ({ UID: p.metadata?.uid ?? '' })),
        NumPDBViolations: v.numPDBViolations,
      };
      full[node] = { Pods: v.pods, NumPDBViolations: v.numPDBViolations };
    }
    const body = this.config.nodeCacheCapable
      ? `{"Pod":${podJson},"NodeNameToVictims":null,"NodeNameToMetaVictims":${JSON.stringify(meta)}}`
      : `{"Pod":${podJson},"NodeNameToVictims":${JSON.stringify(full)},"NodeNameToMetaVictims":null}`;
    const result = await this.send(verb, body);
    const error = goField(result, 'Error');
    if (typeof error === 'string' && error !== '') throw new ExtenderError(error, verb);
    const answer = goField(result, 'NodeNameToMetaVictims');
    const out = new Map<string, Victims>();
    if (answer === null || answer === undefined || typeof answer !== 'object') return out;
    for (const [node, v] of Object.entries(answer as Record<string, unknown>)) {
      const proposed = proposal.get(node);
      const pods = goField(v, 'Pods');
      const uids: string[] = [];
      for (const p of Array.isArray(pods) ? pods : []) {
        const raw = goField(p, 'UID');
        const uid = typeof raw === 'string' ? raw : '';
        if (proposed === undefined || !proposed.pods.some((x) => x.metadata?.uid === uid))
          throw new ExtenderError(
            `extender ${this.config.urlPrefix} claims to preempt pod (UID: ${uid}) on node: ${node}, but the pod is not found on that node`,
            verb,
          );
        uids.push(uid);
      }
      out.set(node, { podUids: uids, numPDBViolations: Number(goField(v, 'NumPDBViolations') ?? 0) });
    }
    return out;
  }

  close(): void {
    this.agent.destroy();
  }

  private send(verb: string, payload: string): Promise<unknown> {
    const target = `${this.base}/${verb}`;
    const doRequest = this.protocol === 'https:' ? httpsRequest : httpRequest;
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
            const text =
              chunks.length === 1
                ? (chunks[0] as Buffer).toString('utf8')
                : Buffer.concat(chunks).toString('utf8');
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

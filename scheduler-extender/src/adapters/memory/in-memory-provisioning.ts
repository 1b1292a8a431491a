/**
 * ProvisioningChannel in process memory, for the embedded extender and tests. Each node's queue
 * is anything with the node agent's in-memory queue shape (`push(raw)`: the request as the agent
 * reads it from the stream; `results`: its answers in order), so the simulation can hand over
 * the agents' own `InMemoryProvisionQueue`s.
 */
import type { ProvisionRequest, ProvisionResult } from '@rdmasched/contracts';
import type { ProvisioningChannel } from '../../ports/provisioning.js';

export interface InMemoryNodeQueue {
  push(raw: string): unknown;
  readonly results: readonly ProvisionResult[];
}

const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

export class InMemoryProvisioningChannel implements ProvisioningChannel {
  constructor(
    private readonly queueOf: (node: string) => InMemoryNodeQueue | undefined,
    private readonly opts: { readonly pollMs?: number; readonly nowMs?: () => number } = {},
  ) {}

  async request(
    node: string,
    requests: readonly ProvisionRequest[],
    deadlineMs: number,
  ): Promise<ReadonlyMap<string, ProvisionResult>> {
    const answers = new Map<string, ProvisionResult>();
    const queue = this.queueOf(node);
    if (queue === undefined || requests.length === 0) return answers;
    let seen = queue.results.length;
    for (const r of requests) queue.push(JSON.stringify(r));
    const wanted = new Set(requests.map((r) => r.id));
    const now = this.opts.nowMs ?? Date.now;
    for (;;) {
      for (; seen < queue.results.length; seen++) {
        const res = queue.results[seen];
        if (res !== undefined && wanted.has(res.id)) answers.set(res.id, res);
      }
      if (answers.size === wanted.size || now() >= deadlineMs) return answers;
      await sleep(Math.min(this.opts.pollMs ?? 5, Math.max(1, deadlineMs - now())));
    }
  }
}

/**
 * Where the agent learns the RdmaNodePolicy objects and its own node's labels: informers on the
 * Kubernetes API (`KubePolicySource`), or set by hand (`InMemoryPolicySource`: the simulation,
 * tests). Answers synchronously from memory; `onChange` after every change.
 */
import type { PolicyView } from '../core/node-policy.js';

export interface PolicySource {
  /** What is known now: `off` (no API), `waiting` (not read yet), or the policies and labels. */
  current(): PolicyView;
  onChange(listener: () => void): () => void;
}

/** The node's entry in `RdmaNodePolicy.status.nodes[]` (without lastUpdateTime, set on write). */
export interface PolicyNodeEntry {
  readonly nodeName: string;
  readonly pfs: readonly string[];
  readonly vfsReady: number;
  readonly lastError: string;
  readonly observedGeneration: number;
}

export type StatusWriteOutcome = 'written' | 'unchanged' | 'gone';

/**
 * Writes this node's entry into a policy's status (read-modify-write with the resourceVersion,
 * retried on 409 Conflict a bounded number of times), or removes it (`entry` null). `gone` when
 * the policy no longer exists. Throws when the API cannot be reached or keeps conflicting.
 */
export interface PolicyStatusWriter {
  write(policy: string, node: string, entry: PolicyNodeEntry | null): Promise<StatusWriteOutcome>;
}

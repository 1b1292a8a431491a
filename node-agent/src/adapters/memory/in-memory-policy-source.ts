import type { Labels, RdmaNodePolicy } from '@rdmasched/crds';
import type { PolicyView } from '../../core/node-policy.js';
import type {
  PolicyNodeEntry,
  PolicySource,
  PolicyStatusWriter,
  StatusWriteOutcome,
} from '../../ports/policy-source.js';

/** Policies and node labels set by hand (the simulation, tests): synced from the start. */
export class InMemoryPolicySource implements PolicySource {
  #view: PolicyView;
  readonly #listeners = new Set<() => void>();

  constructor(policies: readonly RdmaNodePolicy[] = [], nodeLabels: Labels = {}) {
    this.#view = { state: 'synced', policies: [...policies], nodeLabels: { ...nodeLabels } };
  }

  current(): PolicyView {
    return this.#view;
  }

  /** Replaces the policies and/or the labels, and tells the listeners. */
  set(change: { readonly policies?: readonly RdmaNodePolicy[]; readonly nodeLabels?: Labels }): void {
    const cur = this.#view.state === 'synced' ? this.#view : { policies: [], nodeLabels: {} };
    this.#view = {
      state: 'synced',
      policies: [...(change.policies ?? cur.policies)],
      nodeLabels: { ...(change.nodeLabels ?? cur.nodeLabels) },
    };
    for (const l of [...this.#listeners]) l();
  }

  onChange(listener: () => void): () => void {
    this.#listeners.add(listener);
    return () => this.#listeners.delete(listener);
  }
}

/** Status entries in memory, by policy then node (the simulation's stand-in for the API). */
export class InMemoryPolicyStatusWriter implements PolicyStatusWriter {
  readonly entries = new Map<string, Map<string, PolicyNodeEntry>>();
  writes = 0;

  write(policy: string, node: string, entry: PolicyNodeEntry | null): Promise<StatusWriteOutcome> {
    const nodes = this.entries.get(policy) ?? new Map<string, PolicyNodeEntry>();
    const cur = nodes.get(node);
    if (entry === null ? cur === undefined : JSON.stringify(cur) === JSON.stringify(entry))
      return Promise.resolve('unchanged');
    if (entry === null) nodes.delete(node);
    else nodes.set(node, entry);
    this.entries.set(policy, nodes);
    this.writes++;
    return Promise.resolve('written');
  }
}

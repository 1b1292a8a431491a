/**
 * Subnet managers without a fabric: `NoopSubnetManager` (PKeys are managed outside rdmasched:
 * nothing is added or removed, and reconcile removes nothing since it cannot list), and
 * `InMemorySubnetManager` (membership in memory, for tests and the simulation).
 */
import type { SubnetManager } from '../../ports/subnet-manager.js';

export class NoopSubnetManager implements SubnetManager {
  readonly kind = 'noop';
  addGuidsToPKey(): Promise<void> {
    return Promise.resolve();
  }
  removeGuidsFromPKey(): Promise<void> {
    return Promise.resolve();
  }
  listGuids(): Promise<undefined> {
    return Promise.resolve(undefined);
  }
}

export class InMemorySubnetManager implements SubnetManager {
  readonly kind = 'memory';
  readonly members = new Map<number, Set<string>>();
  /** Every call, in order (tests). */
  readonly calls: { op: 'add' | 'remove'; pkey: number; guids: string[] }[] = [];

  addGuidsToPKey(pkey: number, guids: readonly string[]): Promise<void> {
    this.calls.push({ op: 'add', pkey, guids: [...guids] });
    let set = this.members.get(pkey);
    if (set === undefined) this.members.set(pkey, (set = new Set()));
    for (const g of guids) set.add(g);
    return Promise.resolve();
  }

  removeGuidsFromPKey(pkey: number, guids: readonly string[]): Promise<void> {
    this.calls.push({ op: 'remove', pkey, guids: [...guids] });
    const set = this.members.get(pkey);
    for (const g of guids) set?.delete(g);
    return Promise.resolve();
  }

  listGuids(): Promise<ReadonlyMap<number, ReadonlySet<string>>> {
    return Promise.resolve(new Map([...this.members].map(([k, v]) => [k, new Set(v)])));
  }
}

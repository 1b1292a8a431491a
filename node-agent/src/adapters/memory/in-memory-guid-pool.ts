import { guidAt, identityOwner, type GuidRange } from '../../core/identity.js';
import type { AllocateOutcome, GuidPool } from '../../ports/guid-pool.js';

/** The GUID pool in memory, with the Redis pool's contract (shared by several agents in tests). */
export class InMemoryGuidPool implements GuidPool {
  readonly owners = new Map<string, string>();
  readonly #byNode = new Map<string, Map<string, string>>();
  readonly #free = new Set<string>();
  #next = 0n;

  constructor(private readonly range: GuidRange) {}

  #node(node: string): Map<string, string> {
    let m = this.#byNode.get(node);
    if (m === undefined) this.#byNode.set(node, (m = new Map<string, string>()));
    return m;
  }

  allocate(node: string, vf: string): Promise<AllocateOutcome> {
    const owner = identityOwner(node, vf);
    const existing = this.#node(node).get(vf);
    if (existing !== undefined && this.owners.get(existing) === owner)
      return Promise.resolve({ ok: true, guid: existing });
    for (;;) {
      let guid: string | undefined = this.#free.values().next().value;
      if (guid !== undefined) this.#free.delete(guid);
      else {
        if (this.#next >= this.range.size) return Promise.resolve({ ok: false, reason: 'EXHAUSTED' });
        guid = guidAt(this.range.start, this.#next++);
      }
      if (this.owners.has(guid)) continue;
      this.owners.set(guid, owner);
      this.#node(node).set(vf, guid);
      return Promise.resolve({ ok: true, guid });
    }
  }

  release(node: string, vf: string): Promise<string | undefined> {
    const m = this.#node(node);
    const guid = m.get(vf);
    if (guid === undefined) return Promise.resolve(undefined);
    m.delete(vf);
    if (this.owners.get(guid) === identityOwner(node, vf)) {
      this.owners.delete(guid);
      this.#free.add(guid);
    }
    return Promise.resolve(guid);
  }

  ofNode(node: string): Promise<ReadonlyMap<string, string>> {
    return Promise.resolve(new Map(this.#node(node)));
  }

  adopt(node: string, vf: string, guid: string): Promise<'adopted' | 'already' | 'conflict'> {
    const owner = identityOwner(node, vf);
    const cur = this.#node(node).get(vf);
    const o = this.owners.get(guid);
    if (cur === guid && o === owner) return Promise.resolve('already');
    if ((cur !== undefined && cur !== guid) || (o !== undefined && o !== owner))
      return Promise.resolve('conflict');
    this.owners.set(guid, owner);
    this.#node(node).set(vf, guid);
    this.#free.delete(guid);
    return Promise.resolve('adopted');
  }
}

/**
 * Simulating `kill -9` of the agent in-process: once a process is dead, every port it holds
 * throws on any call, so no `finally` block of the dead agent can still write anything (a killed
 * process runs none). The host keeps what was already written.
 */
import type { HostControl } from '../../src/ports/host-control.js';

export class Crash extends Error {
  constructor() {
    super('the agent process was killed');
    this.name = 'Crash';
  }
}

export interface Life {
  dead: boolean;
}

/** Wraps every method of a port so that it throws Crash once the process is dead. */
export function mortal<T extends object>(target: T, life: Life): T {
  return new Proxy(target, {
    get(t, prop) {
      const v: unknown = Reflect.get(t, prop, t);
      if (typeof v !== 'function') return v;
      return (...args: unknown[]): unknown => {
        if (life.dead) throw new Crash();
        return (v as (...a: unknown[]) => unknown).apply(t, args);
      };
    },
  });
}

const CHANGES = new Set([
  'setNumVfs',
  'unbindDriver',
  'bindDriver',
  'setDriverOverride',
  'probeDriver',
  'setVfGuids',
  'setVfMac',
  'setMtu',
]);

/**
 * A host whose agent dies at its `n`-th change (1-based): `after` lets that change happen first
 * (the write landed, the agent died before noting it), otherwise it dies just before it.
 */
export function dyingHost(
  inner: HostControl,
  life: Life,
  n: number,
  when: 'before' | 'after',
): { host: HostControl; changes: () => number } {
  let count = 0;
  const host = new Proxy(inner, {
    get(t, prop) {
      const v: unknown = Reflect.get(t, prop, t);
      if (typeof v !== 'function') return v;
      return async (...args: unknown[]): Promise<unknown> => {
        if (life.dead) throw new Crash();
        const f = v as (...a: unknown[]) => Promise<unknown>;
        if (!CHANGES.has(String(prop))) return f.apply(t, args);
        count++;
        if (count === n && when === 'before') {
          life.dead = true;
          throw new Crash();
        }
        const r = await f.apply(t, args);
        if (count === n) {
          life.dead = true;
          throw new Crash();
        }
        return r;
      };
    },
  });
  return { host, changes: () => count };
}

/**
 * Templates of simulated hosts in memory: the tree of a spec is built once (the normal tree
 * builder, into a `MemoryFs`), and every host of that spec starts as an O(1) copy-on-write clone
 * of it, renamed (RDMA `node_desc`, GPU UUIDs). Thousands of hosts then cost only what each one
 * changes (docs/adr/0025). Keyed by the spec's JSON, so two specs that differ in anything (sizes,
 * addresses) never share a template.
 */
import { join } from 'node:path';
import { MemoryFs } from '../fs/memory-fs.js';
import { SimKernel } from './kernel.js';
import type { SimState } from './sim-state.js';
import type { HostSpec } from './spec.js';
import { createSimulatedTree, writeGpuProcInfo } from './tree-builder.js';

/** Where an in-memory host lives in its own filesystem. */
export const MEMORY_HOST_DIR = '/host';

interface Template {
  readonly fs: MemoryFs;
  readonly state: SimState;
}

export class SimulatedHostTemplates {
  readonly #templates = new Map<string, Template>();

  /** Number of templates built so far. */
  get size(): number {
    return this.#templates.size;
  }

  /** A new kernel on a clone of the spec's template, named `hostname`. */
  instantiate(spec: HostSpec, hostname: string): SimKernel {
    const key = JSON.stringify(spec);
    let t = this.#templates.get(key);
    if (t === undefined) {
      const fs = new MemoryFs();
      const k = createSimulatedTree(MEMORY_HOST_DIR, spec, { fs, persist: false, hostname: 'template' });
      t = { fs, state: k.state };
      this.#templates.set(key, t);
    }
    const state = structuredClone(t.state);
    state.hostname = hostname;
    const k = new SimKernel(MEMORY_HOST_DIR, state, { fs: t.fs.clone(), persist: false });
    for (const name of k.kfs.listDir(join(k.sys, 'class/infiniband')))
      k.kfs.writeAttr(join(k.sys, 'class/infiniband', name, 'node_desc'), `${hostname} ${name}`);
    writeGpuProcInfo(k);
    return k;
  }
}

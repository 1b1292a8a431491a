/**
 * Node-agent discovery on a large simulated host: 8 ConnectX-7 PFs x 128 VFs (the DGX-H100-like
 * preset, all VFs enabled and configured). Measures one full discovery pass (the agent's `discover`
 * through `FsSysfsReader`, the reader it uses on Linux) and the size of the v1 report it yields.
 *
 * Baseline, measured in the same run on the same tree: a plain recursive directory walk of
 * `sys/devices` (readdir of every directory, links not followed), the least any sysfs reader that
 * looks at the whole tree must do. The figure is the ratio plus absolute milliseconds.
 *
 * Second part, for the one-machine simulation at scale (docs/adr/0025): in-memory DGX-H100 hosts
 * made from a shared template, VFs created on demand from 0: creation time and heap per host, heap
 * per host with its agent started (in-memory ports), heap per VF enabled later, and one discovery
 * pass in memory. Heap is measured after a full GC around the creation of many hosts.
 */
import { accessSync, constants, mkdtempSync, rmSync } from 'node:fs';
import { readdir } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import {
  DEFAULT_GUID_POOL_START,
  EmbeddedAgent,
  InMemoryAgentStateStore,
  InMemoryGuidPool,
  InMemoryLedger,
  InMemoryProvisionQueue,
  InMemoryReportStore,
  SimulatedHostTemplates,
  createSimulatedHost,
} from '@rdmasched/node-agent';
import { presetSpec } from '@rdmasched/node-agent/adapters/sim/presets';
import { SimulatedHost } from '@rdmasched/node-agent/adapters/sim/simulated-host';
import { buildReportBody, stampReport } from '@rdmasched/node-agent/core/report';
import { discover } from '@rdmasched/node-agent/discovery/discover';
import type { Benchmark } from '../benchmark.js';
import type { Figure } from '../results.js';

const PFS = 8;
const VFS_PER_PF = 128;

function scratch(): { dir: string; where: string } {
  let base = tmpdir();
  let where = 'the OS temp directory';
  try {
    accessSync('/dev/shm', constants.W_OK);
    base = '/dev/shm';
    where = 'tmpfs (/dev/shm)';
  } catch {
    // no tmpfs: use the temp directory
  }
  return { dir: mkdtempSync(join(base, 'rdmasched-bench-discovery-')), where };
}

/** The baseline: every directory under `dir`, entries listed, links not followed. */
async function walk(dir: string): Promise<number> {
  const entries = await readdir(dir, { withFileTypes: true });
  const counts = await Promise.all(
    entries.filter((e) => e.isDirectory()).map((e) => walk(join(dir, e.name))),
  );
  return entries.length + counts.reduce((a, b) => a + b, 0);
}

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 === 1 ? s[m]! : (s[m - 1]! + s[m]!) / 2;
}

/** A full garbage collection (the flag is set at run time, so no node option is needed). */
function collectGarbage(): void {
  setFlagsFromString('--expose-gc');
  (runInNewContext('gc') as () => void)();
}

function heapUsed(): number {
  collectGarbage();
  collectGarbage();
  return process.memoryUsage().heapUsed;
}

/** In-memory hosts at scale: creation, memory per host (with and without its agent), VFs on demand. */
async function inMemoryHosts(
  ctx: Parameters<Benchmark['run']>[0],
): Promise<{ figures: Figure[]; notes: string[] }> {
  const hosts = ctx.quick ? 200 : 1000;
  const withAgents = ctx.quick ? 100 : 500;
  const templates = new SimulatedHostTemplates();
  createSimulatedHost({ hostname: 'warm-up', preset: 'dgx-h100', storage: { templates } }); // builds the template
  ctx.log(`creating ${hosts} in-memory dgx-h100 hosts (0 VFs) from one template ...`);
  let before = heapUsed();
  let t = performance.now();
  const made = [];
  for (let i = 0; i < hosts; i++)
    made.push(createSimulatedHost({ hostname: `node-${i}`, preset: 'dgx-h100', storage: { templates } }));
  const createMs = (performance.now() - t) / hosts;
  const hostBytes = (heapUsed() - before) / hosts;

  t = performance.now();
  const found = await discover(made[0]!.reader());
  const discoverMs = performance.now() - t;
  if (found.pfs.length !== PFS || found.gpus.length !== 8)
    throw new Error(`in-memory discovery found ${found.pfs.length} PFs and ${found.gpus.length} GPUs`);

  ctx.log('enabling 16 VFs on one PF of 100 hosts ...');
  before = heapUsed();
  for (const h of made.slice(0, 100)) {
    const r = await h.setNumVfs('0000:1a:00.0', 16);
    if (!r.ok) throw new Error(`enabling VFs failed: ${r.message}`);
  }
  const vfBytes = (heapUsed() - before) / (100 * 16);
  made.length = 0;

  ctx.log(`starting ${withAgents} agents on new in-memory hosts (in-memory ports) ...`);
  const ledger = new InMemoryLedger();
  const shared = {
    ledger,
    pool: new InMemoryGuidPool({ start: DEFAULT_GUID_POOL_START, size: 1n << 30n }),
    reportStore: new InMemoryReportStore(),
    stateStore: new InMemoryAgentStateStore(),
  };
  before = heapUsed();
  const agents: EmbeddedAgent[] = [];
  for (let i = 0; i < withAgents; i++) {
    const nodeName = `agent-${i}`;
    const a = new EmbeddedAgent({
      nodeName,
      host: createSimulatedHost({ hostname: nodeName, preset: 'dgx-h100', storage: { templates } }),
      ports: { ...shared, queue: new InMemoryProvisionQueue() },
    });
    await a.start();
    agents.push(a);
  }
  const agentBytes = (heapUsed() - before) / withAgents;
  if (shared.reportStore.latest.size !== withAgents)
    throw new Error(`${shared.reportStore.latest.size} of ${withAgents} agents published a report`);
  await Promise.all(agents.map((a) => a.stop()));
  const kb = (b: number) => Number((b / 1024).toFixed(1));
  return {
    figures: [
      {
        name: 'discovery.memory_host_create_ms.dgx-h100',
        value: Number(createMs.toFixed(3)),
        unit: 'ms',
        better: 'lower',
      },
      { name: 'discovery.memory_host_kib.dgx-h100', value: kb(hostBytes), unit: 'KiB', better: 'lower' },
      {
        name: 'discovery.memory_host_with_agent_kib.dgx-h100',
        value: kb(agentBytes),
        unit: 'KiB',
        better: 'lower',
      },
      { name: 'discovery.memory_vf_kib.dgx-h100', value: kb(vfBytes), unit: 'KiB', better: 'lower' },
      {
        name: 'discovery.memory_discover_ms.dgx-h100',
        value: Number(discoverMs.toFixed(2)),
        unit: 'ms',
        better: 'lower',
      },
      {
        name: 'discovery.memory_5000_hosts_with_agents_mib.dgx-h100',
        value: Math.round((agentBytes * 5000) / 2 ** 20),
        unit: 'MiB',
        better: 'lower',
      },
    ],
    notes: [
      `In-memory hosts (ADR 0025): ${hosts} dgx-h100 hosts with 0 VFs cloned from one template; host_kib is the heap they add after a full GC, divided by ${hosts}; with_agent_kib the same for ${withAgents} new hosts each with a started EmbeddedAgent on in-memory ports (report published); vf_kib the heap added per VF by enabling 16 VFs on one PF of 100 hosts; 5000_hosts_with_agents_mib = 5,000 x with_agent_kib.`,
    ],
  };
}

export const discoveryBenchmark: Benchmark = {
  name: 'discovery',
  description: `node-agent discovery time and report size on a host with ${PFS} PFs x ${VFS_PER_PF} VFs; in-memory simulated hosts at scale`,
  async run(ctx) {
    const memory = await inMemoryHosts(ctx);
    const disk = await onDisk(ctx);
    return { figures: [...disk.figures, ...memory.figures], notes: [...disk.notes, ...memory.notes] };
  },
};

async function onDisk(ctx: Parameters<Benchmark['run']>[0]): Promise<{ figures: Figure[]; notes: string[] }> {
  {
    const { dir, where } = scratch();
    try {
      ctx.log(`writing the simulated host (${PFS} PFs x ${VFS_PER_PF} VFs, 8 GPUs) into ${where} ...`);
      const started = performance.now();
      const sim = SimulatedHost.create(
        join(dir, 'host'),
        presetSpec('dgx-h100', { totalVfs: VFS_PER_PF, numVfs: VFS_PER_PF, configuredVfs: VFS_PER_PF }),
      );
      ctx.log(`tree written in ${((performance.now() - started) / 1000).toFixed(1)} s`);
      const reader = sim.reader();
      const iterations = ctx.quick ? 3 : 15;
      const discoveryMs: number[] = [];
      const walkMs: number[] = [];
      let entries = 0;
      let last = await discover(reader); // warm-up (JIT, dentry cache), not measured
      await walk(join(sim.sysfsRoot, 'devices'));
      for (let i = 0; i < iterations; i++) {
        // Interleaved, so both see the same machine state.
        let t = performance.now();
        last = await discover(reader);
        discoveryMs.push(performance.now() - t);
        t = performance.now();
        entries = await walk(join(sim.sysfsRoot, 'devices'));
        walkMs.push(performance.now() - t);
        ctx.log(
          `iteration ${i + 1}/${iterations}: discovery ${discoveryMs.at(-1)!.toFixed(1)} ms, walk ${walkMs.at(-1)!.toFixed(1)} ms`,
        );
      }
      const vfs = last.pfs.reduce((s, p) => s + p.vfs.length, 0);
      if (
        last.pfs.length !== PFS ||
        vfs !== PFS * VFS_PER_PF ||
        last.pfs.some((p) => p.vfs.some((v) => !v.configured))
      )
        throw new Error(
          `discovery found ${last.pfs.length} PFs and ${vfs} VFs, expected ${PFS} x ${VFS_PER_PF} configured`,
        );
      const body = buildReportBody(last, {
        nodeName: 'bench-node',
        agentVersion: 'bench',
        heartbeatIntervalMs: 5_000,
        maxVfs: (_pf, totalVfs) => totalVfs,
        resizing: new Set(),
        reserved: new Map(),
        inUse: new Map(),
        reservations: new Map(),
      });
      const { report } = stampReport(body, Date.now(), Date.now());
      if (!report.ok) throw new Error(`the report fails its contract: ${report.errors.join('; ')}`);
      const reportBytes = Buffer.byteLength(JSON.stringify(report.value));
      const d = median(discoveryMs);
      const w = median(walkMs);
      const tag = `${PFS}x${VFS_PER_PF}`;
      const figures: Figure[] = [
        { name: `discovery.discover_ms.${tag}`, value: Number(d.toFixed(2)), unit: 'ms', better: 'lower' },
        { name: `discovery.walk_ms.${tag}`, value: Number(w.toFixed(2)), unit: 'ms', better: 'lower' },
        {
          name: `discovery.ratio_to_walk.${tag}`,
          value: Number((d / w).toFixed(3)),
          unit: 'ratio',
          better: 'lower',
        },
        { name: `discovery.report_bytes.${tag}`, value: reportBytes, unit: 'bytes', better: 'lower' },
        {
          name: `discovery.report_bytes_per_vf.${tag}`,
          value: Math.round(reportBytes / vfs),
          unit: 'bytes',
          better: 'lower',
        },
      ];
      return {
        figures,
        notes: [
          `Simulated DGX-H100-like host (preset dgx-h100): ${PFS} IB ConnectX-7 PFs x ${VFS_PER_PF} configured VFs, 8 GPUs, 4 PCIe switches, 2 NUMA nodes; ${entries} entries under sys/devices, on ${where}.`,
          `discover_ms: median of ${iterations} full discovery passes (FsSysfsReader, the Linux reader) after one warm-up; walk_ms: median of a plain recursive readdir of sys/devices (links not followed) in the same iterations; ratio = discover / walk.`,
          'report_bytes: the v1 NodeReport JSON (validated) as published to Redis.',
        ],
      };
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  }
}

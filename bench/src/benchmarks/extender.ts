/**
 * Extender filter and prioritize at 500 and 5,000 candidate nodes, over real HTTP on loopback
 * with keep-alive, against a floor measured in the same run on the same machine: a Fastify
 * route that only parses the same body and returns the node names (DESIGN.md target: filter +
 * prioritize within 1.5x of it at 5,000 nodes).
 *
 * Both servers run in a child process (extender-server.ts) over a synthetic 5,000-node cluster
 * (extender-cluster.ts); this process is the client, one request at a time, like kube-scheduler
 * calling one extender. Floor and extender runs are interleaved in rounds so that drift in the
 * machine's load hits both alike. Reported: p50, p99 and requests/s of each, and their ratios;
 * plus the filter latency when no decision is memoised (every request a new request shape).
 */
import type { ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { Agent } from 'node:http';
import type { Benchmark, BenchContext } from '../benchmark.js';
import type { Figure } from '../results.js';
import { benchmarkPod, nodeName } from './extender-cluster.js';
import { forkReady, percentile, post as postTimed, round } from './harness.js';

const CLUSTER_NODES = 5000;
const SIZES = [500, 5000] as const;
const VERBS = ['filter', 'prioritize'] as const;

interface Stats {
  readonly p50: number;
  readonly p99: number;
  readonly rps: number;
  readonly n: number;
}

/** The milliseconds of one POST that must answer 200 with a body. */
async function post(agent: Agent, url: string, body: Buffer): Promise<number> {
  const res = await postTimed(agent, url, body);
  if (res.status !== 200 || res.body.length === 0) throw new Error(`${url}: HTTP ${res.status ?? '?'}`);
  return res.ms;
}

async function postJson(agent: Agent, url: string, body: Buffer): Promise<unknown> {
  const res = await postTimed(agent, url, body);
  return JSON.parse(res.body.toString('utf8'));
}

/** Requests/s from the samples alone: one request at a time, so the time is their sum. */
function stats(samplesMs: number[]): Stats {
  const totalMs = samplesMs.reduce((x, y) => x + y, 0);
  return {
    p50: percentile(samplesMs, 0.5),
    p99: percentile(samplesMs, 0.99),
    rps: (samplesMs.length / totalMs) * 1000,
    n: samplesMs.length,
  };
}

function bodyFor(size: number, pod: Record<string, unknown>): Buffer {
  // A sample spread over the whole cluster, as percentageOfNodesToScore would send.
  const step = CLUSTER_NODES / size;
  const names = Array.from({ length: size }, (_, i) => nodeName(Math.floor(i * step)));
  return Buffer.from(JSON.stringify({ Pod: pod, Nodes: null, NodeNames: names }));
}

async function startServers(
  ctx: BenchContext,
): Promise<{ child: ChildProcess; extenderUrl: string; floorUrl: string }> {
  const { child, ready: msg } = await forkReady<{ extenderUrl: string; floorUrl: string; nodes: number }>(
    new URL('./extender-server.js', import.meta.url),
    [String(CLUSTER_NODES)],
    'benchmark server exited before it was ready',
  );
  ctx.log(`servers ready: ${msg.nodes} nodes in the snapshot`);
  return { child, extenderUrl: msg.extenderUrl, floorUrl: msg.floorUrl };
}

export const extenderBenchmark: Benchmark = {
  name: 'extender',
  description: 'extender filter/prioritize at 500 and 5,000 nodes vs a parse-only Fastify floor (real HTTP)',
  async run(ctx) {
    const { child, extenderUrl, floorUrl } = await startServers(ctx);
    const agent = new Agent({ keepAlive: true, maxSockets: 1 });
    const figures: Figure[] = [];
    const pod = benchmarkPod();
    const rounds = ctx.quick ? 2 : 10;
    const perRound = (size: number) => (ctx.quick ? 15 : size <= 500 ? 150 : 50);
    const warmup = (size: number) => (ctx.quick ? 10 : size <= 500 ? 300 : 80);
    const results = new Map<string, Stats>();
    try {
      for (const size of SIZES) {
        // As kube-scheduler does: filter with the candidates, then prioritize with the nodes
        // that passed. The feasible set is taken from the extender once; both the floor and the
        // extender then get exactly the same bodies. Each pair is a different pod (uid).
        const filterTemplate = bodyFor(size, pod).toString();
        const first = await postJson(agent, `${extenderUrl}/filter`, Buffer.from(filterTemplate));
        const feasible = (first as { NodeNames: string[] }).NodeNames;
        const prioritizeTemplate = JSON.stringify({ Pod: pod, Nodes: null, NodeNames: feasible });
        const uid = (pod['metadata'] as { uid: string }).uid;
        const bodies = (i: number) => ({
          filter: Buffer.from(filterTemplate.replace(uid, `bench-${size}-${i}`)),
          prioritize: Buffer.from(prioritizeTemplate.replace(uid, `bench-${size}-${i}`)),
        });
        ctx.log(`${size} candidates: ${feasible.length} feasible`);
        const samples = {
          floor: { filter: [] as number[], prioritize: [] as number[] },
          extender: { filter: [] as number[], prioritize: [] as number[] },
        };
        const pair = async (target: 'floor' | 'extender', i: number, record: boolean) => {
          const base = target === 'floor' ? floorUrl : extenderUrl;
          const b = bodies(i);
          const f = await post(agent, `${base}/filter`, b.filter);
          const p = await post(agent, `${base}/prioritize`, b.prioritize);
          if (record) {
            samples[target].filter.push(f);
            samples[target].prioritize.push(p);
          }
        };
        let i = 0;
        for (const target of ['floor', 'extender'] as const)
          for (let w = 0; w < warmup(size); w++) await pair(target, i++, false);
        for (let r = 0; r < rounds; r++) {
          const order = r % 2 === 0 ? (['floor', 'extender'] as const) : (['extender', 'floor'] as const);
          for (const target of order) for (let k = 0; k < perRound(size); k++) await pair(target, i++, true);
        }
        for (const target of ['floor', 'extender'] as const) {
          for (const verb of VERBS) {
            const s = stats(samples[target][verb]);
            results.set(`${target}/${verb}/${size}`, s);
            ctx.log(
              `${verb} ${size} nodes ${target.padEnd(8)} p50 ${s.p50.toFixed(3)} ms  p99 ${s.p99.toFixed(3)} ms  ${s.rps.toFixed(0)} req/s  (n=${s.n})`,
            );
          }
        }
      }
      // Uncached: every request has a new shape (a distinct min-rate-gbps), so every node decides afresh.
      const uncached: number[] = [];
      const uncachedRuns = ctx.quick ? 5 : 40;
      for (let i = 0; i < uncachedRuns; i++) {
        const p = structuredClone(pod);
        const meta = p['metadata'] as { annotations: Record<string, string> };
        meta.annotations['rdmasched.io/min-rate-gbps'] = (1 + i / 1000).toFixed(3);
        uncached.push(await post(agent, `${extenderUrl}/filter`, bodyFor(5000, p)));
      }
      const uncachedStats = stats(uncached);
      ctx.log(`filter 5000 nodes, nothing memoised: p50 ${uncachedStats.p50.toFixed(3)} ms`);

      for (const size of SIZES) {
        const key = `${size}_nodes`;
        for (const verb of VERBS) {
          for (const target of ['extender', 'floor'] as const) {
            const s = results.get(`${target}/${verb}/${size}`);
            if (s === undefined) continue;
            const base = target === 'extender' ? `extender.${verb}.${key}` : `extender.floor.${verb}.${key}`;
            figures.push(
              { name: `${base}.p50_ms`, value: round(s.p50), unit: 'ms', better: 'lower' },
              { name: `${base}.p99_ms`, value: round(s.p99), unit: 'ms', better: 'lower' },
              { name: `${base}.rps`, value: Math.round(s.rps), unit: 'req/s', better: 'higher' },
            );
          }
          const e = results.get(`extender/${verb}/${size}`);
          const f = results.get(`floor/${verb}/${size}`);
          if (e !== undefined && f !== undefined) {
            figures.push({
              name: `extender.ratio_to_floor.${verb}.${key}`,
              value: round(e.p50 / f.p50),
              unit: 'ratio',
              better: 'lower',
            });
          }
        }
        const ef = results.get(`extender/filter/${size}`);
        const ep = results.get(`extender/prioritize/${size}`);
        const ff = results.get(`floor/filter/${size}`);
        const fp = results.get(`floor/prioritize/${size}`);
        if (ef && ep && ff && fp) {
          figures.push({
            name: `extender.ratio_to_floor.${key}`,
            value: round((ef.p50 + ep.p50) / (ff.p50 + fp.p50)),
            unit: 'ratio',
            better: 'lower',
            ...(size === 5000 ? { target: 1.5 } : {}),
          });
          figures.push({
            name: `extender.ratio_to_floor_p99.${key}`,
            value: round((ef.p99 + ep.p99) / (ff.p99 + fp.p99)),
            unit: 'ratio',
            better: 'lower',
          });
          figures.push({
            name: `extender.pods_per_s_bound.${key}`,
            value: Math.round(1000 / (ef.p50 + ep.p50)),
            unit: 'pods/s',
            better: 'higher',
          });
        }
      }
      figures.push({
        name: 'extender.filter.5000_nodes.uncached_p50_ms',
        value: round(uncachedStats.p50),
        unit: 'ms',
        better: 'lower',
      });
    } finally {
      agent.destroy();
      child.disconnect();
      await once(child, 'exit');
    }
    const notes = [
      `Synthetic cluster of ${CLUSTER_NODES} nodes (40% 8-GPU/4-IB, 30% 4-GPU IB+RoCE, 10% idle IB PF, 20% CPU RoCE); pod asks 2 IB VFs + 2 GPUs; ~80% of nodes feasible.`,
      'nodeCacheCapable: true (NodeNames); candidates spread evenly over the cluster; one request at a time over one keep-alive connection; servers in a child process.',
      'Each iteration is one pod (its own uid), as kube-scheduler calls: filter with the N candidates, then prioritize with the nodes that passed (the same bodies for floor and extender).',
      `Floor: a Fastify route that parses the same body and returns NodeNames. ${rounds} interleaved rounds per size${ctx.quick ? ' (--quick)' : ''}.`,
      'ratio_to_floor.N_nodes = (filter p50 + prioritize p50) / (floor filter p50 + floor prioritize p50); pods_per_s_bound = 1000 / (filter p50 + prioritize p50 in ms).',
      'uncached: filter at 5,000 nodes when no decision is memoised (each request a new request shape).',
    ];
    return { figures, notes };
  },
};

/**
 * The bind verb with three extender replicas (DESIGN.md: p99 under 10 ms when no provisioning is
 * needed): each bind reserves in the Redis ledger (one Lua script), creates the Binding on the fake
 * kube-apiserver (client-node, with the reservation annotations) and marks the reservation bound.
 *
 * A real redis-server (testkit) serves the ledger; the fake API server and each of the three
 * replicas (its own app, Redis connection, mirror and informers) run in child processes of their
 * own (bind-server.ts); this process is kube-scheduler's binder, over HTTP with keep-alive,
 * calling the replicas in turn. Nodes have ready VFs to spare, so no bind waits for provisioning.
 *
 * Measured in the same run: bind latency one at a time (p50, p99), binds/s with 16 in flight, and
 * the floor: a bare Binding POST to the same API server for other pods, one at a time; the ratio
 * is what the reservation adds to the one API write a bind cannot avoid.
 */
import type { ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { Agent } from 'node:http';
import { startRedisServer } from '@rdmasched/testkit';
import type { Benchmark } from '../benchmark.js';
import type { Figure } from '../results.js';
import type { ApiReady, NodesReady, PodRef, ReplicaReady } from './bind-server.js';
import { forkReady, percentile, post, round } from './harness.js';

const IN_FLIGHT = 16;

function fork_<T>(args: string[]): Promise<{ child: ChildProcess; ready: T }> {
  return forkReady<T>(
    new URL('./bind-server.js', import.meta.url),
    args,
    `bind benchmark ${args[0] ?? ''} process exited before it was ready`,
  );
}

async function stopChild(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null) return;
  const exited = once(child, 'exit');
  child.disconnect();
  await exited.catch(() => undefined);
}

export const bindBenchmark: Benchmark = {
  name: 'bind',
  description:
    'bind with atomic reservation, 3 replicas on real Redis and the fake API server, vs a bare Binding POST',
  async run(ctx) {
    const sequential = ctx.quick ? 150 : 1500;
    const concurrent = ctx.quick ? 150 : 1500;
    const warmup = ctx.quick ? 30 : 200;
    const redis = await startRedisServer({ log: ctx.log });
    const children: ChildProcess[] = [];
    const agent = new Agent({ keepAlive: true, maxSockets: IN_FLIGHT });
    const started = Date.now();
    try {
      const api = await fork_<ApiReady>([
        'api',
        String(warmup + sequential + concurrent),
        String(warmup + sequential),
      ]);
      children.push(api.child);
      const prefix = `bench-bind-${process.pid}`;
      const seeded = await fork_<NodesReady>(['nodes', redis.url, prefix, '100']);
      await stopChild(seeded.child);
      const replicaUrls: string[] = [];
      for (let r = 0; r < 3; r++) {
        const replica = await fork_<ReplicaReady>(['replica', redis.url, prefix, api.ready.apiUrl]);
        children.push(replica.child);
        replicaUrls.push(replica.ready.url);
      }
      const ready = { ...api.ready, nodes: seeded.ready.nodes, replicaUrls };
      ctx.log(`3 replicas ready (${ready.nodes.length} nodes, ${ready.pods.length} pods to bind)`);
      const body = (p: PodRef, node: string) =>
        JSON.stringify({ PodName: p.name, PodNamespace: p.namespace, PodUID: p.uid, Node: node });
      let next = 0;
      const bindOne = async (p: PodRef, i: number): Promise<number> => {
        const replica = ready.replicaUrls[i % ready.replicaUrls.length] ?? '';
        const node = ready.nodes[i % ready.nodes.length] ?? '';
        const res = await post(agent, `${replica}/bind`, body(p, node));
        const error =
          res.status === 200
            ? (JSON.parse(res.body.toString('utf8')) as { Error: string }).Error
            : `HTTP ${res.status ?? 0}`;
        if (error !== '') throw new Error(`bind of ${p.name} on ${node} failed: ${error}`);
        return res.ms;
      };
      const floorOne = async (p: PodRef, i: number): Promise<number> => {
        const node = ready.nodes[i % ready.nodes.length] ?? '';
        const res = await post(
          agent,
          `${ready.apiUrl}/api/v1/namespaces/${p.namespace}/pods/${p.name}/binding`,
          JSON.stringify({
            apiVersion: 'v1',
            kind: 'Binding',
            metadata: { name: p.name, namespace: p.namespace, uid: p.uid },
            target: { apiVersion: 'v1', kind: 'Node', name: node },
          }),
        );
        if (res.status !== 201 && res.status !== 200)
          throw new Error(`Binding POST answered ${res.status ?? 0}: ${res.body.toString('utf8')}`);
        return res.ms;
      };
      // Warm up both paths, then interleave them in rounds so drift in the machine's load hits both.
      for (let w = 0; w < warmup; w++) {
        await bindOne(ready.pods[next] as PodRef, next);
        next++;
        await floorOne(ready.floorPods[w] as PodRef, w);
      }
      const binds: number[] = [];
      const floors: number[] = [];
      const rounds = 10;
      let f = warmup;
      for (let r = 0; r < rounds; r++) {
        const per = Math.floor(sequential / rounds);
        for (let k = 0; k < per; k++) {
          binds.push(await bindOne(ready.pods[next] as PodRef, next));
          next++;
          floors.push(await floorOne(ready.floorPods[f] as PodRef, f));
          f++;
        }
        ctx.log(`round ${r + 1}/${rounds}: ${binds.length} binds`);
      }
      // Throughput: IN_FLIGHT binds at a time across the three replicas.
      const queue = ready.pods.slice(next, next + concurrent);
      const t0 = process.hrtime.bigint();
      let cursor = 0;
      await Promise.all(
        Array.from({ length: IN_FLIGHT }, async () => {
          while (cursor < queue.length) {
            const i = cursor++;
            await bindOne(queue[i] as PodRef, next + i);
          }
        }),
      );
      const concurrentMs = Number(process.hrtime.bigint() - t0) / 1e6;
      const bindsPerS = (queue.length / concurrentMs) * 1000;
      const b50 = percentile(binds, 0.5);
      const b99 = percentile(binds, 0.99);
      const f50 = percentile(floors, 0.5);
      const f99 = percentile(floors, 0.99);
      ctx.log(
        `bind p50 ${b50.toFixed(3)} ms p99 ${b99.toFixed(3)} ms; floor p50 ${f50.toFixed(3)} ms p99 ${f99.toFixed(3)} ms`,
      );
      ctx.log(`${queue.length} binds with ${IN_FLIGHT} in flight: ${bindsPerS.toFixed(0)} binds/s`);
      const figures: Figure[] = [
        { name: 'bind.latency.p50_ms', value: round(b50), unit: 'ms', better: 'lower' },
        { name: 'bind.latency.p99_ms', value: round(b99), unit: 'ms', better: 'lower', target: 10 },
        { name: 'bind.binds_per_s', value: Math.round(bindsPerS), unit: 'binds/s', better: 'higher' },
        { name: 'bind.floor.binding_post.p50_ms', value: round(f50), unit: 'ms', better: 'lower' },
        { name: 'bind.floor.binding_post.p99_ms', value: round(f99), unit: 'ms', better: 'lower' },
        { name: 'bind.ratio_to_floor.p50', value: round(b50 / f50), unit: 'ratio', better: 'lower' },
        { name: 'bind.ratio_to_floor.p99', value: round(b99 / f99), unit: 'ratio', better: 'lower' },
      ];
      const notes = [
        '3 extender replicas, each in its own process (app, Redis connection, ledger mirror, informers), the fake kube-apiserver in another, a real redis-server; 100 nodes with 64 ready IB VFs each; every pod asks 1 IB VF; no provisioning.',
        `Each bind: pod from the informer cache, plan from the snapshot, reserve (Lua), Binding POST through client-node with the reservation and PKey annotations, mark bound (Lua). Replicas called in turn, one bind at a time (${binds.length} samples) over keep-alive HTTP.`,
        `Floor: a bare Binding POST (raw HTTP, keep-alive) to the same API server for other pods, interleaved with the binds. binds_per_s: ${queue.length} binds with ${IN_FLIGHT} in flight across the replicas.`,
      ];
      ctx.log(`done in ${((Date.now() - started) / 1000).toFixed(1)} s`);
      return { figures, notes };
    } finally {
      agent.destroy();
      for (const child of children.reverse()) await stopChild(child);
      await redis.stop();
    }
  },
};

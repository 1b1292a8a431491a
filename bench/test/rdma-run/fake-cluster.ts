/**
 * Plays kube-scheduler, the rdmasched extender's bind and the kubelets for `rdma run` tests, on
 * the fake API server and only through its API (client-node): it watches for the run's pods,
 * binds each to a node through the binding subresource (with the extender's reservation
 * annotation, as the extender's bind writes it), sets it Running, and then runs the pod's
 * container command for real: `/bin/sh -c SCRIPT` with the environment the device plugin would
 * inject and fake perftest tools on PATH. The tools follow perftest's connection model (a client
 * finds no server until the server listens on its port) over marker files, and print the output
 * the test scripted. The combined output becomes the pod log; the exit code the pod's phase.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import { chmod, mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CoreV1Api, Watch, type KubeConfig, type V1Pod } from '@kubernetes/client-node';
import { ANNOTATIONS, type Reservation } from '@rdmasched/contracts';
import { POD_RESOURCE, type FakeKubeApiServer } from '@rdmasched/testkit';

export interface FakeNode {
  readonly name: string;
  /** What the device plugin injects; empty strings = a broken plugin (no device). */
  readonly rdmaDevice: string;
  readonly vfPciAddress: string;
  readonly pfPciAddress: string;
}

/** What the stand-in does with a pod. */
export type PodPlan =
  /** Bind, run the container. */
  | { readonly kind: 'run' }
  /** Leave it Pending with the scheduler's reason (PodScheduled=False and a FailedScheduling event). */
  | { readonly kind: 'unschedulable'; readonly message: string }
  /** Bind and report Running, but never run the container (a run that takes forever). */
  | { readonly kind: 'hang' };

export interface FakeClusterOptions {
  readonly nodes: readonly FakeNode[];
  readonly plan?: (pod: V1Pod) => PodPlan;
  /** Pin containers to CPU 0 (as a static CPU manager would), so the script reads a known CPU list. */
  readonly pinCpu0?: boolean;
}

const TOOLS = ['ib_write_bw', 'ib_read_bw', 'ib_send_bw', 'ib_write_lat', 'ib_read_lat', 'ib_send_lat'];

/** One fake for every perftest tool (the name it is called by picks the scripted output). */
const FAKE_PERFTEST = `#!/bin/sh
tool=\${0##*/}
dir=$FAKE_PERFTEST_DIR
port=
prev=
for a in "$@"; do
  if [ "$prev" = "-p" ]; then port=$a; fi
  prev=$a
done
if [ -n "\${RDMASCHED_BENCH_SERVER:-}" ]; then
  printf '%s\\n' "$*" >> "$dir/$tool.client.args"
  if [ ! -e "$FAKE_NET/$RDMASCHED_BENCH_SERVER/$port" ]; then
    echo " Couldn't connect to $RDMASCHED_BENCH_SERVER:$port"
    echo " Unable to open file descriptor for socket connection Unable to init the socket connection"
    exit 1
  fi
  touch "$FAKE_NET/$RDMASCHED_BENCH_SERVER/$port.connected"
  if [ -e "$dir/$tool.client.out" ]; then cat "$dir/$tool.client.out"; fi
  code=0
  if [ -e "$dir/$tool.client.exit" ]; then code=$(cat "$dir/$tool.client.exit"); fi
  exit "$code"
fi
printf '%s\\n' "$*" >> "$dir/$tool.server.args"
mkdir -p "$FAKE_NET/$FAKE_POD_IP"
touch "$FAKE_NET/$FAKE_POD_IP/$port"
echo "************************************"
echo "* Waiting for client to connect... *"
echo "************************************"
n=0
while [ ! -e "$FAKE_NET/$FAKE_POD_IP/$port.connected" ]; do
  n=$((n + 1))
  if [ "$n" -gt 600 ]; then echo "fake server: no client on port $port"; exit 1; fi
  sleep 0.05
done
echo " (server side of $tool)"
exit 0
`;

export class FakeCluster {
  /** Pods as the API stored them at creation (what the runner sent, plus server defaults). */
  readonly created: V1Pod[] = [];
  /** Failures inside the stand-in; a test asserts this stays empty. */
  readonly errors: string[] = [];
  private readonly core: CoreV1Api;
  private readonly children = new Map<string, ChildProcess>();
  private readonly pending = new Set<Promise<void>>();
  private readonly nodeOf = new Map<string, string>();
  private abortWatch: AbortController | undefined;
  private nextIp = 10;
  private stopped = false;

  private constructor(
    private readonly fake: FakeKubeApiServer,
    private readonly kc: KubeConfig,
    private readonly dir: string,
    private readonly o: FakeClusterOptions,
  ) {
    this.core = kc.makeApiClient(CoreV1Api);
  }

  static async start(fake: FakeKubeApiServer, o: FakeClusterOptions): Promise<FakeCluster> {
    const dir = await mkdtemp(join(tmpdir(), 'rdma-run-cluster-'));
    const bin = join(dir, 'bin');
    await mkdir(bin);
    await mkdir(join(dir, 'net'));
    for (const t of TOOLS) {
      await writeFile(join(bin, t), FAKE_PERFTEST);
      await chmod(join(bin, t), 0o755);
    }
    for (const n of o.nodes) await mkdir(join(dir, 'nodes', n.name), { recursive: true });
    const c = new FakeCluster(fake, fake.kubeConfig(), dir, o);
    await c.watch();
    return c;
  }

  /** Scripts what `tool` prints on the client side on `node`, and its exit code. */
  async setClientOutput(node: string, tool: string, output: string, exitCode = 0): Promise<void> {
    const d = join(this.dir, 'nodes', node);
    await writeFile(join(d, `${tool}.client.out`), output);
    await writeFile(join(d, `${tool}.client.exit`), String(exitCode));
  }

  /** The argument lines `tool` was called with on `node` (`client` or `server` side). */
  async args(node: string, tool: string, role: 'client' | 'server'): Promise<string[]> {
    try {
      const text = await readFile(join(this.dir, 'nodes', node, `${tool}.${role}.args`), 'utf8');
      return text.trim().split('\n');
    } catch {
      return [];
    }
  }

  /** Containers running now (pod names). */
  running(): string[] {
    return [...this.children.keys()];
  }

  async stop(): Promise<void> {
    this.stopped = true;
    this.abortWatch?.abort();
    for (const key of [...this.children.keys()]) this.kill(key);
    await Promise.allSettled([...this.pending]);
    await rm(this.dir, { recursive: true, force: true });
  }

  /**
   * Kills every process of a container, as the kubelet does (the container's cgroup): the
   * container is started in a session of its own, and `timeout` in the script moves perftest into
   * a process group of its own, so the whole session is killed.
   */
  private kill(key: string): void {
    const sid = this.children.get(key)?.pid;
    if (sid === undefined) return;
    for (const entry of readdirSync('/proc')) {
      if (!/^\d+$/.test(entry)) continue;
      try {
        const stat = readFileSync(`/proc/${entry}/stat`, 'utf8');
        // pid (comm) state ppid pgrp session ...
        const session = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[3]);
        if (session === sid) process.kill(Number(entry), 'SIGKILL');
      } catch {
        // exited meanwhile
      }
    }
  }

  private async watch(): Promise<void> {
    const w = new Watch(this.kc);
    this.abortWatch = await w.watch(
      '/api/v1/pods',
      { labelSelector: 'rdmasched.io/bench-run' },
      (type: string, obj: V1Pod) => {
        const key = `${obj.metadata?.namespace}/${obj.metadata?.name}`;
        if (type === 'ADDED' && obj.spec?.nodeName === undefined) {
          this.created.push(obj);
          const p = this.handle(obj).catch((err: unknown) => {
            if (!this.stopped)
              this.errors.push(`${key}: ${err instanceof Error ? err.message : String(err)}`);
          });
          this.pending.add(p);
          void p.finally(() => this.pending.delete(p));
        }
        if (type === 'DELETED') {
          // The kubelet stops the containers of a deleted pod.
          this.kill(key);
        }
      },
      (err: unknown) => {
        if (
          !this.stopped &&
          err !== null &&
          err !== undefined &&
          !(err instanceof Error && err.name === 'AbortError')
        )
          this.errors.push(`watch ended: ${err instanceof Error ? err.message : JSON.stringify(err)}`);
      },
    );
  }

  private chooseNode(pod: V1Pod): string {
    const affinity = pod.spec?.affinity;
    const pinned =
      affinity?.nodeAffinity?.requiredDuringSchedulingIgnoredDuringExecution?.nodeSelectorTerms?.[0]?.matchFields?.find(
        (f) => f.key === 'metadata.name',
      )?.values?.[0];
    if (pinned !== undefined) return pinned;
    const pairTerm = (affinity?.podAffinity ?? affinity?.podAntiAffinity)
      ?.requiredDuringSchedulingIgnoredDuringExecution?.[0];
    const labels = pairTerm?.labelSelector?.matchLabels ?? {};
    const partner = this.created.find(
      (p) =>
        Object.entries(labels).every(([k, v]) => p.metadata?.labels?.[k] === v) &&
        this.nodeOf.has(`${p.metadata?.namespace}/${p.metadata?.name}`),
    );
    const partnerNode =
      partner !== undefined
        ? this.nodeOf.get(`${partner.metadata?.namespace}/${partner.metadata?.name}`)
        : undefined;
    if (affinity?.podAffinity !== undefined && partnerNode !== undefined) return partnerNode;
    const free = this.o.nodes.find((n) => n.name !== partnerNode);
    if (free === undefined) throw new Error('no node left for the pod');
    return free.name;
  }

  private async handle(pod: V1Pod): Promise<void> {
    const ns = pod.metadata?.namespace ?? '';
    const name = pod.metadata?.name ?? '';
    const key = `${ns}/${name}`;
    const plan = this.o.plan?.(pod) ?? { kind: 'run' };
    if (plan.kind === 'unschedulable') {
      const current = await this.core.readNamespacedPod({ name, namespace: ns });
      const now = new Date();
      await this.core.replaceNamespacedPodStatus({
        name,
        namespace: ns,
        body: {
          ...current,
          status: {
            ...current.status,
            phase: 'Pending',
            conditions: [
              {
                type: 'PodScheduled',
                status: 'False',
                reason: 'Unschedulable',
                message: plan.message,
                lastTransitionTime: now,
              },
            ],
          },
        },
      });
      await this.core.createNamespacedEvent({
        namespace: ns,
        body: {
          metadata: { name: `${name}.fake${Date.now()}`, namespace: ns },
          involvedObject: { kind: 'Pod', namespace: ns, name, uid: pod.metadata?.uid ?? '' },
          reason: 'FailedScheduling',
          message: plan.message,
          type: 'Warning',
          source: { component: 'rdma-scheduler' },
          firstTimestamp: now,
          lastTimestamp: now,
        },
      });
      return;
    }
    const nodeName = this.chooseNode(pod);
    const node = this.o.nodes.find((n) => n.name === nodeName);
    if (node === undefined)
      throw new Error(`the pod asks for node ${nodeName}, which this cluster does not have`);
    const reservation: Reservation = {
      podUid: pod.metadata?.uid ?? '',
      namespace: ns,
      podName: name,
      tenant: '',
      node: node.name,
      pfs: [{ pfPciAddress: node.pfPciAddress, linkType: 'ib', count: 1 }],
      gpus: [],
      state: 'bound',
      createdAtMs: Date.now(),
      expiresAtMs: Date.now() + 60_000,
    };
    await this.core.createNamespacedPodBinding({
      name,
      namespace: ns,
      body: {
        apiVersion: 'v1',
        kind: 'Binding',
        metadata: { name, annotations: { [ANNOTATIONS.reservation]: JSON.stringify(reservation) } },
        target: { apiVersion: 'v1', kind: 'Node', name: node.name },
      },
    });
    this.nodeOf.set(key, node.name);
    const podIP = `10.244.0.${this.nextIp++}`;
    this.fake.kubelet.setPodPhase(ns, name, 'Running', { podIP });
    if (plan.kind === 'hang') return;
    await this.runContainer(pod, node, podIP);
  }

  private runContainer(pod: V1Pod, node: FakeNode, podIP: string): Promise<void> {
    const ns = pod.metadata?.namespace ?? '';
    const name = pod.metadata?.name ?? '';
    const c = pod.spec?.containers[0];
    const command = c?.command ?? [];
    const env: Record<string, string> = {
      PATH: `${join(this.dir, 'bin')}:${process.env['PATH'] ?? '/usr/bin:/bin'}`,
      FAKE_PERFTEST_DIR: join(this.dir, 'nodes', node.name),
      FAKE_NET: join(this.dir, 'net'),
      FAKE_POD_IP: podIP,
      ...Object.fromEntries((c?.env ?? []).map((e) => [e.name, e.value ?? ''])),
      // What the rdmasched device plugin injects for one VF (node-agent/src/device-plugin/server.ts).
      RDMASCHED_RDMA_DEVICES: node.rdmaDevice,
      RDMASCHED_RDMA_DEVICES_IB_VF: node.rdmaDevice,
      PCIDEVICE_RDMASCHED_IO_IB_VF: node.vfPciAddress,
    };
    const [exe, ...args] = this.o.pinCpu0 === true ? ['taskset', '-c', '0', ...command] : command;
    return new Promise((resolve) => {
      const child = spawn(exe ?? '/bin/sh', args, { env, stdio: ['ignore', 'pipe', 'pipe'], detached: true });
      this.children.set(`${ns}/${name}`, child);
      let output = '';
      // Like a kubelet, the log grows while the container runs (the runner may read it then).
      const append = (d: Buffer) => {
        output += d.toString('utf8');
        if (this.fake.store.tryGet(POD_RESOURCE, ns, name) !== undefined)
          this.fake.kubelet.setPodLogs(ns, name, output);
      };
      child.stdout.on('data', append);
      child.stderr.on('data', append);
      child.on('close', (code, signal) => {
        this.children.delete(`${ns}/${name}`);
        // A pod deleted meanwhile has nobody to report to.
        if (
          signal === null &&
          this.fake.store.tryGet(POD_RESOURCE, ns, name) !== undefined &&
          !this.stopped
        ) {
          try {
            this.fake.kubelet.setPodLogs(ns, name, output);
            this.fake.kubelet.setPodPhase(ns, name, code === 0 ? 'Succeeded' : 'Failed', {
              exitCode: code ?? 1,
            });
          } catch (err: unknown) {
            this.errors.push(`${ns}/${name}: ${err instanceof Error ? err.message : String(err)}`);
          }
        }
        resolve();
      });
    });
  }
}

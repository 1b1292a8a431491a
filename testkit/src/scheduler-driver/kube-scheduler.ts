/**
 * The driver as a kube-scheduler process: it learns pods and nodes from an API server the way
 * kube-scheduler does (list, then watch, relisting when a watch ends), queues the unassigned pods
 * of its scheduler name, keeps assigned pods in its cache, and binds through the binder extender
 * or, by default, with a Binding (POST pods/{name}/binding). Test and simulation code only.
 */
import { CoreV1Api, Watch, type KubeConfig } from '@kubernetes/client-node';
import { SchedulerDriver, type SchedulerDriverOptions } from './driver.js';
import type { NodeLike } from './node-cache.js';
import type { PodLike } from './pod-resources.js';
import { SchedulingQueue, type QueueHooks, type QueueOptions } from './queue.js';

export interface KubeSchedulerOptions {
  readonly kubeConfig: KubeConfig;
  /** Pods whose `spec.schedulerName` is this are scheduled (upstream default: default-scheduler). */
  readonly schedulerName: string;
  /** Driver options; `bind` defaults to creating a Binding through the API. */
  readonly driver: Omit<SchedulerDriverOptions, 'bind'> & { readonly bind?: SchedulerDriverOptions['bind'] };
  readonly queue?: QueueOptions;
  readonly hooks?: QueueHooks;
  /** Called for watch and list failures (the scheduler retries by itself). */
  readonly onError?: (err: unknown) => void;
}

interface PodObject extends PodLike {
  metadata?: PodLike['metadata'] & { deletionTimestamp?: string | Date };
  status?: { phase?: string };
}

function finished(pod: PodObject): boolean {
  const phase = pod.status?.phase;
  return phase === 'Succeeded' || phase === 'Failed';
}

export class KubeScheduler {
  readonly driver: SchedulerDriver;
  readonly queue: SchedulingQueue;
  private readonly core: CoreV1Api;
  private readonly watch: Watch;
  private readonly aborts = new Set<AbortController>();
  private stopped = false;
  /** Pods known to be assigned (uid -> node), to notice frees. */
  private readonly assigned = new Map<string, string>();

  constructor(private readonly opts: KubeSchedulerOptions) {
    this.core = opts.kubeConfig.makeApiClient(CoreV1Api);
    this.watch = new Watch(opts.kubeConfig);
    const bind =
      opts.driver.bind ??
      (async (pod: { name: string; namespace: string; uid: string }, node: string) => {
        await this.core.createNamespacedPodBinding({
          name: pod.name,
          namespace: pod.namespace,
          body: {
            apiVersion: 'v1',
            kind: 'Binding',
            metadata: { name: pod.name, namespace: pod.namespace, uid: pod.uid },
            target: { apiVersion: 'v1', kind: 'Node', name: node },
          },
        });
      });
    this.driver = new SchedulerDriver({ ...opts.driver, bind });
    this.queue = new SchedulingQueue(this.driver, opts.queue ?? {}, opts.hooks ?? {});
  }

  /** Lists nodes and pods, starts the watches and the scheduling loop. */
  async start(): Promise<void> {
    const nodesRv = await this.listNodes();
    const podsRv = await this.listPods();
    this.watchFrom('/api/v1/nodes', nodesRv, (type, obj) => this.onNode(type, obj as NodeLike));
    this.watchFrom('/api/v1/pods', podsRv, (type, obj) => this.onPod(type, obj as PodObject));
    this.queue.start();
  }

  async stop(): Promise<void> {
    this.stopped = true;
    for (const a of this.aborts) a.abort();
    this.aborts.clear();
    await this.queue.stop();
    this.driver.close();
  }

  private async listNodes(): Promise<string> {
    const list = await this.core.listNode();
    for (const n of list.items) this.onNode('ADDED', n as unknown as NodeLike);
    return list.metadata?.resourceVersion ?? '';
  }

  private async listPods(): Promise<string> {
    const list = await this.core.listPodForAllNamespaces();
    for (const p of list.items) this.onPod('ADDED', p);
    return list.metadata?.resourceVersion ?? '';
  }

  /** Watches from `rv`; when the watch ends (timeout, 410, error), lists again and resumes. */
  private watchFrom(path: string, rv: string, handle: (type: string, obj: unknown) => void): void {
    if (this.stopped) return;
    let current = rv;
    const restart = (err: unknown) => {
      if (this.stopped) return;
      if (err !== null && err !== undefined) this.opts.onError?.(err);
      void (async () => {
        try {
          current = path.endsWith('/nodes') ? await this.listNodes() : await this.listPods();
        } catch (e: unknown) {
          this.opts.onError?.(e);
          await new Promise((r) => setTimeout(r, 200));
        }
        this.watchFrom(path, current, handle);
      })();
    };
    void this.watch
      .watch(
        path,
        { resourceVersion: current, allowWatchBookmarks: true },
        (type, obj: { metadata?: { resourceVersion?: string } }) => {
          if (type === 'ERROR') return; // a 410 Status; the stream ends and `done` relists
          if (obj.metadata?.resourceVersion !== undefined) current = obj.metadata.resourceVersion;
          if (type !== 'BOOKMARK') handle(type, obj);
        },
        restart,
      )
      .then((abort) => {
        if (this.stopped) abort.abort();
        else this.aborts.add(abort);
      });
  }

  private onNode(type: string, node: NodeLike): void {
    if (type === 'DELETED') {
      this.driver.removeNode(node.metadata.name);
      return;
    }
    this.driver.upsertNode(node);
    if (type === 'ADDED') this.queue.moveAllToActive();
  }

  private onPod(type: string, pod: PodObject): void {
    const uid = pod.metadata?.uid ?? '';
    if (uid === '') return;
    const node = pod.spec?.nodeName ?? '';
    if (type === 'DELETED' || (node !== '' && finished(pod))) {
      this.queue.remove(uid);
      const wasAssigned = this.assigned.delete(uid);
      this.driver.forgetPod(uid);
      if (wasAssigned) this.queue.moveAllToActive();
      return;
    }
    if (node !== '') {
      this.queue.remove(uid);
      this.assigned.set(uid, node);
      this.driver.cache.assumePod(uid, pod, node);
      return;
    }
    if (pod.spec?.schedulerName !== this.opts.schedulerName) return;
    if (pod.metadata?.deletionTimestamp !== undefined) return;
    this.queue.add(pod);
  }
}

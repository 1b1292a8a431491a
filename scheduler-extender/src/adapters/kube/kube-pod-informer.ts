/**
 * An informer on the pods of the extender's scheduler (field selector `spec.schedulerName=...`):
 * the PodCache bind and preempt read, and the trigger that releases a reservation as soon as its
 * pod ends (phase Succeeded/Failed) or is deleted. Every replica runs one; releases are
 * idempotent, so several replicas releasing the same pod cost a no-op script each.
 *
 * client-node's ListWatch relists after a 410 by itself but stops on other errors: it is
 * restarted here after a pause. Events missed while it is down are repaired by the periodic
 * reconcile.
 */
import { CoreV1Api, ListWatch, Watch, type KubeConfig, type V1Pod } from '@kubernetes/client-node';
import type { Logger } from 'pino';
import type { PodCache, PodSummary } from '../../ports/pod-api.js';
import { podEnded, podSummary } from './pod-summary.js';

export interface KubePodInformerOptions {
  readonly kubeConfig: KubeConfig;
  readonly schedulerName: string;
  readonly logger: Logger;
  /** A pod ended or was deleted: release its reservation. */
  readonly onPodGone: (pod: PodSummary, why: 'deleted' | 'ended') => void;
  readonly restartDelayMs?: number;
}

export class KubePodInformer implements PodCache {
  private readonly informer: ListWatch<V1Pod>;
  private readonly uids = new Map<string, PodSummary>();
  private listed = false;
  private stopped = false;
  private timer: NodeJS.Timeout | undefined;

  constructor(private readonly o: KubePodInformerOptions) {
    const core = o.kubeConfig.makeApiClient(CoreV1Api);
    const fieldSelector = `spec.schedulerName=${o.schedulerName}`;
    this.informer = new ListWatch<V1Pod>(
      '/api/v1/pods',
      new Watch(o.kubeConfig),
      async () => {
        const list = await core.listPodForAllNamespaces({ fieldSelector });
        this.listed = true;
        return list;
      },
      false,
      undefined,
      fieldSelector,
    );
    const upsert = (pod: V1Pod) => {
      const s = podSummary(pod);
      if (s.uid === '') return;
      this.uids.set(s.uid, s);
      if (podEnded(s)) this.o.onPodGone(s, 'ended');
    };
    this.informer.on('add', upsert);
    this.informer.on('update', upsert);
    this.informer.on('delete', (pod: V1Pod) => {
      const s = podSummary(pod);
      this.uids.delete(s.uid);
      this.o.onPodGone(s, 'deleted');
    });
    this.informer.on('error', (err: unknown) => {
      this.o.logger.warn(
        { informer: 'pods', err: err instanceof Error ? err.message : String(err) },
        'pod watch failed; restarting it',
      );
      this.restart();
    });
  }

  get synced(): boolean {
    return this.listed;
  }

  async start(): Promise<void> {
    try {
      await this.informer.start();
    } catch (err: unknown) {
      this.o.logger.warn(
        { err: err instanceof Error ? err.message : String(err) },
        'cannot list pods yet; retrying',
      );
      this.restart();
    }
  }

  async stop(): Promise<void> {
    this.stopped = true;
    if (this.timer !== undefined) clearTimeout(this.timer);
    await this.informer.stop();
  }

  private restart(): void {
    if (this.stopped || this.timer !== undefined) return;
    this.timer = setTimeout(() => {
      this.timer = undefined;
      if (this.stopped) return;
      this.informer.start().catch(() => this.restart());
    }, this.o.restartDelayMs ?? 2000);
    this.timer.unref();
  }

  get(namespace: string, name: string): PodSummary | undefined {
    const pod = this.informer.get(name, namespace);
    return pod === undefined ? undefined : podSummary(pod);
  }

  byUid(uid: string): PodSummary | undefined {
    return this.uids.get(uid);
  }
}

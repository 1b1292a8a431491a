/**
 * A stand-in for the kubelets of the fake cluster: it moves pods through their phases and holds
 * the container logs `GET /api/v1/namespaces/{ns}/pods/{name}/log` returns. The bench runner uses
 * it to script ib_write_bw output.
 */
import type { FakeKubeStore } from './store.js';
import { POD, type KubeObject } from './resources.js';

export type PodPhase = 'Pending' | 'Running' | 'Succeeded' | 'Failed' | 'Unknown';

export interface SetPhaseOptions {
  /** Container exit code for Succeeded/Failed (default 0 / 1). */
  readonly exitCode?: number;
  /** status.reason / terminated reason, e.g. `Error`, `OOMKilled`. */
  readonly reason?: string;
  readonly message?: string;
  readonly podIP?: string;
}

export class FakeKubelet {
  private readonly logs = new Map<string, string>();

  constructor(private readonly store: FakeKubeStore) {}

  /**
   * Sets a bound pod's phase as a kubelet would report it: status.phase, the Ready condition,
   * startTime and one containerStatus per container (running or terminated). Throws when the
   * pod does not exist or is not bound to a node (a kubelet only runs pods assigned to it).
   */
  setPodPhase(namespace: string, name: string, phase: PodPhase, opts: SetPhaseOptions = {}): KubeObject {
    const pod = this.store.get(POD, namespace, name);
    const spec = (pod['spec'] ?? {}) as {
      nodeName?: string;
      containers?: { name: string; image?: string }[];
    };
    if (spec.nodeName === undefined || spec.nodeName === '') {
      throw new Error(`pod ${namespace}/${name} is not bound to a node; no kubelet would run it`);
    }
    const now = new Date().toISOString().replace(/\.\d{3}Z$/, 'Z');
    const old = (pod['status'] ?? {}) as Record<string, unknown>;
    const terminated = phase === 'Succeeded' || phase === 'Failed';
    const exitCode = opts.exitCode ?? (phase === 'Failed' ? 1 : 0);
    const state =
      phase === 'Running'
        ? { running: { startedAt: now } }
        : terminated
          ? {
              terminated: {
                exitCode,
                reason: opts.reason ?? (exitCode === 0 ? 'Completed' : 'Error'),
                startedAt: now,
                finishedAt: now,
              },
            }
          : { waiting: { reason: 'ContainerCreating' } };
    const ready = phase === 'Running' ? 'True' : 'False';
    const conditions = ((old['conditions'] ?? []) as { type: string }[]).filter(
      (c) => c.type !== 'Ready' && c.type !== 'ContainersReady',
    );
    const status: Record<string, unknown> = {
      ...old,
      phase,
      hostIP: '10.0.0.1',
      podIP: opts.podIP ?? old['podIP'] ?? '10.244.0.10',
      startTime: old['startTime'] ?? now,
      conditions: [
        ...conditions,
        { type: 'ContainersReady', status: ready, lastTransitionTime: now },
        { type: 'Ready', status: ready, lastTransitionTime: now },
      ],
      containerStatuses: (spec.containers ?? []).map((c) => ({
        name: c.name,
        image: c.image ?? '',
        imageID: '',
        ready: phase === 'Running',
        restartCount: 0,
        started: phase === 'Running',
        state,
      })),
    };
    if (opts.reason !== undefined) status['reason'] = opts.reason;
    if (opts.message !== undefined) status['message'] = opts.message;
    return this.store.update(POD, namespace, name, { ...pod, status }, { subresource: 'status' }).object;
  }

  /** Scripts what `kubectl logs` (the pod log endpoint) returns for a pod, or one container of it. */
  setPodLogs(namespace: string, name: string, text: string, container?: string): void {
    this.logs.set(`${namespace}/${name}/${container ?? ''}`, text);
  }

  /** The scripted log of a container (falling back to the pod-wide one), or undefined. */
  podLogs(namespace: string, name: string, container?: string): string | undefined {
    return this.logs.get(`${namespace}/${name}/${container ?? ''}`) ?? this.logs.get(`${namespace}/${name}/`);
  }

  /** Completes a graceful deletion (with `podTermination: 'manual'`): the containers have stopped. */
  finishTermination(namespace: string, name: string): void {
    this.store.finishPodTermination(namespace, name);
  }
}

/**
 * PodApi on `@kubernetes/client-node` (CoreV1Api). RBAC: get/list/watch pods, create
 * pods/binding (deploy/base/rbac.yaml).
 */
import { ApiException, CoreV1Api, type KubeConfig, type V1Binding } from '@kubernetes/client-node';
import type { BindingOutcome, PodApi, PodSummary } from '../../ports/pod-api.js';
import { keepAliveApiClient } from './kube-client.js';
import { podSummary } from './pod-summary.js';

function messageOf(err: unknown): string {
  if (err instanceof ApiException) {
    const body: unknown = err.body;
    if (typeof body === 'string') {
      try {
        const status = JSON.parse(body) as { message?: unknown };
        if (typeof status.message === 'string') return status.message;
      } catch {
        // not a Status: fall through
      }
      return body.slice(0, 300);
    }
    if (
      typeof body === 'object' &&
      body !== null &&
      typeof (body as { message?: unknown }).message === 'string'
    )
      return (body as { message: string }).message;
    return `HTTP ${err.code}`;
  }
  return err instanceof Error ? err.message : String(err);
}

export class KubePodApi implements PodApi {
  private readonly core: CoreV1Api;

  constructor(
    kubeConfig: KubeConfig,
    private readonly schedulerName: string,
  ) {
    this.core = keepAliveApiClient(kubeConfig, CoreV1Api);
  }

  async bind(
    pod: { readonly namespace: string; readonly name: string; readonly uid: string },
    node: string,
    annotations: Readonly<Record<string, string>>,
  ): Promise<BindingOutcome> {
    const body: V1Binding = {
      apiVersion: 'v1',
      kind: 'Binding',
      metadata: { name: pod.name, namespace: pod.namespace, uid: pod.uid, annotations: { ...annotations } },
      target: { apiVersion: 'v1', kind: 'Node', name: node },
    };
    try {
      await this.core.createNamespacedPodBinding({ name: pod.name, namespace: pod.namespace, body });
      return { kind: 'bound' };
    } catch (err: unknown) {
      const code = err instanceof ApiException ? err.code : undefined;
      if (code === 409) return { kind: 'conflict', message: messageOf(err) };
      if (code === 404) return { kind: 'not-found', message: messageOf(err) };
      return { kind: 'failed', message: messageOf(err) };
    }
  }

  async get(namespace: string, name: string): Promise<PodSummary | undefined> {
    try {
      return podSummary(await this.core.readNamespacedPod({ name, namespace }));
    } catch (err: unknown) {
      if (err instanceof ApiException && err.code === 404) return undefined;
      throw err;
    }
  }

  async list(): Promise<PodSummary[]> {
    const list = await this.core.listPodForAllNamespaces({
      fieldSelector: `spec.schedulerName=${this.schedulerName}`,
    });
    return list.items.map(podSummary);
  }

  async listOnNode(node: string): Promise<PodSummary[]> {
    const list = await this.core.listPodForAllNamespaces({ fieldSelector: `spec.nodeName=${node}` });
    return list.items.map(podSummary);
  }
}

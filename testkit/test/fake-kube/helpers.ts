// Shared bits of the fake apiserver tests, which talk to it only through @kubernetes/client-node.
import {
  ApiException,
  CoreV1Api,
  CustomObjectsApi,
  type KubeConfig,
  type V1Pod,
} from '@kubernetes/client-node';
import { expect } from 'vitest';
import { FakeKubeApiServer, type FakeKubeApiServerOptions } from '../../src/fake-kube/index.js';

export interface Harness {
  readonly fake: FakeKubeApiServer;
  readonly kc: KubeConfig;
  readonly core: CoreV1Api;
  readonly custom: CustomObjectsApi;
}

export async function startHarness(opts: FakeKubeApiServerOptions = {}): Promise<Harness> {
  const fake = await FakeKubeApiServer.start(opts);
  const kc = fake.kubeConfig();
  return { fake, kc, core: kc.makeApiClient(CoreV1Api), custom: kc.makeApiClient(CustomObjectsApi) };
}

/** The Status a failed client call carried. Fails the test when the call succeeds. */
export async function apiFailure(
  call: Promise<unknown>,
): Promise<{ code: number; status: Record<string, unknown> }> {
  try {
    await call;
  } catch (err: unknown) {
    if (!(err instanceof ApiException)) throw err;
    const body: unknown = typeof err.body === 'string' ? JSON.parse(err.body) : err.body;
    return { code: err.code, status: body as Record<string, unknown> };
  }
  return expect.fail('the call succeeded but was expected to fail');
}

export function pod(name: string, extra: Partial<V1Pod> = {}): V1Pod {
  return {
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: { name, labels: { app: 'mpi' }, ...extra.metadata },
    spec: {
      schedulerName: 'rdma-scheduler',
      containers: [
        { name: 'main', image: 'perftest:1', resources: { limits: { 'rdmasched.io/ib-vf': '1' } } },
      ],
      ...extra.spec,
    },
  };
}

/** Polls until `check` holds (informers and watches deliver asynchronously). */
export async function eventually(check: () => boolean, what: string, timeoutMs = 5000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!check()) {
    if (Date.now() > deadline) expect.fail(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 10));
  }
}

// TLS, bearer tokens, fault injection, the request log and the simulated kubelet, through
// @kubernetes/client-node.
import { CoreV1Api } from '@kubernetes/client-node';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { FakeKubeApiServer, POD_RESOURCE } from '../../src/fake-kube/index.js';
import { apiFailure, pod, startHarness, type Harness } from './helpers.js';

describe('fake apiserver: TLS and bearer token', () => {
  let fake: FakeKubeApiServer;
  beforeAll(async () => {
    fake = await FakeKubeApiServer.start({ tls: true, token: 's3cret' });
  });
  afterAll(() => fake.stop());

  it('serves HTTPS with a certificate the generated KubeConfig trusts, and accepts the token', async () => {
    expect(fake.url).toMatch(/^https:\/\/127\.0\.0\.1:\d+$/);
    const core = fake.kubeConfig().makeApiClient(CoreV1Api);
    const namespaces = await core.listNamespace();
    expect(namespaces.items.length).toBeGreaterThan(0);
  });

  it('answers a wrong token with 401 Unauthorized', async () => {
    const core = fake.kubeConfig({ token: 'wrong' }).makeApiClient(CoreV1Api);
    const failure = await apiFailure(core.listNamespace());
    expect(failure.code).toBe(401);
  });

  it('is refused by a client that does not trust its certificate', async () => {
    const kc = fake.kubeConfig();
    const cluster = kc.getCurrentCluster();
    if (cluster === null) expect.fail('no cluster');
    // A KubeConfig without the CA: the self-signed certificate must fail verification.
    kc.loadFromOptions({
      clusters: [{ name: 'fake', server: cluster.server, skipTLSVerify: false }],
      users: [{ name: 'fake', token: 's3cret' }],
      contexts: [{ name: 'fake', cluster: 'fake', user: 'fake' }],
      currentContext: 'fake',
    });
    await expect(kc.makeApiClient(CoreV1Api).listNamespace()).rejects.toThrow(/certificate/i);
  });
});

describe('fake apiserver: faults, request log, kubelet', () => {
  let h: Harness;
  beforeAll(async () => {
    h = await startHarness();
  });
  afterAll(() => h.fake.stop());

  it('fails the next N matching requests with the given status, then serves again', async () => {
    await h.core.createNamespacedPod({ namespace: 'default', body: pod('flaky') });
    h.fake.injectFault({
      method: 'GET',
      path: '/api/v1/namespaces/default/pods/flaky',
      status: 503,
      times: 2,
    });
    expect(
      (await apiFailure(h.core.readNamespacedPod({ namespace: 'default', name: 'flaky' }))).status,
    ).toMatchObject({
      code: 503,
      reason: 'ServiceUnavailable',
    });
    expect((await apiFailure(h.core.readNamespacedPod({ namespace: 'default', name: 'flaky' }))).code).toBe(
      503,
    );
    expect((await h.core.readNamespacedPod({ namespace: 'default', name: 'flaky' })).metadata?.name).toBe(
      'flaky',
    );
  });

  it('can fail a binding with 409 as if another scheduler had won', async () => {
    await h.core.createNamespacedPod({ namespace: 'default', body: pod('raced') });
    h.fake.injectFault({ method: 'POST', path: /\/pods\/raced\/binding$/, status: 409 });
    const failure = await apiFailure(
      h.core.createNamespacedPodBinding({
        namespace: 'default',
        name: 'raced',
        body: { metadata: { name: 'raced' }, target: { kind: 'Node', name: 'n' } },
      }),
    );
    expect(failure.code).toBe(409);
    // The injected failure changed nothing: the pod is still unbound.
    expect(h.fake.store.get(POD_RESOURCE, 'default', 'raced')['spec']).not.toHaveProperty('nodeName');
  });

  it('logs every request with method, path, query, content type and status', async () => {
    const before = h.fake.requests.length;
    await h.core.listNamespacedPod({ namespace: 'default', labelSelector: 'app=mpi' });
    await apiFailure(h.core.readNamespacedPod({ namespace: 'default', name: 'nobody' }));
    expect(h.fake.requests.slice(before)).toEqual([
      {
        method: 'GET',
        path: '/api/v1/namespaces/default/pods',
        query: '?labelSelector=app%3Dmpi',
        contentType: undefined,
        status: 200,
      },
      {
        method: 'GET',
        path: '/api/v1/namespaces/default/pods/nobody',
        query: '',
        contentType: undefined,
        status: 404,
      },
    ]);
  });

  it('plays the kubelet: phases and scripted logs', async () => {
    await h.core.createNamespacedPod({ namespace: 'default', body: pod('bw-server') });
    expect(() => h.fake.kubelet.setPodPhase('default', 'bw-server', 'Running')).toThrow(/not bound/);
    await h.core.createNamespacedPodBinding({
      namespace: 'default',
      name: 'bw-server',
      body: { metadata: { name: 'bw-server' }, target: { kind: 'Node', name: 'node-1' } },
    });
    h.fake.kubelet.setPodPhase('default', 'bw-server', 'Running', { podIP: '10.244.1.7' });
    const running = await h.core.readNamespacedPod({ namespace: 'default', name: 'bw-server' });
    expect(running.status?.phase).toBe('Running');
    expect(running.status?.podIP).toBe('10.244.1.7');
    expect(running.status?.conditions?.find((c) => c.type === 'Ready')?.status).toBe('True');
    expect(running.status?.containerStatuses?.[0]?.state?.running).toBeDefined();

    const output =
      ' #bytes #iterations BW peak[Gb/sec] BW average[Gb/sec] MsgRate[Mpps]\n 65536 5000 392.10 391.87 0.747\n';
    h.fake.kubelet.setPodLogs('default', 'bw-server', output);
    expect(
      await h.core.readNamespacedPodLog({ namespace: 'default', name: 'bw-server', container: 'main' }),
    ).toBe(output);

    h.fake.kubelet.setPodPhase('default', 'bw-server', 'Failed', { exitCode: 2, reason: 'Error' });
    const failed = await h.core.readNamespacedPod({ namespace: 'default', name: 'bw-server' });
    expect(failed.status?.phase).toBe('Failed');
    expect(failed.status?.containerStatuses?.[0]?.state?.terminated?.exitCode).toBe(2);
  });
});

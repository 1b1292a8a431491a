/**
 * The bind and preempt verbs' wire format (extender/v1: Go field names, decoded
 * case-insensitively, HTTP 200 with `Error` for a failed bind) on an app without the Kubernetes
 * API: bind answers KUBE_API_OFF, preempt returns the proposal in the meta form.
 */
import { afterAll, describe, expect, it } from 'vitest';
import { makePod } from '../src/testing/builders.js';
import { testExtender } from './helpers.js';

const t = await testExtender();
afterAll(() => t.app.close());

const post = (url: string, payload: unknown) =>
  t.app.inject({
    method: 'POST',
    url,
    headers: { 'content-type': 'application/json' },
    payload: JSON.stringify(payload),
  });

describe('bind wire format', () => {
  it('answers {"Error": "..."} with HTTP 200, and KUBE_API_OFF without the API', async () => {
    const res = await post('/bind', { podname: 'p', podnamespace: 'ns', poduid: 'u', node: 'n' });
    expect(res.statusCode).toBe(200);
    expect(res.body).toBe(
      '{"Error":"KUBE_API_OFF: The extender runs without the Kubernetes API (RDMASCHED_KUBE_API=off): it cannot bind."}',
    );
  });

  it.each([
    [{ PodName: 'p', PodNamespace: 'ns', Node: 'n' }, 'PodUID'],
    [{ PodName: '', PodNamespace: 'ns', PodUID: 'u', Node: 'n' }, 'PodName'],
    [[1, 2], '(body)'],
  ])('a malformed ExtenderBindingArgs is a 400 naming the field', async (body, field) => {
    const res = await post('/bind', body);
    expect(res.statusCode).toBe(400);
    expect(JSON.parse(res.body)).toMatchObject({ error: { code: 'INVALID_FIELD', field } });
  });
});

describe('preempt wire format', () => {
  it('returns the proposal as NodeNameToMetaVictims, from either map', async () => {
    const pod = makePod().vfs('ib', 1).build();
    const meta = await post('/preempt', {
      Pod: pod,
      NodeNameToMetaVictims: { n1: { Pods: [{ UID: 'v1' }], NumPDBViolations: 2 } },
    });
    expect(meta.body).toBe('{"NodeNameToMetaVictims":{"n1":{"Pods":[{"UID":"v1"}],"NumPDBViolations":2}}}');
    const full = await post('/preempt', {
      pod,
      nodenametovictims: { n1: { pods: [{ metadata: { uid: 'v2' } }], numpdbviolations: 0 } },
    });
    expect(JSON.parse(full.body)).toEqual({
      NodeNameToMetaVictims: { n1: { Pods: [{ UID: 'v2' }], NumPDBViolations: 0 } },
    });
  });

  it('a victim without a UID is a 400 naming it', async () => {
    const res = await post('/preempt', {
      Pod: makePod().build(),
      NodeNameToMetaVictims: { n1: { Pods: [{}], NumPDBViolations: 0 } },
    });
    expect(res.statusCode).toBe(400);
    expect(JSON.parse(res.body)).toMatchObject({
      error: { field: 'NodeNameToMetaVictims["n1"].Pods[0].UID' },
    });
  });
});

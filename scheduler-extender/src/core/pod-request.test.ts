import { describe, expect, it } from 'vitest';
import { makePod } from '../testing/builders.js';
import { podRequestFrom, requestShapeKey } from './pod-request.js';

function ok(pod: unknown) {
  const r = podRequestFrom(pod);
  if (r.kind !== 'ok') throw new Error(`expected ok, got ${JSON.stringify(r)}`);
  return r.request;
}

const container = (limits: Record<string, string>, requests: Record<string, string> = {}) => ({
  name: 'c',
  resources: { limits, requests },
});

describe('podRequestFrom: counts', () => {
  it('reads VFs per link type and GPUs from the builder pod', () => {
    const r = ok(makePod().vfs('ib', 2).vfs('roce', 1).gpus(4).build());
    expect(r).toMatchObject({
      vfs: { ib: 2, roce: 1 },
      totalVfs: 3,
      gpus: 4,
      gpuLocality: 'preferred',
      minRateGbps: 0,
    });
  });

  it('sums regular containers, and a request defaults to the limit', () => {
    const pod = {
      metadata: { name: 'p' },
      spec: {
        containers: [
          container({ 'rdmasched.io/ib-vf': '1' }),
          container({}, { 'rdmasched.io/ib-vf': '2' }),
          container({ 'rdmasched.io/ib-vf': '9' }, { 'rdmasched.io/ib-vf': '3' }),
        ],
      },
    };
    expect(ok(pod).vfs.ib).toBe(6);
  });

  it.each([
    {
      name: 'plain init container larger than the containers wins',
      init: [{ ...container({ 'rdmasched.io/ib-vf': '5' }) }],
      containers: [container({ 'rdmasched.io/ib-vf': '2' })],
      want: 5,
    },
    {
      name: 'plain init container smaller than the containers does not count',
      init: [{ ...container({ 'rdmasched.io/ib-vf': '1' }) }],
      containers: [container({ 'rdmasched.io/ib-vf': '2' })],
      want: 2,
    },
    {
      name: 'a sidecar adds to the containers',
      init: [{ ...container({ 'rdmasched.io/ib-vf': '1' }), restartPolicy: 'Always' }],
      containers: [container({ 'rdmasched.io/ib-vf': '2' })],
      want: 3,
    },
    {
      name: 'an init container after a sidecar runs next to it',
      init: [
        { ...container({ 'rdmasched.io/ib-vf': '1' }), restartPolicy: 'Always' },
        { ...container({ 'rdmasched.io/ib-vf': '4' }) },
      ],
      containers: [container({ 'rdmasched.io/ib-vf': '1' })],
      want: 5,
    },
    {
      name: 'an init container before the sidecar does not see it',
      init: [
        { ...container({ 'rdmasched.io/ib-vf': '4' }) },
        { ...container({ 'rdmasched.io/ib-vf': '1' }), restartPolicy: 'Always' },
      ],
      containers: [container({ 'rdmasched.io/ib-vf': '1' })],
      want: 4,
    },
  ])('init-container rule: $name', ({ init, containers, want }) => {
    expect(ok({ spec: { initContainers: init, containers } }).vfs.ib).toBe(want);
  });

  it('adds pod overhead', () => {
    const pod = {
      spec: {
        containers: [container({ 'nvidia.com/gpu': '1', 'rdmasched.io/roce-vf': '1' })],
        overhead: { 'nvidia.com/gpu': '1' },
      },
    };
    expect(ok(pod).gpus).toBe(2);
  });

  it('matches field names case-insensitively and resource names exactly (Go semantics)', () => {
    const pod = {
      METADATA: { Name: 'p' },
      Spec: {
        Containers: [{ Resources: { Limits: { 'rdmasched.io/ib-vf': '2', 'RDMASCHED.IO/IB-VF': '7' } } }],
      },
    };
    const r = podRequestFrom(pod);
    expect(r.kind).toBe('ok');
    if (r.kind === 'ok') {
      expect(r.request.vfs.ib).toBe(2);
      expect(r.pod.name).toBe('p');
    }
  });

  it('a pod without VFs passes through even with a bad annotation', () => {
    const r = ok(makePod().gpus(2).locality('sometimes').build());
    expect(r.totalVfs).toBe(0);
    expect(r.gpus).toBe(2);
  });
});

describe('podRequestFrom: annotations', () => {
  it('reads min rate and locality', () => {
    const r = ok(makePod().vfs('ib', 1).minRateGbps('200').locality('required').build());
    expect(r.minRateGbps).toBe(200);
    expect(r.gpuLocality).toBe('required');
  });

  it.each([
    [
      'rate not a number',
      makePod().vfs('ib', 1).minRateGbps('fast'),
      /min-rate-gbps="fast" must be a number/,
    ],
    ['rate negative', makePod().vfs('ib', 1).minRateGbps('-5'), /min-rate-gbps/],
    ['rate absurd', makePod().vfs('ib', 1).minRateGbps('1e9'), /min-rate-gbps/],
    [
      'locality unknown',
      makePod().vfs('ib', 1).locality('Required!'),
      /gpu-locality="Required!" must be one of required, preferred, none/,
    ],
  ])('%s is an invalid request naming the annotation', (_n, builder, message) => {
    const r = podRequestFrom(builder.build());
    expect(r.kind).toBe('invalid');
    if (r.kind === 'invalid') {
      expect(r.message).toMatch(message);
      expect(r.pod.name).toBe('rdma-job-0');
    }
  });

  it('a bad quantity is an invalid request naming the container and resource', () => {
    const pod = {
      metadata: { name: 'p' },
      spec: { containers: [container({ 'rdmasched.io/ib-vf': '1500m' })] },
    };
    const r = podRequestFrom(pod);
    expect(r).toMatchObject({ kind: 'invalid' });
    if (r.kind === 'invalid')
      expect(r.message).toContain('Pod.spec.containers[0].resources.limits["rdmasched.io/ib-vf"]');
  });

  it('too many VFs is invalid', () => {
    const r = podRequestFrom({
      spec: {
        containers: [
          container({ 'rdmasched.io/roce-vf': '3000' }),
          container({ 'rdmasched.io/roce-vf': '3000' }),
        ],
      },
    });
    expect(r).toMatchObject({ kind: 'invalid' });
  });
});

describe('podRequestFrom: malformed pods', () => {
  it.each([
    ['not an object', 'pod', 'Pod'],
    ['no spec', { metadata: {} }, 'Pod.spec'],
    ['containers not an array', { spec: { containers: {} } }, 'Pod.spec.containers'],
    ['container not an object', { spec: { containers: [7] } }, 'Pod.spec.containers[0]'],
    [
      'resources not an object',
      { spec: { containers: [{ resources: [] }] } },
      'Pod.spec.containers[0].resources',
    ],
    [
      'limits not an object',
      { spec: { initContainers: [{ resources: { limits: 'x' } }] } },
      'Pod.spec.initContainers[0].resources.limits',
    ],
    ['metadata.name not a string', { metadata: { name: 5 }, spec: {} }, 'Pod.metadata.name'],
  ])('%s names the field', (_n, pod, fieldName) => {
    const r = podRequestFrom(pod);
    expect(r.kind).toBe('malformed');
    if (r.kind === 'malformed') expect(r.field).toBe(fieldName);
  });
});

describe('requestShapeKey', () => {
  it('ignores locality without GPUs and keeps it with GPUs', () => {
    const a = ok(makePod().vfs('ib', 1).locality('required').build());
    const b = ok(makePod().vfs('ib', 1).locality('none').build());
    expect(requestShapeKey(a)).toBe(requestShapeKey(b));
    const c = ok(makePod().vfs('ib', 1).gpus(1).locality('required').build());
    const d = ok(makePod().vfs('ib', 1).gpus(1).locality('none').build());
    expect(requestShapeKey(c)).not.toBe(requestShapeKey(d));
  });
});

import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { RdmaNodePolicy, RdmaNodePolicySpec } from './generated/types.js';
import {
  policiesForNode,
  policyForNode,
  policyForPf,
  policyMatchesPf,
  warmPoolForNode,
  type PfIdentity,
} from './node-policy.js';

function makePolicy(name: string, spec: Partial<RdmaNodePolicySpec>): RdmaNodePolicy {
  return {
    apiVersion: 'rdmasched.io/v1alpha1',
    kind: 'RdmaNodePolicy',
    metadata: { name },
    spec: { nodeSelector: {}, ...spec },
  };
}

const gpuIb = makePolicy('gpu-ib', {
  nodeSelector: { matchLabels: { gpu: 'true' } },
  linkType: 'ib',
  nicSelector: { deviceIds: ['0x1021'] },
  warmPool: { ib: { minReady: 4, maxReady: 16 } },
  priority: 10,
});
const roce = makePolicy('roce', { linkType: 'roce', warmPool: { roce: { minReady: 2 } }, priority: 50 });
const fallback = makePolicy('fallback', { warmPool: { ib: { minReady: 1 } } });
const ibPf: PfIdentity = {
  pciAddress: '0000:1a:00.0',
  netdev: 'ibp26s0',
  deviceId: '0x1021',
  linkType: 'ib',
};
const rocePf: PfIdentity = {
  pciAddress: '0000:9e:00.0',
  netdev: 'enp158s0np0',
  deviceId: '0x1021',
  linkType: 'roce',
};

describe('policyForNode', () => {
  it('takes the lowest priority number among the policies that select the node', () => {
    expect(policyForNode([fallback, roce, gpuIb], { gpu: 'true' })?.metadata.name).toBe('gpu-ib');
    expect(policyForNode([fallback, roce, gpuIb], {})?.metadata.name).toBe('roce');
  });

  it('treats a left-out priority as 99 and breaks ties by name', () => {
    const a = makePolicy('a', {});
    const b = makePolicy('b', { priority: 99 });
    expect(policiesForNode([b, fallback, a], {}).map((p) => p.metadata.name)).toEqual(['a', 'b', 'fallback']);
  });

  it('returns undefined when no policy selects the node', () => {
    expect(policyForNode([gpuIb], { gpu: 'false' })).toBeUndefined();
  });

  it('does not depend on the order of the policies', () => {
    const all = [
      gpuIb,
      roce,
      fallback,
      makePolicy('tie-a', { priority: 50 }),
      makePolicy('tie-b', { priority: 50 }),
    ];
    fc.assert(
      fc.property(fc.shuffledSubarray(all), fc.boolean(), (policies, gpu) => {
        const labels = gpu ? { gpu: 'true' } : {};
        expect(policyForNode([...policies].reverse(), labels)).toBe(policyForNode(policies, labels));
      }),
    );
  });
});

describe('policies and PFs', () => {
  it.each<[string, Partial<RdmaNodePolicySpec>, PfIdentity, boolean]>([
    ['no selector takes every PF', {}, ibPf, true],
    ['link type must agree', { linkType: 'roce' }, ibPf, false],
    ['PCI address listed', { nicSelector: { pciAddresses: ['0000:1a:00.0'] } }, ibPf, true],
    ['PCI address not listed', { nicSelector: { pciAddresses: ['0000:3b:00.0'] } }, ibPf, false],
    ['PF name listed', { nicSelector: { pfNames: ['ibp26s0'] } }, ibPf, true],
    [
      'PF without netdev never matches a name',
      { nicSelector: { pfNames: ['ibp26s0'] } },
      { ...ibPf, netdev: null },
      false,
    ],
    ['criteria are ANDed', { nicSelector: { pfNames: ['ibp26s0'], deviceIds: ['0x101b'] } }, ibPf, false],
    ['entries within a list are ORed', { nicSelector: { deviceIds: ['0x101b', '0x1021'] } }, ibPf, true],
  ])('%s', (_what, spec, pf, expected) => {
    expect(policyMatchesPf(makePolicy('p', spec), pf)).toBe(expected);
  });

  it('governs each PF by the first policy, in priority order, that accepts it', () => {
    const policies = [fallback, roce, gpuIb];
    expect(policyForPf(policies, { gpu: 'true' }, ibPf)?.metadata.name).toBe('gpu-ib');
    expect(policyForPf(policies, { gpu: 'true' }, rocePf)?.metadata.name).toBe('roce');
    expect(policyForPf(policies, {}, ibPf)?.metadata.name).toBe('fallback');
    expect(policyForPf([gpuIb], { gpu: 'true' }, rocePf)).toBeUndefined();
  });

  it('takes the warm pool of a link type from the first policy of that link type that sets one', () => {
    expect(warmPoolForNode([fallback, roce, gpuIb], { gpu: 'true' }, 'ib')).toEqual({
      minReady: 4,
      maxReady: 16,
    });
    expect(warmPoolForNode([fallback, roce, gpuIb], {}, 'ib')).toEqual({ minReady: 1 });
    expect(warmPoolForNode([fallback, roce, gpuIb], {}, 'roce')).toEqual({ minReady: 2 });
    expect(warmPoolForNode([gpuIb], { gpu: 'true' }, 'roce')).toBeUndefined();
  });
});

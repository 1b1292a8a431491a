import { describe, expect, it } from 'vitest';
import type { RdmaNodePolicy } from '@rdmasched/crds';
import { effectiveSettings, type ConfigSettings, type PolicyPf, type PolicyView } from './node-policy.js';

const IB: PolicyPf = {
  pciAddress: '0000:1a:00.0',
  netdev: 'ibp26s0',
  deviceId: '0x1021',
  linkType: 'ib',
  totalVfs: 16,
};
const ROCE: PolicyPf = {
  pciAddress: '0000:9e:00.0',
  netdev: 'enp158s0np0',
  deviceId: '0x1021',
  linkType: 'roce',
  totalVfs: 16,
};
const OFF_FW: PolicyPf = {
  pciAddress: '0000:03:00.0',
  netdev: 'ibp3s0',
  deviceId: '0x1021',
  linkType: 'ib',
  totalVfs: null,
};
const CONFIG: ConfigSettings = {
  maxVfsPerPf: 8,
  warmPool: { minReady: { ib: 2, roce: 0 }, maxReady: { ib: 4, roce: undefined } },
};

function policy(name: string, spec: Partial<RdmaNodePolicy['spec']>, generation = 1): RdmaNodePolicy {
  return {
    apiVersion: 'rdmasched.io/v1alpha1',
    kind: 'RdmaNodePolicy',
    metadata: { name, generation },
    spec: { nodeSelector: { matchLabels: { rdma: 'yes' } }, ...spec },
  };
}
const synced = (
  policies: RdmaNodePolicy[],
  labels: Record<string, string> = { rdma: 'yes' },
): PolicyView => ({
  state: 'synced',
  policies,
  nodeLabels: labels,
});
const summary = (view: PolicyView, pfs = [IB, ROCE, OFF_FW]) => {
  const e = effectiveSettings(pfs, CONFIG, view);
  return {
    source: e.source,
    pfs: Object.fromEntries(
      [...e.pfs].map(([a, s]) => [a.slice(5, 7), [s.managed, s.maxVfs, s.mtu, s.policy]]),
    ),
    warmPool: e.warmPool,
  };
};

describe('effectiveSettings (configuration, RdmaNodePolicy, precedence)', () => {
  const off: PolicyView = { state: 'off' };
  it.each([
    ['no Kubernetes API: the configuration, on every SR-IOV PF', off],
    ['no policy selects the node: the configuration', synced([policy('p', {})], { other: 'label' })],
  ])('%s', (_what, view) => {
    expect(summary(view)).toEqual({
      source: 'config',
      pfs: { '1a': [true, 8, null, null], '9e': [true, 8, null, null], '03': [false, 0, null, null] },
      warmPool: CONFIG.warmPool,
    });
  });

  it('while the policies or the node are not read yet, nothing is managed and there is no warm pool', () => {
    const s = summary({ state: 'waiting', reason: 'listing' });
    expect(s.source).toBe('waiting');
    expect(Object.values(s.pfs).every(([managed, max]) => managed === false && max === 0)).toBe(true);
    expect(s.warmPool.minReady).toEqual({ ib: 0, roce: 0 });
  });

  it('a policy that selects the node decides: its PFs get its maxVfsPerPf (capped at totalvfs) and MTU, others maxVfs 0', () => {
    const e = summary(
      synced([
        policy('ib-only', {
          linkType: 'ib',
          maxVfsPerPf: 64,
          mtu: 4092,
          warmPool: { ib: { minReady: 1, maxReady: 3 } },
        }),
      ]),
    );
    expect(e).toEqual({
      source: 'policy',
      pfs: { '1a': [true, 16, 4092, 'ib-only'], '9e': [false, 0, null, null], '03': [false, 0, null, null] },
      warmPool: { minReady: { ib: 1, roce: 0 }, maxReady: { ib: 3, roce: undefined } },
    });
  });

  it('selects PFs by PCI address, netdev or device id; the lowest priority number wins a PF', () => {
    const view = synced([
      policy('by-netdev', { nicSelector: { pfNames: ['enp158s0np0'] }, maxVfsPerPf: 2, priority: 50 }),
      policy('by-address', { nicSelector: { pciAddresses: ['0000:9e:00.0'] }, maxVfsPerPf: 4, priority: 10 }),
      policy('by-device', { nicSelector: { deviceIds: ['0x1021'] }, maxVfsPerPf: 6, priority: 90 }),
    ]);
    expect(summary(view).pfs).toEqual({
      '1a': [true, 6, null, 'by-device'],
      '9e': [true, 4, null, 'by-address'],
      '03': [false, 0, null, null],
    });
  });

  it('a PF a policy names explicitly but of the other link type is reported, never converted', () => {
    const e = effectiveSettings(
      [IB, ROCE],
      CONFIG,
      synced([policy('roce-nic', { linkType: 'ib', nicSelector: { pciAddresses: ['0000:9e:00.0'] } })]),
    );
    expect(e.pfs.get(ROCE.pciAddress)).toMatchObject({ managed: false, maxVfs: 0 });
    expect(e.pfs.get(ROCE.pciAddress)?.note).toMatch(
      /^LinkTypeMismatch: PF 0000:9e:00.0 \(enp158s0np0\) is RoCE/,
    );
    expect(e.problems.get('roce-nic')?.[0]).toMatch(
      /expects InfiniBand; rdmasched never changes a port link type/,
    );
    // The IB PF is not named by the policy: simply not governed, no complaint.
    expect(e.pfs.get(IB.pciAddress)?.note).toBe('no RdmaNodePolicy that selects this node governs this PF');
  });
});

import { describe, expect, it } from 'vitest';
import { stringify } from 'yaml';
import { PRESETS, presetSpec } from './presets.js';
import { SpecError, parseHostSpec, validateHostSpec, walkDevices, type HostSpec } from './spec.js';

describe('topology spec', () => {
  it.each(PRESETS.map((p) => p.name))('preset %s is a valid spec', (name) => {
    const spec = presetSpec(name);
    expect(validateHostSpec(spec)).toEqual({ ok: true, spec });
  });

  it('the DGX-H100-like preset has 8 GPUs, 8 IB NICs, 4 switches, 2 NUMA nodes', () => {
    const spec = presetSpec('dgx-h100');
    const devices = [...walkDevices(spec)].map((d) => d.device);
    expect(devices.filter((d) => d.type === 'gpu')).toHaveLength(8);
    const nics = devices.filter((d) => d.type === 'nic');
    expect(nics).toHaveLength(8);
    expect(nics.every((n) => n.linkType === 'ib' && n.rate === '400 Gb/sec (4X NDR)')).toBe(true);
    expect(
      devices.filter((d) => d.type === 'bridge' && d.deviceId === '0xc030' && d.children.length === 4),
    ).toHaveLength(4);
    expect(new Set(spec.hostBridges.map((h) => h.numaNode))).toEqual(new Set([0, 1]));
  });

  it('sizes apply to every SR-IOV NIC', () => {
    const spec = presetSpec('dgx-h100', { totalVfs: 128, numVfs: 128 });
    for (const { device } of walkDevices(spec))
      if (device.type === 'nic') expect(device.sriov).toMatchObject({ totalVfs: 128, numVfs: 128 });
  });

  it('parses YAML and JSON alike', () => {
    const spec = presetSpec('roce-single');
    expect(parseHostSpec(stringify(spec))).toEqual(spec);
    expect(parseHostSpec(JSON.stringify(spec))).toEqual(spec);
  });

  const base = (): HostSpec => structuredClone(presetSpec('reference-host'));
  const cases: [string, (s: HostSpec) => unknown, RegExp][] = [
    ['a malformed PCI address', (s) => ((s.hostBridges[0]!.children[0]!.address = '../../x'), s), /address/],
    [
      'numVfs above totalVfs',
      (s) => {
        for (const { device } of walkDevices(s))
          if (device.type === 'nic' && device.sriov) device.sriov.numVfs = 17;
        return s;
      },
      /numVfs: 17 exceeds totalVfs 16/,
    ],
    ['an unknown NUMA node', (s) => ((s.hostBridges[0]!.numaNode = 7), s), /NUMA node 7 is not in numaNodes/],
    [
      'a duplicate address',
      (s) => {
        const gpus = [...walkDevices(s)].filter((d) => d.device.type === 'gpu');
        gpus[1]!.device.address = gpus[0]!.device.address;
        return s;
      },
      /is also used at/,
    ],
    [
      'a device on the wrong bus',
      (s) => ((s.hostBridges[0]!.children[0]!.address = '0000:40:01.0'), s),
      /must be on bus 0000:15/,
    ],
    [
      'an interface name with a slash',
      (s) => {
        for (const { device } of walkDevices(s)) if (device.type === 'nic') device.netdev = 'eth0/../x';
        return s;
      },
      /netdev/,
    ],
    ['an unknown field', (s) => ({ ...s, extra: 1 }), /extra|additional/i],
  ];
  it.each(cases)('rejects %s, naming the field', (_name, mutate, pattern) => {
    const r = validateHostSpec(mutate(base()));
    expect(r.ok).toBe(false);
    if (!r.ok) expect(r.problems.join('\n')).toMatch(pattern);
  });

  it('throws a SpecError listing the problems for bad text', () => {
    expect(() => parseHostSpec('{ nope')).toThrow(SpecError);
    expect(() => presetSpec('no-such-preset')).toThrow(/unknown preset "no-such-preset"; known: dgx-h100/);
  });
});

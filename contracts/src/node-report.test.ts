import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { parseNodeReport, validateNodeReport, type NodeReport } from './node-report.js';

const fixture = new URL('../test/fixtures/example-host.report.json', import.meta.url);
const load = (): NodeReport => JSON.parse(readFileSync(fixture, 'utf8')) as NodeReport;

describe('validateNodeReport', () => {
  it('accepts the example host of the reference', () => {
    const r = validateNodeReport(load());
    expect(r.ok ? [] : r.errors).toEqual([]);
  });

  it('ignores fields it does not know (additive changes within v1)', () => {
    expect(validateNodeReport({ ...load(), futureField: { x: 1 } }).ok).toBe(true);
  });

  const cases: [string, (r: NodeReport) => unknown, RegExp][] = [
    ['wrong apiVersion', (r) => ({ ...r, apiVersion: 'rdmasched.io/v2' }), /\/apiVersion/],
    ['missing nodeName', ({ nodeName: _n, ...r }) => r, /\/nodeName/],
    [
      'path traversal in a PCI address',
      (r) => {
        r.pfs[0]!.pciAddress = '../../etc';
        return r;
      },
      /\/pfs\/0\/pciAddress/,
    ],
    [
      'netdev with a slash',
      (r) => {
        r.pfs[0]!.netdev = 'eth0/../x';
        return r;
      },
      /\/pfs\/0\/netdev/,
    ],
    [
      'numVfs above totalVfs',
      (r) => {
        r.pfs[0]!.sriov!.numVfs = 17;
        return r;
      },
      /numVfs: 17 exceeds totalVfs 16/,
    ],
    [
      'maxVfs above totalVfs',
      (r) => {
        r.pfs[0]!.sriov!.maxVfs = 32;
        return r;
      },
      /maxVfs: 32 exceeds totalVfs 16/,
    ],
    [
      'link layer mismatch',
      (r) => {
        r.pfs[0]!.linkLayer = 'Ethernet';
        return r;
      },
      /linkLayer: Ethernet does not match linkType ib/,
    ],
    [
      'duplicate PCI address',
      (r) => {
        r.pfs[1]!.pciAddress = r.pfs[0]!.pciAddress;
        r.pfs[1]!.pciePath = [...r.pfs[0]!.pciePath];
        return r;
      },
      /appears twice/,
    ],
    [
      'VFs on a PF with SR-IOV disabled',
      (r) => {
        r.pfs[0]!.sriov = null;
        return r;
      },
      /SR-IOV disabled cannot have VFs/,
    ],
    [
      'path not ending at the device',
      (r) => {
        r.gpus[0]!.pciePath = ['pci0000:15', '0000:15:01.0'];
        return r;
      },
      /pciePath: must end/,
    ],
    ['negative generation', (r) => ({ ...r, generation: -1 }), /\/generation/],
    ['bad timestamp', (r) => ({ ...r, reportedAt: 'yesterday' }), /\/reportedAt/],
    [
      'bad VF state',
      (r) => {
        (r.pfs[0]!.vfs[0] as { state: string }).state = 'taken';
        return r;
      },
      /\/pfs\/0\/vfs\/0\/state/,
    ],
  ];
  it.each(cases)('rejects %s, naming the field', (_name, mutate, pattern) => {
    const r = validateNodeReport(mutate(load()));
    expect(r.ok).toBe(false);
    if (!r.ok) expect(r.errors.join('\n')).toMatch(pattern);
  });
});

describe('parseNodeReport', () => {
  it('reports malformed JSON as an error, not an exception', () => {
    const r = parseNodeReport('{"apiVersion":');
    expect(r.ok).toBe(false);
    if (!r.ok) expect(r.errors[0]).toMatch(/not valid JSON/);
  });
});

import { describe, expect, it } from 'vitest';
import {
  kstrtobool,
  kstrtou16,
  parseCpuList,
  parseIdList,
  parseLinkLayer,
  parseNumaNode,
  parsePciClass,
  parsePciId,
  parsePortState,
  parseRateGbps,
} from './sysfs-values.js';

describe('sysfs value parsers (reference §2.1, §3.1)', () => {
  it.each([
    ['400 Gb/sec (4X NDR)', 400],
    ['200 Gb/sec (4X HDR)', 200],
    ['100 Gb/sec (4X EDR)', 100],
    ['2.5 Gb/sec (1X SDR)', 2.5],
    ['800 Gb/sec (4X XDR)', 800],
    ['', 0],
    ['fast', 0],
    [undefined, 0],
  ])('rate %j -> %d Gb/s', (text, gbps) => expect(parseRateGbps(text)).toBe(gbps));

  it.each([
    ['4: ACTIVE', 'ACTIVE'],
    ['1: DOWN', 'DOWN'],
    ['2: INIT', 'INIT'],
    ['5: ACTIVE_DEFER', 'ACTIVE_DEFER'],
    ['9: WEIRD', 'UNKNOWN'],
    ['ACTIVE', 'UNKNOWN'],
    [undefined, 'UNKNOWN'],
  ])('port state %j -> %s', (text, state) => expect(parsePortState(text)).toBe(state));

  it('reads ids, classes, NUMA nodes and link layers, refusing anything else', () => {
    expect(parsePciId('0x15B3')).toBe('0x15b3');
    expect(parsePciId('15b3')).toBeUndefined();
    expect(parsePciClass('0x020700')).toBe('0x020700');
    expect(parsePciClass('1024')).toBeUndefined();
    expect(parseNumaNode('1')).toBe(1);
    expect(parseNumaNode('-1')).toBe(-1);
    expect(parseNumaNode('-7')).toBe(-1);
    expect(parseNumaNode(undefined)).toBe(-1);
    expect(parseLinkLayer('InfiniBand')).toBe('InfiniBand');
    expect(parseLinkLayer('Unknown')).toBeUndefined();
  });

  it('parses kernel lists', () => {
    expect(parseIdList('0-1')).toEqual([0, 1]);
    expect(parseIdList('0-2,5')).toEqual([0, 1, 2, 5]);
    expect(parseIdList('')).toEqual([]);
    expect(parseIdList('3-1')).toBeUndefined();
    expect(parseCpuList('0-31,64-95')).toBe('0-31,64-95');
    expect(parseCpuList('0-31;rm')).toBeUndefined();
  });
});

describe('kstrtou16 (sriov_numvfs parsing, reference §1.2)', () => {
  it.each([
    ['4\n', 4],
    ['4', 4],
    ['0x4', 4],
    ['+4', 4],
    ['010', 8],
    ['0', 0],
    ['65535', 65535],
  ] as const)('accepts %j as %d', (buf, value) => expect(kstrtou16(buf)).toEqual({ ok: true, value }));

  it.each([
    ['garbage', 'EINVAL'],
    ['-1', 'EINVAL'],
    ['', 'EINVAL'],
    ['4 4', 'EINVAL'],
    ['0x', 'EINVAL'],
    ['65536', 'ERANGE'],
    ['99999999999999999', 'ERANGE'],
  ] as const)('refuses %j with %s', (buf, errno) => expect(kstrtou16(buf)).toEqual({ ok: false, errno }));

  it('kstrtobool takes 1/0, y/n, on/off', () => {
    expect(kstrtobool('on')).toEqual({ ok: true, value: true });
    expect(kstrtobool('off\n')).toEqual({ ok: true, value: false });
    expect(kstrtobool('N')).toEqual({ ok: true, value: false });
    expect(kstrtobool('maybe')).toEqual({ ok: false, errno: 'EINVAL' });
  });
});

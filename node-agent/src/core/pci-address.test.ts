import { describe, expect, it } from 'vitest';
import { formatPciAddress, parsePciAddress, vfPciAddress } from './pci-address.js';

describe('VF address arithmetic (reference §1.4)', () => {
  it('single-port ConnectX-7 at 1a:00.0, offset 1 stride 1', () => {
    expect(vfPciAddress('0000:1a:00.0', 1, 1, 0)).toBe('0000:1a:00.1');
    expect(vfPciAddress('0000:1a:00.0', 1, 1, 6)).toBe('0000:1a:00.7');
    expect(vfPciAddress('0000:1a:00.0', 1, 1, 7)).toBe('0000:1a:01.0');
    expect(vfPciAddress('0000:1a:00.0', 1, 1, 127)).toBe('0000:1a:10.0');
  });
  it('dual-port layout of the operator fixtures (PF0 offset 2, PF1 offset 3)', () => {
    expect(vfPciAddress('0000:d8:00.0', 2, 1, 0)).toBe('0000:d8:00.2');
    expect(vfPciAddress('0000:d8:00.0', 2, 1, 1)).toBe('0000:d8:00.3');
    expect(vfPciAddress('0000:d8:00.1', 3, 1, 0)).toBe('0000:d8:00.4');
  });
  it('carries into the next bus and refuses to leave bus ff', () => {
    expect(vfPciAddress('0000:1a:00.0', 1, 1, 255)).toBe('0000:1b:00.0');
    expect(vfPciAddress('0000:ff:00.0', 1, 1, 255)).toBeUndefined();
  });
  it('round-trips addresses and refuses malformed ones', () => {
    expect(formatPciAddress(parsePciAddress('0000:9e:1f.7')!)).toBe('0000:9e:1f.7');
    expect(parsePciAddress('../../x')).toBeUndefined();
  });
});

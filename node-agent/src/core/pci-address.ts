/**
 * PCI address arithmetic (reference: sysfs-sriov-rdma.md §1.4). Pure.
 */
import { isPciAddress } from '@rdmasched/contracts';

export interface PciAddressParts {
  readonly domain: number;
  readonly bus: number;
  /** slot << 3 | function */
  readonly devfn: number;
}

export function parsePciAddress(address: string): PciAddressParts | undefined {
  if (!isPciAddress(address)) return undefined;
  const [domain, bus, rest] = address.split(':') as [string, string, string];
  const [slot, fn] = rest.split('.') as [string, string];
  return {
    domain: parseInt(domain, 16),
    bus: parseInt(bus, 16),
    devfn: (parseInt(slot, 16) << 3) | Number(fn),
  };
}

export function formatPciAddress(p: PciAddressParts): string {
  const hex = (n: number, w: number) => n.toString(16).padStart(w, '0');
  return `${hex(p.domain, 4)}:${hex(p.bus, 2)}:${hex(p.devfn >> 3, 2)}.${p.devfn & 7}`;
}

/**
 * Address of VF `index` of a PF, from the PF's `sriov_offset` and `sriov_stride`:
 *   bus(i)   = PF.bus + ((PF.devfn + offset + stride*i) >> 8)
 *   devfn(i) = (PF.devfn + offset + stride*i) & 0xff
 * Returns undefined when the bus number would leave 0..255.
 */
export function vfPciAddress(pf: string, offset: number, stride: number, index: number): string | undefined {
  const p = parsePciAddress(pf);
  if (p === undefined) return undefined;
  const routing = p.devfn + offset + stride * index;
  const bus = p.bus + (routing >> 8);
  if (bus > 0xff) return undefined;
  return formatPciAddress({ domain: p.domain, bus, devfn: routing & 0xff });
}

/** `0000:1a:00.0` -> `0000:1a` (the `pci_bus` name of the bus it sits on). */
export function busOf(address: string): string {
  return address.slice(0, 7);
}

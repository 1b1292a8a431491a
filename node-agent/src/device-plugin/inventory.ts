/**
 * What the device plugin advertises, computed from a discovery pass. Pure: no I/O, no clock.
 *
 * Every VF that exists on a PF of the resource's link type is advertised, ID = its PCI address.
 * It is Healthy only when it is configured (driver bound, RDMA device present, GUID/MAC set),
 * its PF's port is ACTIVE and the PF is not locked for a resize. Advertising a VF that is not
 * ready as Unhealthy (rather than hiding it) keeps the kubelet's capacity equal to what exists,
 * and never lets the kubelet hand out a VF that is still being configured (the race the SR-IOV
 * operator documents in block-device-plugin-until-configured.md).
 */
import type { LinkType } from '@rdmasched/contracts';
import type { Discovery } from '../discovery/types.js';
import { HEALTHY, UNHEALTHY, type Device } from './api.js';
import type { UnhealthyReason } from './codes.js';

export interface VfDevice {
  /** The VF's PCI address: the device ID the kubelet sees. */
  readonly id: string;
  readonly pf: string;
  readonly linkType: LinkType;
  /** NUMA node of the VF (its PF's); -1 when unknown. */
  readonly numaNode: number;
  readonly rdmaDevice: string | null;
  readonly configured: boolean;
  /** The PF's port is ACTIVE. */
  readonly portActive: boolean;
}

export interface Inventory {
  /** Every VF of every ConnectX PF with SR-IOV enabled, by VF PCI address. */
  readonly vfs: ReadonlyMap<string, VfDevice>;
}

export const EMPTY_INVENTORY: Inventory = { vfs: new Map() };

export function inventoryFromDiscovery(d: Discovery): Inventory {
  const vfs = new Map<string, VfDevice>();
  for (const pf of d.pfs) {
    if (pf.sriov === null) continue;
    for (const vf of pf.vfs) {
      vfs.set(vf.pciAddress, {
        id: vf.pciAddress,
        pf: pf.pciAddress,
        linkType: pf.linkType,
        numaNode: vf.numaNode,
        rdmaDevice: vf.rdmaDevice,
        configured: vf.configured,
        portActive: pf.portState === 'ACTIVE',
      });
    }
  }
  return { vfs };
}

export type Health =
  { readonly healthy: true } | { readonly healthy: false; readonly reason: UnhealthyReason };

/** Why a VF may or may not be handed out now. */
export function vfHealth(vf: VfDevice, pfLocked: boolean): Health {
  if (!vf.configured) return { healthy: false, reason: 'NOT_CONFIGURED' };
  if (!vf.portActive) return { healthy: false, reason: 'PORT_NOT_ACTIVE' };
  if (pfLocked) return { healthy: false, reason: 'PF_LOCKED' };
  return { healthy: true };
}

/** The VFs of one link type, sorted by address. */
export function vfsOfLinkType(inv: Inventory, linkType: LinkType): VfDevice[] {
  return [...inv.vfs.values()].filter((v) => v.linkType === linkType).sort((a, b) => cmp(a.id, b.id));
}

/**
 * The ListAndWatch device list of one resource: sorted by ID, topology omitted when the NUMA node
 * is unknown (-1), as the SR-IOV device plugin does.
 */
export function deviceList(inv: Inventory, linkType: LinkType, isLocked: (pf: string) => boolean): Device[] {
  return vfsOfLinkType(inv, linkType).map((vf) => ({
    ID: vf.id,
    health: vfHealth(vf, isLocked(vf.pf)).healthy ? HEALTHY : UNHEALTHY,
    topology: vf.numaNode >= 0 ? { nodes: [{ ID: vf.numaNode }] } : null,
  }));
}

/** True when two device lists say the same thing (the kubelet needs no new message). */
export function sameDeviceList(a: readonly Device[], b: readonly Device[]): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) {
    const x = a[i];
    const y = b[i];
    if (x === undefined || y === undefined) return false;
    if (x.ID !== y.ID || x.health !== y.health) return false;
    if (numaOf(x) !== numaOf(y)) return false;
  }
  return true;
}

const numaOf = (d: Device): string => d.topology?.nodes.map((n) => n.ID).join(',') ?? '';

/** Byte-wise string order (locale-independent, so results are the same everywhere). */
export function cmp(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

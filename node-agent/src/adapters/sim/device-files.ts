/**
 * Contents of the attributes of PCI functions, netdevs and RDMA devices, in the formats of
 * reference/sysfs-sriov-rdma.md §2.1, §3.1 and §3.3. Pure.
 */
import { parseIdList } from '../../core/sysfs-values.js';

const hexUpper = (v: string, width: number) => v.replace(/^0x/, '').toUpperCase().padStart(width, '0');

/** `pci:v%08Xd%08Xsv%08Xsd%08Xbc%02Xsc%02Xi%02X` */
export function modalias(ids: {
  vendorId: string;
  deviceId: string;
  subsystemVendor: string;
  subsystemDevice: string;
  classCode: string;
}): string {
  const cls = ids.classCode.replace(/^0x/, '').toUpperCase();
  return (
    `pci:v${hexUpper(ids.vendorId, 8)}d${hexUpper(ids.deviceId, 8)}` +
    `sv${hexUpper(ids.subsystemVendor, 8)}sd${hexUpper(ids.subsystemDevice, 8)}` +
    `bc${cls.slice(0, 2)}sc${cls.slice(2, 4)}i${cls.slice(4, 6)}`
  );
}

/** The PCI `uevent` attribute. */
export function pciUevent(ids: {
  driver: string | null;
  vendorId: string;
  deviceId: string;
  subsystemVendor: string;
  subsystemDevice: string;
  classCode: string;
  bdf: string;
  modalias: string;
}): string {
  return [
    ...(ids.driver === null ? [] : [`DRIVER=${ids.driver}`]),
    `PCI_CLASS=${parseInt(ids.classCode, 16).toString(16).toUpperCase()}`,
    `PCI_ID=${hexUpper(ids.vendorId, 4)}:${hexUpper(ids.deviceId, 4)}`,
    `PCI_SUBSYS_ID=${hexUpper(ids.subsystemVendor, 4)}:${hexUpper(ids.subsystemDevice, 4)}`,
    `PCI_SLOT_NAME=${ids.bdf}`,
    `MODALIAS=${ids.modalias}`,
  ].join('\n');
}

/** `local_cpus`: comma-separated 32-bit hex words, most significant first, covering `totalCpus`. */
export function cpuMask(cpuList: string, totalCpus: number): string {
  const cpus = parseIdList(cpuList) ?? [];
  const words = Math.max(1, Math.ceil(totalCpus / 32));
  const out: string[] = [];
  for (let w = words - 1; w >= 0; w--) {
    let v = 0;
    for (const c of cpus) if (c >= w * 32 && c < (w + 1) * 32) v = (v | (1 << (c - w * 32))) >>> 0;
    out.push(v.toString(16).padStart(8, '0'));
  }
  return out.join(',');
}

/** 256-byte PCI configuration space header (binary `config` attribute). */
export function configSpace(ids: {
  vendorId: string;
  deviceId: string;
  classCode: string;
  revision: number;
  bridge: boolean;
}): Buffer {
  const b = Buffer.alloc(256);
  b.writeUInt16LE(parseInt(ids.vendorId, 16), 0);
  b.writeUInt16LE(parseInt(ids.deviceId, 16), 2);
  b.writeUInt16LE(0x0406, 4);
  b.writeUInt16LE(0x0010, 6);
  b.writeUInt8(ids.revision, 8);
  const cls = parseInt(ids.classCode, 16);
  b.writeUInt8(cls & 0xff, 9);
  b.writeUInt8((cls >> 8) & 0xff, 10);
  b.writeUInt8((cls >> 16) & 0xff, 11);
  b.writeUInt8(ids.bridge ? 0x01 : 0x00, 14);
  return b;
}

/** sysfs `node_guid` form from `ip` form: `a0:88:c2:03:00:12:34:56` -> `a088:c203:0012:3456`. */
export function sysfsGuid(guid: string): string {
  const hex = guid.replaceAll(':', '');
  return `${hex.slice(0, 4)}:${hex.slice(4, 8)}:${hex.slice(8, 12)}:${hex.slice(12, 16)}`;
}

export const ZERO_SYSFS_GUID = '0000:0000:0000:0000';

/** IB GID 0: the subnet prefix fe80:: plus the port GUID. */
export function ibGid0(portGuid: string | null): string {
  return portGuid === null ? zeroGid() : `fe80:0000:0000:0000:${sysfsGuid(portGuid)}`;
}

export function zeroGid(): string {
  return '0000:0000:0000:0000:0000:0000:0000:0000';
}

/** RoCE link-local GID from a MAC (EUI-64 with the U/L bit flipped): 94:6d:ae:12:34:56 -> fe80::966d:aeff:fe12:3456. */
export function roceLinkLocalGid(mac: string): string {
  const b = mac.split(':').map((x) => parseInt(x, 16));
  const eui = [(b[0] ?? 0) ^ 0x02, b[1] ?? 0, b[2] ?? 0, 0xff, 0xfe, b[3] ?? 0, b[4] ?? 0, b[5] ?? 0];
  const g = (i: number) => (((eui[i] ?? 0) << 8) | (eui[i + 1] ?? 0)).toString(16).padStart(4, '0');
  return `fe80:0000:0000:0000:${g(0)}:${g(2)}:${g(4)}:${g(6)}`;
}

/** mlx5 derives a RoCE function's node GUID from its MAC: m0 m1 m2 ff fe m3 m4 m5 [inf]. */
export function nodeGuidFromMac(mac: string): string {
  const b = mac.split(':');
  return [b[0], b[1], b[2], 'ff', 'fe', b[3], b[4], b[5]].join(':');
}

/** IPoIB hardware address: flags/QPN `00:00:10:49`, GID prefix fe80::, then the port GUID. */
export function ipoibAddress(portGuid: string | null): string {
  return `00:00:10:49:fe:80:00:00:00:00:00:00:${portGuid ?? '00:00:00:00:00:00:00:00'}`;
}
export const IPOIB_BROADCAST = '00:ff:ff:ff:ff:12:40:1b:ff:ff:00:00:00:00:00:00:ff:ff:ff:ff';

export const PORT_COUNTERS = [
  'symbol_error',
  'link_error_recovery',
  'link_downed',
  'port_rcv_errors',
  'port_rcv_remote_physical_errors',
  'port_rcv_switch_relay_errors',
  'port_xmit_discards',
  'port_xmit_constraint_errors',
  'port_rcv_constraint_errors',
  'local_link_integrity_errors',
  'excessive_buffer_overrun_errors',
  'VL15_dropped',
  'port_xmit_data',
  'port_rcv_data',
  'port_xmit_packets',
  'port_rcv_packets',
  'port_xmit_wait',
  'unicast_xmit_packets',
  'unicast_rcv_packets',
  'multicast_xmit_packets',
  'multicast_rcv_packets',
] as const;

export const HW_COUNTERS = [
  'rx_write_requests',
  'rx_read_requests',
  'rx_atomic_requests',
  'rx_dct_connect',
  'out_of_buffer',
  'out_of_sequence',
  'duplicate_request',
  'rnr_nak_retry_err',
  'packet_seq_err',
  'implied_nak_seq_err',
  'local_ack_timeout_err',
  'resp_local_length_error',
  'resp_cqe_error',
  'req_cqe_error',
  'req_remote_invalid_request',
] as const;
export const ROCE_HW_COUNTERS = [
  'np_cnp_sent',
  'np_ecn_marked_roce_packets',
  'rp_cnp_handled',
  'rp_cnp_ignored',
] as const;

const PORT_STATE_NUM: Readonly<Record<string, number>> = {
  NOP: 0,
  DOWN: 1,
  INIT: 2,
  ARMED: 3,
  ACTIVE: 4,
  ACTIVE_DEFER: 5,
};
export function portStateText(state: string): string {
  return `${PORT_STATE_NUM[state] ?? 1}: ${state}`;
}
export function physStateText(state: string): string {
  return state === 'DOWN' ? '2: Polling' : '5: LinkUp';
}

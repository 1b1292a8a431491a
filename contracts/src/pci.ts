/**
 * Well-formedness checks for names that end up in filesystem paths or commands. Anything that
 * comes from Redis or the API is checked with these before it is used to build a sysfs path, so a
 * value like `../../etc` can never reach a write.
 */

/** Full PCI address `DDDD:BB:DD.F` in lower-case hex, as sysfs names devices. */
export const PCI_ADDRESS_PATTERN = '^[0-9a-f]{4}:[0-9a-f]{2}:[01][0-9a-f]\\.[0-7]$';
const PCI_ADDRESS_RE = new RegExp(PCI_ADDRESS_PATTERN);

/** Host bridge (root complex) component of a sysfs device path, e.g. `pci0000:15`. */
export const HOST_BRIDGE_PATTERN = '^pci[0-9a-f]{4}:[0-9a-f]{2}$';
const HOST_BRIDGE_RE = new RegExp(HOST_BRIDGE_PATTERN);

/** Linux interface names: 1..15 bytes (IFNAMSIZ - 1), no `/`, no whitespace, no `:`; not `.`/`..`. */
export const NETDEV_NAME_PATTERN = '^(?!\\.{1,2}$)[A-Za-z0-9_.@-]{1,15}$';
const NETDEV_RE = new RegExp(NETDEV_NAME_PATTERN);

/** RDMA device names (`mlx5_0`, `ibp26s0`, `rocep158s0`): up to 63 characters, path-safe. */
export const RDMA_DEVICE_NAME_PATTERN = '^(?!\\.{1,2}$)[A-Za-z0-9_.-]{1,63}$';
const RDMA_DEV_RE = new RegExp(RDMA_DEVICE_NAME_PATTERN);

/** Kubernetes node names are DNS-1123 subdomains. */
export const NODE_NAME_PATTERN = '^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$';
const NODE_NAME_RE = new RegExp(NODE_NAME_PATTERN);

/** IB GUID as `ip link` takes it: exactly eight `xx:` groups. */
export const GUID_PATTERN = '^[0-9a-f]{2}(:[0-9a-f]{2}){7}$';
const GUID_RE = new RegExp(GUID_PATTERN);

/** Ethernet MAC address. */
export const MAC_PATTERN = '^[0-9a-f]{2}(:[0-9a-f]{2}){5}$';
const MAC_RE = new RegExp(MAC_PATTERN);

export const isPciAddress = (s: string): boolean => PCI_ADDRESS_RE.test(s);
export const isHostBridge = (s: string): boolean => HOST_BRIDGE_RE.test(s);
export const isNetdevName = (s: string): boolean => NETDEV_RE.test(s);
export const isRdmaDeviceName = (s: string): boolean => RDMA_DEV_RE.test(s);
export const isNodeName = (s: string): boolean => s.length <= 253 && NODE_NAME_RE.test(s);
export const isGuid = (s: string): boolean => GUID_RE.test(s);
export const isMac = (s: string): boolean => MAC_RE.test(s);

/** The all-zero GUID an unconfigured IB VF reports. */
export const ZERO_GUID = '00:00:00:00:00:00:00:00';

/**
 * Converts sysfs `node_guid` form (`a088:c203:0012:3456`) to the `ip link` form
 * (`a0:88:c2:03:00:12:34:56`). Returns undefined for anything else.
 */
export function guidFromSysfs(value: string): string | undefined {
  const m = /^([0-9a-f]{4}):([0-9a-f]{4}):([0-9a-f]{4}):([0-9a-f]{4})$/i.exec(value.trim());
  if (m === null) return undefined;
  const hex = m.slice(1).join('').toLowerCase();
  return hex.match(/../g)?.join(':');
}

/** Converts `ip link` GUID form to sysfs `node_guid` form. Returns undefined if not a GUID. */
export function guidToSysfs(guid: string): string | undefined {
  if (!isGuid(guid)) return undefined;
  const hex = guid.replaceAll(':', '');
  return hex.match(/..../g)?.join(':');
}

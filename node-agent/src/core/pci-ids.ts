/**
 * PCI ids the agent recognises (reference: sysfs-sriov-rdma.md §2.3). Ids are lower-case hex with
 * `0x`, as sysfs `vendor`/`device` print them.
 */

export const VENDOR_MELLANOX = '0x15b3';
export const VENDOR_NVIDIA = '0x10de';

export interface ConnectXModel {
  /** Marketing name, e.g. `ConnectX-7`. */
  readonly model: string;
  /** Device id of its virtual functions. */
  readonly vfDeviceId: string;
  /** mlx5 `hca_type` of the PF (`MT` + decimal device id). */
  readonly hcaType: string;
}

/** ConnectX / BlueField physical functions by device id (mlx5_core PCI table). */
export const CONNECTX_PFS: Readonly<Record<string, ConnectXModel>> = {
  '0x1017': { model: 'ConnectX-5', vfDeviceId: '0x1018', hcaType: 'MT4119' },
  '0x1019': { model: 'ConnectX-5 Ex', vfDeviceId: '0x101a', hcaType: 'MT4121' },
  '0x101b': { model: 'ConnectX-6', vfDeviceId: '0x101c', hcaType: 'MT4123' },
  '0x101d': { model: 'ConnectX-6 Dx', vfDeviceId: '0x101e', hcaType: 'MT4125' },
  '0x101f': { model: 'ConnectX-6 Lx', vfDeviceId: '0x101e', hcaType: 'MT4127' },
  '0x1021': { model: 'ConnectX-7', vfDeviceId: '0x101e', hcaType: 'MT4129' },
  '0x1023': { model: 'ConnectX-8', vfDeviceId: '0x101e', hcaType: 'MT4131' },
  '0xa2d6': { model: 'BlueField-2', vfDeviceId: '0x101e', hcaType: 'MT41686' },
  '0xa2dc': { model: 'BlueField-3', vfDeviceId: '0x101e', hcaType: 'MT41692' },
};

/** Device ids of ConnectX virtual functions (bound by mlx5_core too). */
export const CONNECTX_VF_IDS: ReadonlySet<string> = new Set(['0x1018', '0x101a', '0x101c', '0x101e']);

/** NVIDIA GPU names for the ids the reference lists; others are reported with model null. */
export const NVIDIA_GPU_MODELS: Readonly<Record<string, string>> = {
  '0x2330': 'H100 SXM5 80GB',
  '0x2331': 'H100 PCIe',
  '0x20b0': 'A100 SXM4 40GB',
  '0x20b2': 'A100 SXM4 80GB',
  '0x2335': 'H200 SXM 141GB',
};

/** True for a ConnectX/BlueField PF device id (vendor checked separately). */
export function isConnectXPf(vendorId: string, deviceId: string): boolean {
  return vendorId === VENDOR_MELLANOX && Object.hasOwn(CONNECTX_PFS, deviceId);
}

/**
 * NVIDIA display controllers: class 0x0300xx (VGA) or 0x0302xx (3D controller, e.g. H100 SXM).
 * NVSwitch bridges (class 0x0680) and audio functions are not GPUs.
 */
export function isNvidiaGpu(vendorId: string, classCode: string): boolean {
  return vendorId === VENDOR_NVIDIA && /^0x030[02][0-9a-f]{2}$/.test(classCode);
}

/** PCI class codes used by the agent and the simulator. */
export const PCI_CLASS = {
  ethernet: '0x020000',
  infiniband: '0x020700',
  vga: '0x030000',
  display3d: '0x030200',
  bridge: '0x060400',
} as const;

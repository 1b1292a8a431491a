/**
 * Ready-made simulated hosts. Sizes are options: every SR-IOV capable NIC of a preset gets
 * `totalVfs` / `numVfs` / `configuredVfs` when given.
 */
import type { BridgeSpecT, DeviceSpecT, HostSpec, NicSpecT } from './spec.js';
import { validateHostSpec, SpecError } from './spec.js';

export interface PresetOptions {
  /** sriov_totalvfs of every SR-IOV NIC. */
  readonly totalVfs?: number;
  /** VFs enabled at creation. */
  readonly numVfs?: number;
  /** Of those, VFs already configured (GUID/MAC set). */
  readonly configuredVfs?: number;
}

export interface Preset {
  readonly name: string;
  readonly description: string;
  build(opts: PresetOptions): HostSpec;
}

const hex2 = (n: number) => n.toString(16).padStart(2, '0');
const addr = (bus: number, slot = 0, fn = 0) => `0000:${hex2(bus)}:${hex2(slot)}.${fn}`;
const sriovOf = (o: PresetOptions, d: { totalVfs: number; numVfs: number; configuredVfs?: number }) => ({
  totalVfs: o.totalVfs ?? d.totalVfs,
  numVfs: o.numVfs ?? d.numVfs,
  configuredVfs: o.configuredVfs ?? d.configuredVfs ?? 0,
});
const bridge = (
  address: string,
  children: DeviceSpecT[],
  ids?: { vendorId: string; deviceId: string },
): BridgeSpecT => ({
  type: 'bridge',
  address,
  ...(ids ?? {}),
  children,
});
const ROOT_PORT = { vendorId: '0x8086', deviceId: '0x352a' };
const PEX890 = { vendorId: '0x1000', deviceId: '0xc030' };

/** (a) DGX-H100-like: 8 GPUs and 8 single-port NDR IB ConnectX-7 behind 4 PCIe switches on 2 NUMA nodes. */
const dgxH100: Preset = {
  name: 'dgx-h100',
  description:
    '8 H100 GPUs + 8 single-port NDR InfiniBand ConnectX-7, 4 PCIe switches (2 GPUs + 2 NICs each), 2 NUMA nodes',
  build(o) {
    const bases = [0x15, 0x37, 0x97, 0xb7];
    return {
      apiVersion: 'rdmasched.io/v1alpha1',
      kind: 'SimulatedHost',
      description: this.description,
      numaNodes: [
        { id: 0, cpuList: '0-55,112-167' },
        { id: 1, cpuList: '56-111,168-223' },
      ],
      hostBridges: bases.map((b, k) => {
        const nic = (bus: number, j: number): NicSpecT => ({
          type: 'nic',
          address: addr(bus),
          deviceId: '0x1021',
          linkType: 'ib',
          netdev: `ibp${bus}s0`,
          nodeGuid: `a0:88:c2:03:00:a${k}:${hex2(0x10 + j)}:00`,
          portState: 'ACTIVE',
          rate: '400 Gb/sec (4X NDR)',
          mtu: 4092,
          firmwareVersion: '28.39.1002',
          sriov: sriovOf(o, { totalVfs: 16, numVfs: 0 }),
        });
        return {
          name: `pci0000:${hex2(b)}`,
          numaNode: k < 2 ? 0 : 1,
          children: [
            bridge(
              addr(b, 1),
              [
                bridge(
                  addr(b + 1),
                  [
                    bridge(
                      addr(b + 2, 0),
                      [{ type: 'gpu', address: addr(b + 3), deviceId: '0x2330' }],
                      PEX890,
                    ),
                    bridge(
                      addr(b + 2, 1),
                      [{ type: 'gpu', address: addr(b + 4), deviceId: '0x2330' }],
                      PEX890,
                    ),
                    bridge(addr(b + 2, 2), [nic(b + 5, 0)], PEX890),
                    bridge(addr(b + 2, 3), [nic(b + 6, 1)], PEX890),
                  ],
                  PEX890,
                ),
              ],
              ROOT_PORT,
            ),
          ],
        };
      }),
    };
  },
};

/** (b) The example host of reference/sysfs-sriov-rdma.md §7, with its exact addresses. */
const referenceHost: Preset = {
  name: 'reference-host',
  description:
    'The reference example host (§7): 2 sockets, IB ConnectX-7 1a:00.0 + RoCE ConnectX-7 9e:00.0, 4 H100 GPUs',
  build(o) {
    const sriov = sriovOf(o, { totalVfs: 16, numVfs: 4 });
    return {
      apiVersion: 'rdmasched.io/v1alpha1',
      kind: 'SimulatedHost',
      description: this.description,
      numaNodes: [
        { id: 0, cpuList: '0-31,64-95' },
        { id: 1, cpuList: '32-63,96-127' },
      ],
      hostBridges: [
        {
          name: 'pci0000:15',
          numaNode: 0,
          children: [
            bridge(
              '0000:15:01.0',
              [
                bridge(
                  '0000:16:00.0',
                  [
                    bridge(
                      '0000:17:00.0',
                      [{ type: 'gpu', address: '0000:18:00.0', deviceId: '0x2330' }],
                      PEX890,
                    ),
                    bridge(
                      '0000:17:01.0',
                      [{ type: 'gpu', address: '0000:19:00.0', deviceId: '0x2330' }],
                      PEX890,
                    ),
                    bridge(
                      '0000:17:02.0',
                      [
                        {
                          type: 'nic',
                          address: '0000:1a:00.0',
                          deviceId: '0x1021',
                          linkType: 'ib',
                          netdev: 'ibp26s0',
                          nodeGuid: 'a0:88:c2:03:00:12:34:56',
                          portState: 'ACTIVE',
                          rate: '400 Gb/sec (4X NDR)',
                          mtu: 2044,
                          firmwareVersion: '28.39.1002',
                          sriov,
                        },
                      ],
                      PEX890,
                    ),
                  ],
                  PEX890,
                ),
              ],
              ROOT_PORT,
            ),
          ],
        },
        {
          name: 'pci0000:97',
          numaNode: 1,
          children: [
            bridge(
              '0000:97:01.0',
              [
                bridge(
                  '0000:98:00.0',
                  [
                    bridge(
                      '0000:99:00.0',
                      [
                        bridge(
                          '0000:9a:00.0',
                          [
                            bridge(
                              '0000:9b:00.0',
                              [{ type: 'gpu', address: '0000:9c:00.0', deviceId: '0x2330' }],
                              PEX890,
                            ),
                            bridge(
                              '0000:9b:01.0',
                              [{ type: 'gpu', address: '0000:9d:00.0', deviceId: '0x2330' }],
                              PEX890,
                            ),
                          ],
                          PEX890,
                        ),
                      ],
                      PEX890,
                    ),
                    bridge(
                      '0000:99:01.0',
                      [
                        {
                          type: 'nic',
                          address: '0000:9e:00.0',
                          deviceId: '0x1021',
                          linkType: 'roce',
                          netdev: 'enp158s0np0',
                          mac: '94:6d:ae:12:34:56',
                          nodeGuid: '94:6d:ae:03:00:12:34:56',
                          portState: 'ACTIVE',
                          rate: '400 Gb/sec (4X NDR)',
                          mtu: 9000,
                          firmwareVersion: '28.39.1002',
                          sriov,
                        },
                      ],
                      PEX890,
                    ),
                  ],
                  PEX890,
                ),
              ],
              ROOT_PORT,
            ),
          ],
        },
      ],
    };
  },
};

/** (c) A GPU-less node with one RoCE NIC. */
const roceSingle: Preset = {
  name: 'roce-single',
  description: 'GPU-less node, one 200G RoCE ConnectX-7 on one NUMA node',
  build(o) {
    return {
      apiVersion: 'rdmasched.io/v1alpha1',
      kind: 'SimulatedHost',
      description: this.description,
      numaNodes: [{ id: 0, cpuList: '0-15' }],
      hostBridges: [
        {
          name: 'pci0000:00',
          numaNode: 0,
          children: [
            bridge(
              '0000:00:01.0',
              [
                {
                  type: 'nic',
                  address: '0000:01:00.0',
                  deviceId: '0x1021',
                  linkType: 'roce',
                  netdev: 'enp1s0np0',
                  mac: '0c:42:a1:00:00:01',
                  portState: 'ACTIVE',
                  rate: '200 Gb/sec (4X HDR)',
                  mtu: 9000,
                  firmwareVersion: '28.39.1002',
                  sriov: sriovOf(o, { totalVfs: 8, numVfs: 0 }),
                },
              ],
              ROOT_PORT,
            ),
          ],
        },
      ],
    };
  },
};

/** (d) A ConnectX with SR-IOV disabled in firmware: no sriov_* files; one GPU beside it. */
const sriovDisabled: Preset = {
  name: 'sriov-disabled',
  description: 'One IB ConnectX-7 with SR-IOV disabled in firmware (no sriov_* files) and one GPU',
  build() {
    return {
      apiVersion: 'rdmasched.io/v1alpha1',
      kind: 'SimulatedHost',
      description: this.description,
      numaNodes: [{ id: 0, cpuList: '0-31' }],
      hostBridges: [
        {
          name: 'pci0000:00',
          numaNode: 0,
          children: [
            bridge('0000:00:02.0', [{ type: 'gpu', address: '0000:02:00.0', deviceId: '0x2331' }], ROOT_PORT),
            bridge(
              '0000:00:03.0',
              [
                {
                  type: 'nic',
                  address: '0000:03:00.0',
                  deviceId: '0x1021',
                  linkType: 'ib',
                  netdev: 'ibp3s0',
                  nodeGuid: 'a0:88:c2:03:00:00:00:03',
                  portState: 'ACTIVE',
                  rate: '400 Gb/sec (4X NDR)',
                  mtu: 4092,
                  sriov: null,
                },
              ],
              ROOT_PORT,
            ),
          ],
        },
      ],
    };
  },
};

export const PRESETS: readonly Preset[] = [dgxH100, referenceHost, roceSingle, sriovDisabled];

/** Builds a preset's spec (validated); throws SpecError for an unknown name or bad sizes. */
export function presetSpec(name: string, opts: PresetOptions = {}): HostSpec {
  const p = PRESETS.find((x) => x.name === name);
  if (p === undefined)
    throw new SpecError([`unknown preset "${name}"; known: ${PRESETS.map((x) => x.name).join(', ')}`]);
  const r = validateHostSpec(p.build(opts));
  if (!r.ok) throw new SpecError(r.problems);
  return r.spec;
}

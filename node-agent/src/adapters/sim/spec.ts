/**
 * The topology spec a simulated host is built from (JSON or YAML). A tree, as the PCIe hierarchy
 * is: host bridges hold root ports, bridges hold bridges and endpoints (GPUs, ConnectX NICs).
 * Validated in full before anything is written; every problem is reported with its path.
 */
import { Type, type Static, type TSchema } from '@sinclair/typebox';
import { TypeCompiler } from '@sinclair/typebox/compiler';
import {
  GUID_PATTERN,
  HOST_BRIDGE_PATTERN,
  MAC_PATTERN,
  NETDEV_NAME_PATTERN,
  PCI_ADDRESS_PATTERN,
} from '@rdmasched/contracts';
import { parse as parseYaml } from 'yaml';
import { parseIdList } from '../../core/sysfs-values.js';
import { CONNECTX_PFS } from '../../core/pci-ids.js';
import { busOf, parsePciAddress, vfPciAddress } from '../../core/pci-address.js';

const Pci = Type.String({ pattern: PCI_ADDRESS_PATTERN, description: 'PCI address DDDD:BB:DD.F' });
const PciId = Type.String({ pattern: '^0x[0-9a-f]{4}$' });
const LinkSpeed = Type.String({ pattern: '^[0-9.]+ GT/s( PCIe)?$|^Unknown$', maxLength: 32 });

const SriovSpec = Type.Object(
  {
    /** sriov_totalvfs: the firmware's NUM_OF_VFS. */
    totalVfs: Type.Integer({ minimum: 1, maximum: 65535 }),
    /** sriov_numvfs at creation (VFs enabled and bound). */
    numVfs: Type.Optional(Type.Integer({ minimum: 0, maximum: 65535 })),
    offset: Type.Optional(Type.Integer({ minimum: 1, maximum: 255 })),
    stride: Type.Optional(Type.Integer({ minimum: 1, maximum: 255 })),
    /** How many of the initial VFs already have their GUID (IB) or MAC (RoCE) set. */
    configuredVfs: Type.Optional(Type.Integer({ minimum: 0, maximum: 65535 })),
  },
  { additionalProperties: false },
);

const NicSpec = Type.Object(
  {
    type: Type.Literal('nic'),
    address: Pci,
    /** ConnectX PF device id; default 0x1021 (ConnectX-7). */
    deviceId: Type.Optional(PciId),
    linkType: Type.Union([Type.Literal('ib'), Type.Literal('roce')]),
    netdev: Type.String({ pattern: NETDEV_NAME_PATTERN }),
    /** Port GUID / node GUID (`xx:xx:xx:xx:xx:xx:xx:xx`); derived from the MAC for RoCE when absent. */
    nodeGuid: Type.Optional(Type.String({ pattern: GUID_PATTERN })),
    /** RoCE PF MAC. */
    mac: Type.Optional(Type.String({ pattern: MAC_PATTERN })),
    portState: Type.Optional(Type.Union(['DOWN', 'INIT', 'ARMED', 'ACTIVE'].map((s) => Type.Literal(s)))),
    /** Port rate as sysfs prints it; default `400 Gb/sec (4X NDR)`. */
    rate: Type.Optional(Type.String({ pattern: '^[0-9.]+ Gb/sec \\([0-9]+X[A-Z0-9 ]*\\)$', maxLength: 40 })),
    mtu: Type.Optional(Type.Integer({ minimum: 68, maximum: 65535 })),
    firmwareVersion: Type.Optional(Type.String({ pattern: '^[0-9]+\\.[0-9]+\\.[0-9]+$', maxLength: 32 })),
    /** null: SR-IOV disabled in firmware (no sriov_* files at all). */
    sriov: Type.Union([SriovSpec, Type.Null()]),
    /** GID table length of the PF port (VFs get 8); default 16. */
    gidTableLength: Type.Optional(Type.Integer({ minimum: 1, maximum: 256 })),
  },
  { additionalProperties: false },
);

const GpuSpec = Type.Object(
  {
    type: Type.Literal('gpu'),
    address: Pci,
    /** NVIDIA device id; default 0x2330 (H100 SXM5). */
    deviceId: Type.Optional(PciId),
    /** 3D controller (0x030200, default) or VGA (0x030000). */
    classCode: Type.Optional(Type.Union([Type.Literal('0x030200'), Type.Literal('0x030000')])),
    maxLinkSpeed: Type.Optional(LinkSpeed),
  },
  { additionalProperties: false },
);

type DeviceT = Static<typeof NicSpec> | Static<typeof GpuSpec> | BridgeT;
interface BridgeT {
  type: 'bridge';
  address: string;
  vendorId?: string;
  deviceId?: string;
  linkSpeed?: string;
  children: DeviceT[];
}

const DeviceSpec = Type.Recursive(
  (Self) =>
    Type.Union([
      NicSpec,
      GpuSpec,
      Type.Object(
        {
          type: Type.Literal('bridge'),
          address: Pci,
          /** Default: 0x8086 for a root port, 0x1000 (Broadcom PEX) below it. */
          vendorId: Type.Optional(PciId),
          deviceId: Type.Optional(PciId),
          linkSpeed: Type.Optional(LinkSpeed),
          children: Type.Array(Self, { maxItems: 256 }),
        },
        { additionalProperties: false },
      ),
    ]),
  { $id: 'Device' },
) as unknown as TSchema;

export const HostSpecSchema = Type.Object(
  {
    apiVersion: Type.Literal('rdmasched.io/v1alpha1'),
    kind: Type.Literal('SimulatedHost'),
    /** Free text, shown by the CLI. */
    description: Type.Optional(Type.String({ maxLength: 500 })),
    numaNodes: Type.Array(
      Type.Object(
        { id: Type.Integer({ minimum: 0, maximum: 1023 }), cpuList: Type.String({ pattern: '^[0-9,-]+$' }) },
        { additionalProperties: false },
      ),
      { minItems: 1, maxItems: 64 },
    ),
    hostBridges: Type.Array(
      Type.Object(
        {
          name: Type.String({ pattern: HOST_BRIDGE_PATTERN }),
          /** -1: the firmware gives no NUMA node (no ACPI _PXM). */
          numaNode: Type.Integer({ minimum: -1, maximum: 1023 }),
          children: Type.Array(DeviceSpec, { maxItems: 256 }),
        },
        { additionalProperties: false },
      ),
      { minItems: 1, maxItems: 64 },
    ),
  },
  { additionalProperties: false },
);

export type NicSpecT = Static<typeof NicSpec>;
export type GpuSpecT = Static<typeof GpuSpec>;
export type BridgeSpecT = BridgeT;
export type DeviceSpecT = DeviceT;
export interface HostSpec {
  apiVersion: 'rdmasched.io/v1alpha1';
  kind: 'SimulatedHost';
  description?: string;
  numaNodes: { id: number; cpuList: string }[];
  hostBridges: { name: string; numaNode: number; children: DeviceT[] }[];
}

// Checked level by level (not with the recursive union), so every error names the exact field
// of the device it is in instead of "Expected union value".
const BridgeShallow = Type.Object(
  {
    type: Type.Literal('bridge'),
    address: Pci,
    vendorId: Type.Optional(PciId),
    deviceId: Type.Optional(PciId),
    linkSpeed: Type.Optional(LinkSpeed),
    children: Type.Array(Type.Unknown(), { maxItems: 256 }),
  },
  { additionalProperties: false },
);
const deviceChecks = {
  nic: TypeCompiler.Compile(NicSpec),
  gpu: TypeCompiler.Compile(GpuSpec),
  bridge: TypeCompiler.Compile(BridgeShallow),
};
const topCheck = TypeCompiler.Compile(
  Type.Object(
    {
      ...HostSpecSchema.properties,
      hostBridges: Type.Array(
        Type.Object(
          {
            name: Type.String({ pattern: HOST_BRIDGE_PATTERN }),
            numaNode: Type.Integer({ minimum: -1, maximum: 1023 }),
            children: Type.Array(Type.Unknown(), { maxItems: 256 }),
          },
          { additionalProperties: false },
        ),
        { minItems: 1, maxItems: 64 },
      ),
    },
    { additionalProperties: false },
  ),
);

function deviceErrors(v: unknown, where: string, out: string[], depth: number): void {
  if (depth > 32) {
    out.push(`${where}: the tree is deeper than 32 levels`);
    return;
  }
  if (typeof v !== 'object' || v === null) {
    out.push(`${where}: must be an object`);
    return;
  }
  const t = (v as { type?: unknown }).type;
  const check = t === 'nic' || t === 'gpu' || t === 'bridge' ? deviceChecks[t] : undefined;
  if (check === undefined) {
    out.push(`${where}/type: must be nic, gpu or bridge`);
    return;
  }
  for (const e of check.Errors(v)) out.push(`${where}${e.path}: ${e.message}`);
  const children = (v as { children?: unknown }).children;
  if (t === 'bridge' && Array.isArray(children))
    children.forEach((c, i) => deviceErrors(c, `${where}/children/${i}`, out, depth + 1));
}

function schemaErrors(value: unknown): string[] {
  const out: string[] = [];
  for (const e of topCheck.Errors(value)) out.push(`${e.path || '/'}: ${e.message}`);
  if (out.length > 0) return out;
  (value as { hostBridges: { children: unknown[] }[] }).hostBridges.forEach((hb, i) =>
    hb.children.forEach((c, j) => deviceErrors(c, `/hostBridges/${i}/children/${j}`, out, 0)),
  );
  return out;
}

export class SpecError extends Error {
  readonly code = 'SPEC_INVALID';
  constructor(readonly problems: readonly string[]) {
    super(`invalid simulated host spec:\n  ${problems.join('\n  ')}`);
    this.name = 'SpecError';
  }
}

/** Walks every device with its parent chain (host bridge name first). */
export function* walkDevices(
  spec: HostSpec,
): Generator<{ device: DeviceT; where: string; hostBridge: string; numaNode: number; parent: string }> {
  function* walk(
    list: DeviceT[],
    where: string,
    hostBridge: string,
    numaNode: number,
    parent: string,
  ): Generator<{ device: DeviceT; where: string; hostBridge: string; numaNode: number; parent: string }> {
    for (const [i, d] of list.entries()) {
      const w = `${where}/children/${i}`;
      yield { device: d, where: w, hostBridge, numaNode, parent };
      if (d.type === 'bridge') yield* walk(d.children, w, hostBridge, numaNode, d.address);
    }
  }
  for (const [i, hb] of spec.hostBridges.entries())
    yield* walk(hb.children, `/hostBridges/${i}`, hb.name, hb.numaNode, hb.name);
}

/** Validates a parsed value as a spec: the schema, then the rules of the PCIe tree. */
export function validateHostSpec(
  value: unknown,
): { ok: true; spec: HostSpec } | { ok: false; problems: string[] } {
  const schemaProblems = schemaErrors(value);
  if (schemaProblems.length > 0) return { ok: false, problems: schemaProblems.slice(0, 20) };
  const spec = value as HostSpec;
  const problems: string[] = [];
  const numaIds = new Set<number>();
  for (const [i, n] of spec.numaNodes.entries()) {
    if (numaIds.has(n.id)) problems.push(`/numaNodes/${i}/id: NUMA node ${n.id} appears twice`);
    numaIds.add(n.id);
    if (parseIdList(n.cpuList) === undefined) problems.push(`/numaNodes/${i}/cpuList: not a CPU list`);
  }
  const addresses = new Map<string, string>();
  const netdevs = new Set<string>();
  const claim = (addr: string, where: string) => {
    const prev = addresses.get(addr);
    if (prev !== undefined) problems.push(`${where}: PCI address ${addr} is also used at ${prev}`);
    else addresses.set(addr, where);
  };
  const hbNames = new Set<string>();
  for (const [i, hb] of spec.hostBridges.entries()) {
    if (hbNames.has(hb.name)) problems.push(`/hostBridges/${i}/name: ${hb.name} appears twice`);
    hbNames.add(hb.name);
    if (hb.numaNode >= 0 && !numaIds.has(hb.numaNode))
      problems.push(`/hostBridges/${i}/numaNode: NUMA node ${hb.numaNode} is not in numaNodes`);
  }
  // Children of one parent sit on one bus: the host bridge's own bus, or the bridge's secondary bus.
  const checkBus = (
    children: DeviceT[],
    expectedBus: string | undefined,
    where: string,
    parentBus: string,
  ) => {
    const buses = new Set(children.map((c) => busOf(c.address)));
    if (buses.size > 1)
      problems.push(
        `${where}/children: devices of one parent must share a bus (found ${[...buses].join(', ')})`,
      );
    for (const [j, c] of children.entries()) {
      const bus = busOf(c.address);
      if (expectedBus !== undefined && bus !== expectedBus)
        problems.push(`${where}/children/${j}/address: ${c.address} must be on bus ${expectedBus}`);
      if (expectedBus === undefined && parseInt(bus.slice(5), 16) <= parseInt(parentBus.slice(5), 16))
        problems.push(
          `${where}/children/${j}/address: ${c.address} must be on a bus above its bridge's (${parentBus})`,
        );
    }
  };
  for (const [i, hb] of spec.hostBridges.entries())
    checkBus(hb.children, hb.name.slice(3), `/hostBridges/${i}`, hb.name.slice(3));
  for (const { device: d, where } of walkDevices(spec)) {
    claim(d.address, where);
    if (d.type === 'bridge') checkBus(d.children, undefined, where, busOf(d.address));
    if (d.type !== 'nic') continue;
    if (d.deviceId !== undefined && !Object.hasOwn(CONNECTX_PFS, d.deviceId))
      problems.push(
        `${where}/deviceId: ${d.deviceId} is not a ConnectX PF id (${Object.keys(CONNECTX_PFS).join(', ')})`,
      );
    if (netdevs.has(d.netdev)) problems.push(`${where}/netdev: ${d.netdev} appears twice`);
    netdevs.add(d.netdev);
    if (d.linkType === 'ib' && d.nodeGuid === undefined)
      problems.push(`${where}/nodeGuid: required for an InfiniBand NIC`);
    if (d.linkType === 'roce' && d.mac === undefined) problems.push(`${where}/mac: required for a RoCE NIC`);
    if (d.sriov !== null) {
      const s = d.sriov;
      if ((s.numVfs ?? 0) > s.totalVfs)
        problems.push(`${where}/sriov/numVfs: ${s.numVfs} exceeds totalVfs ${s.totalVfs}`);
      if ((s.configuredVfs ?? 0) > (s.numVfs ?? 0))
        problems.push(`${where}/sriov/configuredVfs: ${s.configuredVfs} exceeds numVfs ${s.numVfs ?? 0}`);
      // Every VF the firmware allows must have an address of its own.
      for (let v = 0; v < s.totalVfs; v++) {
        const vf = vfPciAddress(d.address, s.offset ?? 1, s.stride ?? 1, v);
        if (vf === undefined) {
          problems.push(`${where}/sriov: VF ${v} would be beyond bus ff`);
          break;
        }
        claim(vf, `${where} (VF ${v})`);
      }
    }
    if (parsePciAddress(d.address) === undefined) problems.push(`${where}/address: not a PCI address`);
  }
  return problems.length > 0 ? { ok: false, problems: problems.slice(0, 50) } : { ok: true, spec };
}

/** Parses JSON or YAML text and validates it; throws SpecError listing every problem. */
export function parseHostSpec(text: string, source = 'spec'): HostSpec {
  let value: unknown;
  try {
    value = parseYaml(text); // YAML is a superset of JSON
  } catch (err: unknown) {
    throw new SpecError([
      `${source}: not valid YAML/JSON (${err instanceof Error ? err.message : String(err)})`,
    ]);
  }
  const r = validateHostSpec(value);
  if (!r.ok) throw new SpecError(r.problems);
  return r.spec;
}

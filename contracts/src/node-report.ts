/**
 * The v1 node report: what a node agent knows about its node's RDMA hardware, published to Redis
 * (see redis-keys.ts) and read by every extender replica. The node agent produces it and owns it.
 *
 * Compatibility: readers ignore fields they do not know, so fields may be added within v1;
 * removing, renaming or changing the meaning of a field needs apiVersion rdmasched.io/v2.
 */
import { FormatRegistry, Type, type Static } from '@sinclair/typebox';
import { TypeCompiler } from '@sinclair/typebox/compiler';
import {
  GUID_PATTERN,
  HOST_BRIDGE_PATTERN,
  MAC_PATTERN,
  NETDEV_NAME_PATTERN,
  NODE_NAME_PATTERN,
  PCI_ADDRESS_PATTERN,
  RDMA_DEVICE_NAME_PATTERN,
} from './pci.js';

const RFC3339 = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?(Z|[+-]\d{2}:\d{2})$/;
if (!FormatRegistry.Has('date-time')) {
  FormatRegistry.Set('date-time', (v) => RFC3339.test(v) && !Number.isNaN(Date.parse(v)));
}

export const NODE_REPORT_API_VERSION = 'rdmasched.io/v1';
export const NODE_REPORT_KIND = 'NodeReport';

const PciAddress = Type.String({ pattern: PCI_ADDRESS_PATTERN, description: 'PCI address DDDD:BB:DD.F' });
const PciId = Type.String({
  pattern: '^0x[0-9a-f]{4}$',
  description: 'PCI vendor or device id, e.g. 0x15b3',
});
/** Host bridge first, the device itself last. */
const PciePath = Type.Array(
  Type.Union([Type.String({ pattern: PCI_ADDRESS_PATTERN }), Type.String({ pattern: HOST_BRIDGE_PATTERN })]),
  {
    maxItems: 32,
    description: 'PCIe path from the host bridge (pciDDDD:BB) down to the device, device last',
  },
);
const NumaNode = Type.Integer({ minimum: -1, maximum: 1023, description: 'NUMA node; -1 when unknown' });
const Netdev = Type.Union([Type.String({ pattern: NETDEV_NAME_PATTERN }), Type.Null()]);
const RdmaDevice = Type.Union([Type.String({ pattern: RDMA_DEVICE_NAME_PATTERN }), Type.Null()]);

export const LinkTypeSchema = Type.Union([Type.Literal('ib'), Type.Literal('roce')]);

export const PortStateSchema = Type.Union(
  ['NOP', 'DOWN', 'INIT', 'ARMED', 'ACTIVE', 'ACTIVE_DEFER', 'UNKNOWN'].map((s) => Type.Literal(s)),
);
export type PortState = 'NOP' | 'DOWN' | 'INIT' | 'ARMED' | 'ACTIVE' | 'ACTIVE_DEFER' | 'UNKNOWN';

export const VfStateSchema = Type.Union([
  Type.Literal('free'),
  Type.Literal('reserved'),
  Type.Literal('in-use'),
]);

export const VfReportSchema = Type.Object({
  /** N of the PF's `virtfnN` link. */
  index: Type.Integer({ minimum: 0, maximum: 65535 }),
  pciAddress: PciAddress,
  netdev: Netdev,
  rdmaDevice: RdmaDevice,
  /** Bound driver (`mlx5_core`), or null when unbound. */
  driver: Type.Union([Type.String({ maxLength: 64 }), Type.Null()]),
  /**
   * True only when the VF is ready for a pod: driver bound, RDMA device present and its GUID (IB)
   * or MAC (RoCE) set. A VF that exists but is not configured is never counted as free.
   */
  configured: Type.Boolean(),
  /** IB node/port GUID (`xx:xx:xx:xx:xx:xx:xx:xx`); null when unset (reads all zeros) or RoCE. */
  guid: Type.Union([Type.String({ pattern: GUID_PATTERN }), Type.Null()]),
  /** RoCE admin MAC; null when unset or IB. */
  mac: Type.Union([Type.String({ pattern: MAC_PATTERN }), Type.Null()]),
  /**
   * free: nobody holds it; reserved: a reservation in the ledger names it; in-use: the kubelet
   * allocated it to a container (device plugin).
   *
   * The reservation ledger is authoritative for reservations: `reserved` is informational (the
   * ledger counts VFs per PF, so the agent marks as many configured, unused VFs as the PF's
   * reservations still wait for; readers must not add it to the ledger's counts). `in-use` is
   * the kubelet's word and always counts.
   */
  state: VfStateSchema,
  /**
   * Pod holding the VF. For `in-use`: the pod's UID whenever the agent can resolve it (the
   * kubelet names pods by namespace/name; the agent matches them against the ledger's
   * reservations on this node). Absent or null for an in-use VF means the pod holds no
   * reservation on this node (a container not scheduled by rdmasched) or could not be named yet
   * (right after allocation); readers count such a VF as held in addition to the ledger's
   * reservations. Never set for `reserved` (the ledger does not say which VF a pod will get).
   */
  podUid: Type.Optional(Type.Union([Type.String({ maxLength: 128 }), Type.Null()])),
});

export const SriovReportSchema = Type.Object({
  /** `sriov_totalvfs`: the firmware limit (NUM_OF_VFS). The agent never writes more. */
  totalVfs: Type.Integer({ minimum: 0, maximum: 65535 }),
  /** `sriov_numvfs`: VFs enabled now. */
  numVfs: Type.Integer({ minimum: 0, maximum: 65535 }),
  /** The most VFs the agent will enable on this PF: min(totalVfs, node policy maxVfsPerPf). */
  maxVfs: Type.Integer({ minimum: 0, maximum: 65535 }),
  /** True while the agent is changing `sriov_numvfs` (PF must not be reserved meanwhile). */
  resizing: Type.Boolean(),
});

export const PfReportSchema = Type.Object({
  pciAddress: PciAddress,
  vendorId: PciId,
  deviceId: PciId,
  /** Marketing name from the device id, e.g. `ConnectX-7`; null when unknown. */
  model: Type.Union([Type.String({ maxLength: 64 }), Type.Null()]),
  netdev: Netdev,
  rdmaDevice: RdmaDevice,
  linkType: LinkTypeSchema,
  linkLayer: Type.Union([Type.Literal('InfiniBand'), Type.Literal('Ethernet')]),
  /** Port 1 logical state (`ports/1/state`). */
  portState: PortStateSchema,
  /** Port 1 rate from `ports/1/rate`, in Gb/s; 0 when unknown. */
  rateGbps: Type.Number({ minimum: 0, maximum: 100000 }),
  mtu: Type.Union([Type.Integer({ minimum: 0, maximum: 65535 }), Type.Null()]),
  numaNode: NumaNode,
  pciePath: PciePath,
  firmwareVersion: Type.Union([Type.String({ maxLength: 64 }), Type.Null()]),
  /**
   * SR-IOV state; null when SR-IOV is disabled in firmware (no `sriov_*` files): such a PF can
   * never host a VF until an operator changes the firmware and reboots.
   */
  sriov: Type.Union([SriovReportSchema, Type.Null()]),
  vfs: Type.Array(VfReportSchema, { maxItems: 4096 }),
});

export const GpuReportSchema = Type.Object({
  pciAddress: PciAddress,
  vendorId: PciId,
  deviceId: PciId,
  model: Type.Union([Type.String({ maxLength: 64 }), Type.Null()]),
  numaNode: NumaNode,
  pciePath: PciePath,
  /** True when the GPU is allocated to a container (as far as the agent can tell). */
  allocated: Type.Boolean(),
});

export const NumaNodeReportSchema = Type.Object({
  id: Type.Integer({ minimum: 0, maximum: 1023 }),
  /** Kernel CPU list, e.g. `0-31,64-95`. */
  cpuList: Type.String({ pattern: '^[0-9,\\-]*$', maxLength: 4096 }),
});

export const NodeReportSchema = Type.Object({
  apiVersion: Type.Literal(NODE_REPORT_API_VERSION),
  kind: Type.Literal(NODE_REPORT_KIND),
  nodeName: Type.String({ pattern: NODE_NAME_PATTERN, maxLength: 253 }),
  agentVersion: Type.String({ minLength: 1, maxLength: 64 }),
  /**
   * Strictly increasing per node, also across agent restarts: agents use
   * max(previous + 1, unix milliseconds). Readers drop a report whose generation is not newer.
   */
  generation: Type.Integer({ minimum: 1 }),
  /** When the agent produced the report (RFC 3339). */
  reportedAt: Type.String({ format: 'date-time', maxLength: 64 }),
  /** The agent's heartbeat interval; a report is stale after ~3 missed heartbeats. */
  heartbeatIntervalMs: Type.Integer({ minimum: 100, maximum: 3_600_000 }),
  numaNodes: Type.Array(NumaNodeReportSchema, { maxItems: 1024 }),
  gpus: Type.Array(GpuReportSchema, { maxItems: 256 }),
  pfs: Type.Array(PfReportSchema, { maxItems: 256 }),
});

export type VfState = Static<typeof VfStateSchema>;
export type VfReport = Static<typeof VfReportSchema>;
export type SriovReport = Static<typeof SriovReportSchema>;
export type PfReport = Static<typeof PfReportSchema>;
export type GpuReport = Static<typeof GpuReportSchema>;
export type NumaNodeReport = Static<typeof NumaNodeReportSchema>;
export type NodeReport = Static<typeof NodeReportSchema>;

const compiled = TypeCompiler.Compile(NodeReportSchema);

export type ValidationResult<T> = { ok: true; value: T } | { ok: false; errors: string[] };

/**
 * Validates a node report: the schema, then the rules a schema cannot say (VF counts within the
 * firmware limit, unique addresses, link layer matching link type, paths ending at the device).
 * Returns every problem found (at most 20), each naming the field. Never throws.
 */
export function validateNodeReport(value: unknown): ValidationResult<NodeReport> {
  if (!compiled.Check(value)) {
    const errors: string[] = [];
    for (const e of compiled.Errors(value)) {
      errors.push(`${e.path || '/'}: ${e.message}`);
      if (errors.length >= 20) break;
    }
    return { ok: false, errors };
  }
  const errors = semanticErrors(value);
  return errors.length > 0 ? { ok: false, errors } : { ok: true, value };
}

function semanticErrors(r: NodeReport): string[] {
  const errors: string[] = [];
  const seen = new Set<string>();
  const addr = (a: string, where: string) => {
    if (seen.has(a)) errors.push(`${where}: PCI address ${a} appears twice in the report`);
    seen.add(a);
  };
  const pathEnds = (path: readonly string[], a: string, where: string) => {
    if (path.length > 0 && path[path.length - 1] !== a)
      errors.push(`${where}/pciePath: must end with the device's own address ${a}`);
    if (path.length > 0 && !(path[0] ?? '').startsWith('pci'))
      errors.push(`${where}/pciePath: must start with the host bridge (pciDDDD:BB)`);
  };
  r.gpus.forEach((g, i) => {
    addr(g.pciAddress, `/gpus/${i}`);
    pathEnds(g.pciePath, g.pciAddress, `/gpus/${i}`);
  });
  r.pfs.forEach((pf, i) => {
    const where = `/pfs/${i}`;
    addr(pf.pciAddress, where);
    pathEnds(pf.pciePath, pf.pciAddress, where);
    const layer = pf.linkType === 'ib' ? 'InfiniBand' : 'Ethernet';
    if (pf.linkLayer !== layer)
      errors.push(`${where}/linkLayer: ${pf.linkLayer} does not match linkType ${pf.linkType}`);
    if (pf.sriov === null) {
      if (pf.vfs.length > 0) errors.push(`${where}/vfs: a PF with SR-IOV disabled cannot have VFs`);
    } else {
      if (pf.sriov.numVfs > pf.sriov.totalVfs)
        errors.push(`${where}/sriov/numVfs: ${pf.sriov.numVfs} exceeds totalVfs ${pf.sriov.totalVfs}`);
      if (pf.sriov.maxVfs > pf.sriov.totalVfs)
        errors.push(`${where}/sriov/maxVfs: ${pf.sriov.maxVfs} exceeds totalVfs ${pf.sriov.totalVfs}`);
      if (pf.vfs.length > pf.sriov.numVfs)
        errors.push(`${where}/vfs: ${pf.vfs.length} VFs listed but numVfs is ${pf.sriov.numVfs}`);
    }
    const indices = new Set<number>();
    pf.vfs.forEach((vf, j) => {
      addr(vf.pciAddress, `${where}/vfs/${j}`);
      if (indices.has(vf.index)) errors.push(`${where}/vfs/${j}/index: VF index ${vf.index} appears twice`);
      indices.add(vf.index);
      if (pf.sriov !== null && vf.index >= pf.sriov.numVfs)
        errors.push(`${where}/vfs/${j}/index: ${vf.index} is not below numVfs ${pf.sriov.numVfs}`);
    });
  });
  const numa = new Set<number>();
  r.numaNodes.forEach((n, i) => {
    if (numa.has(n.id)) errors.push(`/numaNodes/${i}/id: NUMA node ${n.id} appears twice`);
    numa.add(n.id);
  });
  return errors.slice(0, 20);
}

/** Parses and validates a JSON string; malformed JSON is reported like any other error. */
export function parseNodeReport(json: string): ValidationResult<NodeReport> {
  let value: unknown;
  try {
    value = JSON.parse(json);
  } catch (err: unknown) {
    return { ok: false, errors: [`/: not valid JSON (${err instanceof Error ? err.message : String(err)})`] };
  }
  return validateNodeReport(value);
}

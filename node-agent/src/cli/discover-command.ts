import { hostname } from 'node:os';
import { parseArgs } from 'node:util';
import { classifyDistance, isNodeName } from '@rdmasched/contracts';
import { FsSysfsReader } from '../adapters/fs/fs-sysfs-reader.js';
import { buildReportBody, nextGeneration, stampReport } from '../core/report.js';
import { discover } from '../discovery/discover.js';
import type { Discovery } from '../discovery/types.js';
import { AGENT_VERSION } from '../version.js';

export const DISCOVER_USAGE = `usage: rdmasched-agent discover --sysfs-root DIR [--json | --report [--node-name NAME]]

Reads the RDMA topology (ConnectX PFs and VFs, GPUs, NUMA nodes, PCIe paths, GPU-NIC distance
classes) from the sysfs tree at DIR (/sys on a real host, <dir>/sys for a simulated one) and
prints it. Touches nothing and needs no Redis.

  --sysfs-root DIR   sysfs root (default /sys)
  --json             print the discovery as JSON
  --report           print the v1 NodeReport the agent would publish (validated)
  --node-name NAME   node name for --report (default: this host's name)`;

function table(rows: string[][]): string {
  const widths: number[] = [];
  for (const r of rows) r.forEach((c, i) => (widths[i] = Math.max(widths[i] ?? 0, c.length)));
  return rows.map((r) => `  ${r.map((c, i) => c.padEnd(widths[i] ?? 0)).join('  ')}`.trimEnd()).join('\n');
}

const short = (bdf: string) => bdf.replace(/^0000:/, '');

export function renderDiscovery(d: Discovery, root: string): string {
  const out: string[] = [`sysfs root: ${root}`, ''];
  out.push(
    `NUMA nodes: ${d.numaNodes.length === 0 ? 'none found' : d.numaNodes.map((n) => `${n.id} (CPUs ${n.cpuList || '?'})`).join(', ')}`,
    '',
  );
  out.push(`GPUs: ${d.gpus.length}`);
  if (d.gpus.length > 0)
    out.push(
      table([
        ['ADDRESS', 'MODEL', 'NUMA', 'PCIe PATH'],
        ...d.gpus.map((g) => [
          g.pciAddress,
          g.model ?? g.deviceId,
          String(g.numaNode),
          g.pciePath.map(short).join(' > '),
        ]),
      ]),
    );
  out.push('', `RDMA PFs: ${d.pfs.length}`);
  if (d.pfs.length > 0)
    out.push(
      table([
        [
          'ADDRESS',
          'MODEL',
          'LINK',
          'NETDEV',
          'RDMA',
          'STATE',
          'RATE',
          'MTU',
          'NUMA',
          'SR-IOV',
          'READY VFS',
          'PCIe PATH',
        ],
        ...d.pfs.map((p) => [
          p.pciAddress,
          p.model ?? p.deviceId,
          p.linkType,
          p.netdev ?? '-',
          p.rdmaDevice ?? '-',
          p.portState,
          p.rateGbps > 0 ? `${p.rateGbps}G` : '?',
          p.mtu === null ? '?' : String(p.mtu),
          String(p.numaNode),
          p.sriov === null ? 'off (firmware)' : `${p.sriov.numVfs}/${p.sriov.totalVfs}`,
          `${p.vfs.filter((v) => v.configured).length}/${p.vfs.length}`,
          p.pciePath.map(short).join(' > '),
        ]),
      ]),
    );
  for (const p of d.pfs.filter((x) => x.vfs.length > 0)) {
    out.push('', `VFs of ${p.pciAddress} (${p.netdev ?? p.rdmaDevice ?? '?'}):`);
    out.push(
      table([
        ['IDX', 'ADDRESS', 'NETDEV', 'RDMA', 'DRIVER', 'READY', p.linkType === 'ib' ? 'GUID' : 'MAC'],
        ...p.vfs.map((v) => [
          String(v.index),
          v.pciAddress,
          v.netdev ?? '-',
          v.rdmaDevice ?? '-',
          v.driver ?? '-',
          v.configured ? 'yes' : 'no',
          (p.linkType === 'ib' ? v.guid : v.mac) ?? '-',
        ]),
      ]),
    );
  }
  if (d.gpus.length > 0 || d.pfs.length > 1) {
    const devs = [
      ...d.gpus.map((g, i) => ({ name: `GPU${i}`, at: g })),
      ...d.pfs.map((p) => ({ name: p.rdmaDevice ?? short(p.pciAddress), at: p })),
    ];
    out.push('', 'Distance classes (nvidia-smi topo -m names):');
    out.push(
      table([
        ['', ...devs.map((x) => x.name)],
        ...devs.map((a) => [a.name, ...devs.map((b) => (a === b ? 'X' : classifyDistance(a.at, b.at)))]),
      ]),
    );
  }
  if (d.warnings.length > 0) out.push('', 'Warnings:', ...d.warnings.map((w) => `  - ${w}`));
  return out.join('\n');
}

function parseDiscoverArgs(argv: readonly string[]) {
  return parseArgs({
    args: [...argv],
    allowPositionals: true,
    options: {
      'sysfs-root': { type: 'string', default: '/sys' },
      json: { type: 'boolean', default: false },
      report: { type: 'boolean', default: false },
      'node-name': { type: 'string' },
      help: { type: 'boolean', short: 'h', default: false },
    },
  });
}

export async function discoverCommand(argv: readonly string[]): Promise<number> {
  let parsed;
  try {
    parsed = parseDiscoverArgs(argv);
  } catch (err: unknown) {
    console.error(`${(err as Error).message}\n\n${DISCOVER_USAGE}`);
    return 2;
  }
  const { values, positionals } = parsed;
  if (values.help) {
    console.log(DISCOVER_USAGE);
    return 0;
  }
  if (positionals.length > 0) {
    console.error(`unexpected argument ${JSON.stringify(positionals[0])}\n\n${DISCOVER_USAGE}`);
    return 2;
  }
  const root = values['sysfs-root'];
  const reader = new FsSysfsReader(root);
  if (!(await reader.exists('bus/pci/devices'))) {
    console.error(`${root} does not look like a sysfs root: ${root}/bus/pci/devices is missing`);
    return 1;
  }
  const d = await discover(reader);
  if (values.report) {
    const nodeName = values['node-name'] ?? hostname().toLowerCase();
    if (!isNodeName(nodeName)) {
      console.error(`--node-name: ${JSON.stringify(nodeName)} is not a valid node name`);
      return 2;
    }
    const body = buildReportBody(d, {
      nodeName,
      agentVersion: AGENT_VERSION,
      heartbeatIntervalMs: 5_000,
      maxVfs: (_pf, totalVfs) => totalVfs,
      resizing: new Set(),
      reserved: new Map(),
      inUse: new Map(),
      reservations: new Map(),
    });
    const now = Date.now();
    const { report } = stampReport(body, nextGeneration(0, now), now);
    if (!report.ok) {
      console.error(`the report fails its own contract (a bug):\n  ${report.errors.join('\n  ')}`);
      return 1;
    }
    console.log(JSON.stringify(report.value, null, 2));
    return 0;
  }
  console.log(values.json ? JSON.stringify(d, null, 2) : renderDiscovery(d, reader.root));
  return 0;
}

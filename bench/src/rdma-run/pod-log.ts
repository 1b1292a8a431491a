/**
 * Reads a benchmark pod's log (see script.ts): the `env` line, a fatal `error` line, and one
 * section per perftest run between its `begin` and `end` markers. Values on marker lines come
 * from the pod, so each is checked before use; a value that fails its check is dropped (null),
 * never passed on. Pure.
 */
import { isPciAddress, isRdmaDeviceName } from '@rdmasched/contracts';
import { MARKER } from './script.js';

export interface PodEnvironment {
  readonly role: string | null;
  readonly rdmaDevice: string | null;
  /** PCI address of the VF the device plugin allocated. */
  readonly pciAddress: string | null;
  /** The container's `Cpus_allowed_list`, e.g. `0-15,32-47`. */
  readonly cpuList: string | null;
  /** GPU (CUDA device 0) as `0000:1b:00.0`. */
  readonly gpuPciAddress: string | null;
}

export interface RunSection {
  readonly index: number;
  readonly tool: string | null;
  /** The perftest output of the run (the lines between the markers). */
  readonly output: string;
  /** null when the `end` marker is missing (the pod stopped in the middle of the run). */
  readonly exitCode: number | null;
  readonly attempts: number | null;
  /** Connection attempts that found no server yet. */
  readonly retries: number;
}

export interface PodLog {
  readonly env: PodEnvironment | null;
  /** `no-device`, `no-perftest`, `no-server` and the script's sentence. */
  readonly error: { readonly code: string; readonly message: string } | null;
  readonly runs: ReadonlyMap<number, RunSection>;
  /** The script reached its end. */
  readonly done: boolean;
}

/** `00000000:1B:00.0` (nvidia-smi) or `0000:1b:00.0` -> `0000:1b:00.0`; null for anything else. */
export function normaliseGpuBusId(text: string): string | null {
  const m = /^(?:[0-9a-fA-F]{4})?([0-9a-fA-F]{4}):([0-9a-fA-F]{2}):([0-9a-fA-F]{2})\.([0-7])$/.exec(
    text.trim(),
  );
  if (m === null) return null;
  const addr = `${m[1]}:${m[2]}:${m[3]}.${m[4]}`.toLowerCase();
  return isPciAddress(addr) ? addr : null;
}

function fields(rest: string): Map<string, string> {
  const out = new Map<string, string>();
  for (const token of rest.trim().split(/\s+/)) {
    const eq = token.indexOf('=');
    if (eq > 0) out.set(token.slice(0, eq), token.slice(eq + 1));
  }
  return out;
}

const intField = (v: string | undefined): number | null =>
  v !== undefined && /^\d{1,9}$/.test(v) ? Number(v) : null;

export function parsePodLog(text: string): PodLog {
  let env: PodEnvironment | null = null;
  let error: PodLog['error'] = null;
  let done = false;
  const runs = new Map<number, RunSection>();
  let open: { index: number; tool: string | null; lines: string[]; retries: number } | null = null;
  const close = (exitCode: number | null, attempts: number | null) => {
    if (open === null) return;
    runs.set(open.index, {
      index: open.index,
      tool: open.tool,
      output: open.lines.join('\n'),
      exitCode,
      attempts,
      retries: open.retries,
    });
    open = null;
  };
  for (const raw of text.split(/\r?\n/)) {
    if (!raw.startsWith(`${MARKER} `)) {
      open?.lines.push(raw);
      continue;
    }
    const rest = raw.slice(MARKER.length + 1);
    const word = rest.split(' ', 1)[0] ?? '';
    const f = fields(rest.slice(word.length));
    switch (word) {
      case 'env': {
        const value = (k: string) => {
          const v = f.get(k);
          return v === undefined || v === 'none' || v === '' ? null : v;
        };
        const device = value('device');
        const pci = value('pci');
        const cpus = value('cpus');
        const gpu = value('gpu');
        env = {
          role: value('role'),
          rdmaDevice: device !== null && isRdmaDeviceName(device) ? device : null,
          pciAddress: pci !== null && isPciAddress(pci) ? pci : null,
          cpuList: cpus !== null && /^[0-9][0-9,-]{0,4095}$/.test(cpus) ? cpus : null,
          gpuPciAddress: gpu !== null ? normaliseGpuBusId(gpu) : null,
        };
        break;
      }
      case 'error': {
        const code = rest.slice(word.length).trim().split(' ', 1)[0] ?? '';
        error = { code, message: rest.slice(word.length + 1 + code.length).trim() };
        break;
      }
      case 'begin': {
        close(null, null);
        const index = intField(f.get('test'));
        const tool = f.get('tool') ?? null;
        if (index !== null)
          open = { index, tool: tool !== null && /^ib_\w+$/.test(tool) ? tool : null, lines: [], retries: 0 };
        break;
      }
      case 'retry':
        if (open !== null) open.retries++;
        break;
      case 'end': {
        const index = intField(f.get('test'));
        if (open !== null && index === open.index)
          close(intField(f.get('exit')), intField(f.get('attempts')));
        break;
      }
      case 'done':
        close(null, null);
        done = true;
        break;
      default:
        open?.lines.push(raw);
    }
  }
  close(null, null);
  return { env, error, runs, done };
}

/** Parses a kernel CPU list (`0-3,8,10-11`); undefined when malformed or absurdly large. */
export function parseCpuList(list: string): Set<number> | undefined {
  const out = new Set<number>();
  if (list.trim() === '') return out;
  for (const part of list.trim().split(',')) {
    const m = /^(\d{1,5})(?:-(\d{1,5}))?$/.exec(part.trim());
    if (m === null) return undefined;
    const a = Number(m[1]);
    const b = m[2] === undefined ? a : Number(m[2]);
    if (b < a || b - a > 65536 || out.size + (b - a) > 65536) return undefined;
    for (let c = a; c <= b; c++) out.add(c);
  }
  return out;
}

/**
 * The NUMA node holding every CPU the container may run on, or null when they span several nodes
 * (the benchmark was not bound to one) or a list is unreadable.
 */
export function numaNodeOfCpus(
  cpuList: string,
  numaNodes: readonly { readonly id: number; readonly cpuList: string }[],
): number | null {
  const cpus = parseCpuList(cpuList);
  if (cpus === undefined || cpus.size === 0) return null;
  for (const n of numaNodes) {
    const nodeCpus = parseCpuList(n.cpuList);
    if (nodeCpus === undefined) continue;
    if ([...cpus].every((c) => nodeCpus.has(c))) return n.id;
  }
  return null;
}

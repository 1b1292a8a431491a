/**
 * The test matrix of `rdma run`: which node pairs, which perftest tools, message sizes, QPs and
 * run length, and what the pods request (link type, GPUs). It comes from command-line flags, a
 * matrix file (YAML or JSON), or both (a flag overrides the file's field). One validator serves
 * both, so a bad value is reported the same way, naming the flag (`--sizes`) or the file field
 * (`matrix.yaml: sizes[1]`). Pure: no I/O.
 */
import { LINK_TYPES, isNodeName, type LinkType } from '@rdmasched/contracts';
import type { PerftestKind } from '../perftest/types.js';

/** The perftest verbs the runner drives (the `ib_<verb>_bw` / `ib_<verb>_lat` tools). */
export const RUN_VERBS = ['write', 'read', 'send'] as const;
export type RunVerb = (typeof RUN_VERBS)[number];

/** Test names as users type them: `write-bw` is `ib_write_bw`, `read-lat` is `ib_read_lat`. */
export const TEST_NAMES = ['write-bw', 'read-bw', 'send-bw', 'write-lat', 'read-lat', 'send-lat'] as const;
export type TestName = (typeof TEST_NAMES)[number];

export function testParts(name: TestName): { verb: RunVerb; kind: PerftestKind } {
  const [verb, kind] = name.split('-') as [RunVerb, 'bw' | 'lat'];
  return { verb, kind: kind === 'bw' ? 'bandwidth' : 'latency' };
}

/** One pair: the server's node and the client's node; null = wherever the scheduler puts it. */
export interface NodePair {
  readonly server: string | null;
  readonly client: string | null;
}

export interface TestMatrix {
  readonly pairs: readonly NodePair[];
  readonly tests: readonly TestName[];
  /** Bandwidth message sizes (`-s`), or `all` for perftest's `-a` sweep (2 B … 8 MiB). */
  readonly sizes: readonly number[] | 'all';
  /** Latency message sizes (`-s`). */
  readonly latSizes: readonly number[];
  /** QPs of bandwidth tests (`-q`). */
  readonly qps: readonly number[];
  /** `-D` seconds, or null for an iteration count. */
  readonly durationS: number | null;
  /** `-n`, or null for perftest's default. */
  readonly iterations: number | null;
  /** `-b` on bandwidth tests. */
  readonly bidirectional: boolean;
  readonly linkType: LinkType;
  /** `nvidia.com/gpu` per pod. */
  readonly gpus: number;
  /** `--use_cuda` on bandwidth tests (GPUDirect RDMA); needs gpus ≥ 1. */
  readonly useCuda: boolean;
  /** Server and client on one node (otherwise anti-affinity keeps them apart). */
  readonly sameNode: boolean;
  /** `-x`, RoCE. */
  readonly gidIndex: number | null;
  /** `-R`. */
  readonly rdmaCm: boolean;
  /** `-p` of the first test of a pair; test i uses tcpPort + i. */
  readonly tcpPort: number;
}

export const DEFAULT_MATRIX: Omit<TestMatrix, 'pairs'> = {
  tests: ['write-bw', 'write-lat'],
  sizes: [65536],
  latSizes: [2],
  qps: [1],
  durationS: null,
  iterations: null,
  bidirectional: false,
  linkType: 'ib',
  gpus: 0,
  useCuda: false,
  sameNode: false,
  gidIndex: null,
  rdmaCm: false,
  tcpPort: 18515,
};

/** Matrix fields, as spelled in a file; the flag is the kebab-case form (`latSizes` -> `--lat-sizes`). */
export const MATRIX_FIELDS = [
  'pairs',
  'tests',
  'sizes',
  'latSizes',
  'qps',
  'duration',
  'iterations',
  'bidirectional',
  'linkType',
  'gpus',
  'useCuda',
  'sameNode',
  'gidIndex',
  'rdmaCm',
  'tcpPort',
] as const;
export type MatrixField = (typeof MATRIX_FIELDS)[number];

export function flagOf(field: MatrixField): string {
  return `--${field.replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`)}`;
}

/** A value and where it came from, so an error can name the flag or the file field. */
export interface RawValue {
  readonly value: unknown;
  /** `flag`, or the matrix file's name. */
  readonly origin: 'flag' | { readonly file: string };
}
export type RawMatrix = Partial<Record<MatrixField, RawValue>>;

/** The most tests one pair may run (each gets its own TCP port). */
export const MAX_TESTS_PER_PAIR = 256;
export const MAX_PAIRS = 512;
const MAX_SIZE = 2 ** 31;

export type MatrixResult = { ok: true; value: TestMatrix } | { ok: false; errors: string[] };

/**
 * Reads a matrix file's content (YAML or JSON, already parsed) into raw values. Unknown fields are
 * errors (a typo like `size:` would otherwise be ignored silently).
 */
export function rawFromDocument(doc: unknown, file: string): { raw: RawMatrix; errors: string[] } {
  const errors: string[] = [];
  const raw: RawMatrix = {};
  if (doc === null || typeof doc !== 'object' || Array.isArray(doc)) {
    return { raw, errors: [`${file}: must be a mapping of matrix fields (${MATRIX_FIELDS.join(', ')})`] };
  }
  for (const [key, value] of Object.entries(doc as Record<string, unknown>)) {
    if (key === 'apiVersion' || key === 'kind') continue;
    if (!(MATRIX_FIELDS as readonly string[]).includes(key)) {
      errors.push(`${file}: unknown field ${JSON.stringify(key)} (known: ${MATRIX_FIELDS.join(', ')})`);
      continue;
    }
    raw[key as MatrixField] = { value, origin: { file } };
  }
  const d = doc as { apiVersion?: unknown; kind?: unknown };
  if (d.kind !== undefined && d.kind !== 'RdmaBenchMatrix')
    errors.push(`${file}: kind must be RdmaBenchMatrix, got ${JSON.stringify(d.kind)}`);
  if (d.apiVersion !== undefined && d.apiVersion !== 'rdmasched.io/v1')
    errors.push(`${file}: apiVersion must be rdmasched.io/v1, got ${JSON.stringify(d.apiVersion)}`);
  return { raw, errors };
}

/** Validates and fills defaults. Every problem is reported, each naming its flag or field. */
export function buildMatrix(raw: RawMatrix): MatrixResult {
  const errors: string[] = [];
  const label = (field: MatrixField, suffix = ''): string => {
    const r = raw[field];
    return r === undefined || r.origin === 'flag'
      ? `${flagOf(field)}${suffix}`
      : `${r.origin.file}: ${field}${suffix}`;
  };
  const fail = (field: MatrixField, message: string, suffix = '') => {
    errors.push(`${label(field, suffix)}: ${message}`);
  };

  // A list: an array, or a comma-separated string (flags, or a short form in a file).
  const listOf = (field: MatrixField): unknown[] | undefined => {
    const r = raw[field];
    if (r === undefined) return undefined;
    if (Array.isArray(r.value)) return r.value as unknown[];
    if (typeof r.value === 'string')
      return r.value
        .split(',')
        .map((s) => s.trim())
        .filter((s) => s !== '');
    if (typeof r.value === 'number') return [r.value];
    fail(field, `must be a list or a comma-separated string, got ${JSON.stringify(r.value)}`);
    return undefined;
  };
  const intOf = (v: unknown): number | undefined => {
    if (typeof v === 'number' && Number.isInteger(v)) return v;
    if (typeof v === 'string' && /^\d+$/.test(v.trim())) return Number(v.trim());
    return undefined;
  };
  const intList = (field: MatrixField, min: number, max: number, maxItems: number): number[] | undefined => {
    const items = listOf(field);
    if (items === undefined) return undefined;
    if (items.length === 0 || items.length > maxItems) {
      fail(field, `needs 1 to ${maxItems} values, got ${items.length}`);
      return undefined;
    }
    const out: number[] = [];
    items.forEach((v, i) => {
      const n = intOf(v);
      if (n === undefined || n < min || n > max)
        fail(field, `must be a whole number from ${min} to ${max}, got ${JSON.stringify(v)}`, `[${i}]`);
      else out.push(n);
    });
    return out.length === items.length ? [...new Set(out)] : undefined;
  };
  const int = (field: MatrixField, min: number, max: number): number | undefined => {
    const r = raw[field];
    if (r === undefined) return undefined;
    const n = intOf(r.value);
    if (n === undefined || n < min || n > max) {
      fail(field, `must be a whole number from ${min} to ${max}, got ${JSON.stringify(r.value)}`);
      return undefined;
    }
    return n;
  };
  const bool = (field: MatrixField): boolean | undefined => {
    const r = raw[field];
    if (r === undefined) return undefined;
    if (typeof r.value === 'boolean') return r.value;
    fail(field, `must be true or false, got ${JSON.stringify(r.value)}`);
    return undefined;
  };

  // pairs
  const pairs: NodePair[] = [];
  const pairItems = listOf('pairs');
  if (pairItems === undefined) {
    if (raw.pairs === undefined)
      errors.push(`${flagOf('pairs')} (or "pairs" in a matrix file) is required: e.g. --pairs node-a:node-b`);
  } else if (pairItems.length === 0 || pairItems.length > MAX_PAIRS) {
    fail('pairs', `needs 1 to ${MAX_PAIRS} pairs, got ${pairItems.length}`);
  } else {
    pairItems.forEach((item, i) => {
      const where = `[${i}]`;
      let server: unknown;
      let client: unknown;
      if (typeof item === 'string') {
        const parts = item.split(':');
        if (parts.length !== 2) {
          fail('pairs', `must be SERVER:CLIENT (node names or "any"), got ${JSON.stringify(item)}`, where);
          return;
        }
        [server, client] = parts.map((p) => p.trim());
      } else if (item !== null && typeof item === 'object' && !Array.isArray(item)) {
        const o = item as Record<string, unknown>;
        const extra = Object.keys(o).filter((k) => k !== 'server' && k !== 'client');
        if (extra.length > 0)
          fail('pairs', `unknown field ${JSON.stringify(extra[0])} (known: server, client)`, where);
        server = o['server'];
        client = o['client'];
      } else {
        fail('pairs', `must be "SERVER:CLIENT" or {server, client}, got ${JSON.stringify(item)}`, where);
        return;
      }
      const node = (v: unknown, side: 'server' | 'client'): string | null | undefined => {
        if (v === 'any' || v === undefined) return v === undefined ? undefined : null;
        if (typeof v === 'string' && isNodeName(v)) return v;
        fail('pairs', `${side} must be a Kubernetes node name or "any", got ${JSON.stringify(v)}`, where);
        return undefined;
      };
      const s = node(server ?? (typeof item === 'string' ? '' : undefined), 'server');
      const c = node(client ?? (typeof item === 'string' ? '' : undefined), 'client');
      if (typeof item !== 'string' && (server === undefined || client === undefined))
        fail('pairs', 'needs both server and client (a node name or "any")', where);
      if (s !== undefined && c !== undefined) pairs.push({ server: s, client: c });
    });
  }

  // tests
  let tests: TestName[] | undefined;
  const testItems = listOf('tests');
  if (testItems !== undefined) {
    const bad = testItems.filter((t) => !(TEST_NAMES as readonly unknown[]).includes(t));
    if (testItems.length === 0 || bad.length > 0)
      fail(
        'tests',
        `takes ${TEST_NAMES.join(', ')}; got ${bad.length > 0 ? bad.map((b) => JSON.stringify(b)).join(', ') : 'none'}`,
      );
    else tests = [...new Set(testItems as TestName[])];
  }

  // sizes: numbers or "all"
  let sizes: number[] | 'all' | undefined;
  const sizeItems = listOf('sizes');
  if (sizeItems !== undefined && sizeItems.length === 1 && sizeItems[0] === 'all') sizes = 'all';
  else if (sizeItems !== undefined) sizes = intList('sizes', 1, MAX_SIZE, 32);
  const latSizes = intList('latSizes', 1, MAX_SIZE, 32);
  const qps = intList('qps', 1, 16384, 16);
  const durationS = int('duration', 1, 86_400);
  const iterations = int('iterations', 5, 100_000_000);
  if (durationS !== undefined && iterations !== undefined)
    errors.push(
      `${label('duration')} and ${label('iterations')} exclude each other: a run is timed or counted`,
    );
  const bidirectional = bool('bidirectional');
  let linkType: LinkType | undefined;
  if (raw.linkType !== undefined) {
    if ((LINK_TYPES as readonly unknown[]).includes(raw.linkType.value))
      linkType = raw.linkType.value as LinkType;
    else fail('linkType', `must be ${LINK_TYPES.join(' or ')}, got ${JSON.stringify(raw.linkType.value)}`);
  }
  const gpus = int('gpus', 0, 64);
  const useCuda = bool('useCuda');
  const sameNode = bool('sameNode');
  const gidIndex = int('gidIndex', 0, 255);
  const rdmaCm = bool('rdmaCm');
  const tcpPort = int('tcpPort', 1024, 65535);

  const m: TestMatrix = {
    pairs,
    tests: tests ?? DEFAULT_MATRIX.tests,
    sizes: sizes ?? DEFAULT_MATRIX.sizes,
    latSizes: latSizes ?? DEFAULT_MATRIX.latSizes,
    qps: qps ?? DEFAULT_MATRIX.qps,
    durationS: durationS ?? null,
    iterations: iterations ?? null,
    bidirectional: bidirectional ?? false,
    linkType: linkType ?? DEFAULT_MATRIX.linkType,
    gpus: gpus ?? 0,
    useCuda: useCuda ?? false,
    sameNode: sameNode ?? false,
    gidIndex: gidIndex ?? null,
    rdmaCm: rdmaCm ?? false,
    tcpPort: tcpPort ?? DEFAULT_MATRIX.tcpPort,
  };

  // Rules across fields.
  if (m.useCuda && m.gpus < 1)
    errors.push(`${label('useCuda')} needs GPUs in the pods: set ${label('gpus')} to 1 or more`);
  m.pairs.forEach((p, i) => {
    const same = p.server !== null && p.server === p.client;
    if (same && !m.sameNode)
      errors.push(
        `${label('pairs', `[${i}]`)}: ${p.server}:${p.client} names one node twice; add ${label('sameNode')} to test a loopback on one node`,
      );
    if (m.sameNode && p.server !== null && p.client !== null && p.server !== p.client)
      errors.push(
        `${label('pairs', `[${i}]`)}: ${label('sameNode')} puts both pods on one node, but the pair names ${p.server} and ${p.client}`,
      );
  });
  const perPair = testsPerPair(m);
  if (perPair > MAX_TESTS_PER_PAIR)
    errors.push(
      `the matrix has ${perPair} tests per pair; at most ${MAX_TESTS_PER_PAIR} (fewer sizes or QPs)`,
    );
  if (m.tcpPort + perPair - 1 > 65535)
    errors.push(`${label('tcpPort')} ${m.tcpPort} + ${perPair} tests runs past port 65535`);

  return errors.length > 0 ? { ok: false, errors } : { ok: true, value: m };
}

/** How many perftest runs one pair makes. */
export function testsPerPair(m: Omit<TestMatrix, 'pairs'>): number {
  let n = 0;
  for (const t of m.tests) {
    const { kind } = testParts(t);
    n += kind === 'bandwidth' ? (m.sizes === 'all' ? 1 : m.sizes.length) * m.qps.length : m.latSizes.length;
  }
  return n;
}

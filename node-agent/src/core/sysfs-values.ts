/**
 * Parsers for sysfs attribute values (reference: sysfs-sriov-rdma.md §1–§3). Pure functions: each
 * takes the text of one attribute (trailing newline already trimmed or not) and returns a value, or
 * `undefined` when the text is not what the kernel prints. Callers treat `undefined` as "no value".
 */
import { isMac, type PortState } from '@rdmasched/contracts';

const PORT_STATES: readonly PortState[] = ['NOP', 'DOWN', 'INIT', 'ARMED', 'ACTIVE', 'ACTIVE_DEFER'];

/** `0x15b3` -> `0x15b3`; anything but `0x` + 4 hex digits -> undefined. */
export function parsePciId(text: string | undefined): string | undefined {
  const v = text?.trim().toLowerCase();
  return v !== undefined && /^0x[0-9a-f]{4}$/.test(v) ? v : undefined;
}

/** `0x020700` -> `0x020700` (base class, subclass, prog-if). */
export function parsePciClass(text: string | undefined): string | undefined {
  const v = text?.trim().toLowerCase();
  return v !== undefined && /^0x[0-9a-f]{6}$/.test(v) ? v : undefined;
}

/** A decimal integer as the kernel prints `%d`/`%u` (optionally negative). */
export function parseDecimal(text: string | undefined): number | undefined {
  const v = text?.trim();
  if (v === undefined || !/^-?[0-9]{1,10}$/.test(v)) return undefined;
  const n = Number(v);
  return Number.isSafeInteger(n) ? n : undefined;
}

/** A non-negative decimal integer (`sriov_totalvfs`, `mtu`, counters up to 2^53). */
export function parseUnsigned(text: string | undefined): number | undefined {
  const v = text?.trim();
  if (v === undefined || !/^[0-9]{1,16}$/.test(v)) return undefined;
  const n = Number(v);
  return Number.isSafeInteger(n) ? n : undefined;
}

/** `numa_node`: `-1` when unknown; anything unreadable is unknown too. */
export function parseNumaNode(text: string | undefined): number {
  const n = parseDecimal(text);
  return n === undefined || n < -1 || n > 1023 ? -1 : n;
}

/** `ports/<n>/state`: `4: ACTIVE` -> `ACTIVE`; unreadable -> `UNKNOWN`. */
export function parsePortState(text: string | undefined): PortState {
  const m = /^\s*\d+:\s*([A-Z_]+)\s*$/.exec(text ?? '');
  const name = m?.[1] as PortState | undefined;
  return name !== undefined && PORT_STATES.includes(name) ? name : 'UNKNOWN';
}

/**
 * `ports/<n>/rate`: `400 Gb/sec (4X NDR)` -> 400, `2.5 Gb/sec (1X SDR)` -> 2.5. Unknown -> 0
 * (the report's "no value" for a rate).
 */
export function parseRateGbps(text: string | undefined): number {
  const m = /^\s*([0-9]+(?:\.[0-9]+)?)\s*Gb\/sec\b/.exec(text ?? '');
  if (m === null) return 0;
  const n = Number(m[1]);
  return Number.isFinite(n) && n >= 0 && n <= 100_000 ? n : 0;
}

/** `link_layer`: `InfiniBand` | `Ethernet`; `Unknown` and garbage -> undefined. */
export function parseLinkLayer(text: string | undefined): 'InfiniBand' | 'Ethernet' | undefined {
  const v = text?.trim();
  return v === 'InfiniBand' || v === 'Ethernet' ? v : undefined;
}

/** A netdev `address` that is a 6-byte MAC, lower-cased; anything else (IPoIB's 20 bytes) -> undefined. */
export function parseMac(text: string | undefined): string | undefined {
  const v = text?.trim().toLowerCase();
  return v !== undefined && isMac(v) ? v : undefined;
}

/** Kernel list format (`0-31,64-95`, `0-1`, ``) -> sorted numbers; undefined when malformed. */
export function parseIdList(text: string | undefined, max = 65_536): number[] | undefined {
  const v = text?.trim();
  if (v === undefined) return undefined;
  if (v === '') return [];
  const out: number[] = [];
  for (const part of v.split(',')) {
    const m = /^([0-9]{1,6})(?:-([0-9]{1,6}))?$/.exec(part);
    if (m === null) return undefined;
    const lo = Number(m[1]);
    const hi = m[2] === undefined ? lo : Number(m[2]);
    if (hi < lo || hi - lo > max || out.length + (hi - lo) > max) return undefined;
    for (let i = lo; i <= hi; i++) out.push(i);
  }
  return out;
}

/** A kernel CPU list is returned as is when well-formed (for the report), else undefined. */
export function parseCpuList(text: string | undefined): string | undefined {
  const v = text?.trim();
  return v !== undefined && /^[0-9,-]*$/.test(v) && v.length <= 4096 && parseIdList(v) !== undefined
    ? v
    : undefined;
}

export type KernelParse<T> = { ok: true; value: T } | { ok: false; errno: 'EINVAL' | 'ERANGE' };

/**
 * The kernel's `kstrtou16(buf, 0, &v)`: optional `+`, base from the prefix (`0x` hex, `0` octal,
 * else decimal), one trailing newline allowed. Garbage -> EINVAL; above 65535 -> ERANGE.
 */
export function kstrtou16(buf: string): KernelParse<number> {
  let s = buf.endsWith('\n') ? buf.slice(0, -1) : buf;
  if (s.startsWith('+')) s = s.slice(1);
  let digits: string;
  let base: number;
  if (/^0[xX]/.test(s)) {
    digits = s.slice(2);
    base = 16;
  } else if (s.length > 1 && s.startsWith('0')) {
    digits = s.slice(1);
    base = 8;
  } else {
    digits = s;
    base = 10;
  }
  const alphabet = base === 16 ? /^[0-9a-fA-F]+$/ : base === 8 ? /^[0-7]+$/ : /^[0-9]+$/;
  if (digits === '' || !alphabet.test(digits)) return { ok: false, errno: 'EINVAL' };
  const value = digits.length > 12 ? Infinity : parseInt(digits, base);
  if (value > 0xffff) return { ok: false, errno: 'ERANGE' };
  return { ok: true, value };
}

/** The kernel's `kstrtobool`: 1/0, y/n, on/off (first letters, case-insensitive). */
export function kstrtobool(buf: string): KernelParse<boolean> {
  const s = buf.endsWith('\n') ? buf.slice(0, -1) : buf;
  const c0 = s[0]?.toLowerCase();
  if (c0 === 'y' || c0 === '1') return { ok: true, value: true };
  if (c0 === 'n' || c0 === '0') return { ok: true, value: false };
  if (c0 === 'o') {
    const c1 = s[1]?.toLowerCase();
    if (c1 === 'n') return { ok: true, value: true };
    if (c1 === 'f') return { ok: true, value: false };
  }
  return { ok: false, errno: 'EINVAL' };
}

/** sysfs `node_guid` all zeros: an IB VF whose GUID was never configured. */
export function isZeroSysfsGuid(text: string | undefined): boolean {
  return /^0000:0000:0000:0000$/.test(text?.trim() ?? '');
}

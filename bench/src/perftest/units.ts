/**
 * Bandwidth units as perftest prints them (reference: perftest.md §4).
 *
 * - `MiB/s`: the default; 1 MiB = 2^20 bytes. Column labels say `MiB/sec` since perftest 24.07.0-0.44
 *   and `MB/sec` before it, but the value was always MiB/s.
 * - `Gb/s`: with `--report_gbits`; 1 Gb = 10^9 bits (perftest's `format_factor` 125000000 bytes).
 *
 * Gb/s = MiB/s × 8 × 1.048576 / 1000 (perftest help: "factor 119.2").
 */

export const BANDWIDTH_UNITS = ['MiB/s', 'Gb/s'] as const;
export type BandwidthUnit = (typeof BANDWIDTH_UNITS)[number];

const BYTES_PER_MIB = 1_048_576;
const BITS_PER_GBIT = 1_000_000_000;

/** A bandwidth in the two units the rest of rdmasched uses. */
export interface BandwidthFigure {
  /** Bytes per second. */
  readonly bytesPerSecond: number;
  /** Gigabits per second, 1 Gb = 10^9 bits: the unit of port rates (`400 Gb/sec (4X NDR)`). */
  readonly gbps: number;
}

/** Converts a value printed in `unit` to bytes/s and Gb/s. */
export function toBandwidth(value: number, unit: BandwidthUnit): BandwidthFigure {
  const bytesPerSecond = unit === 'MiB/s' ? value * BYTES_PER_MIB : (value * BITS_PER_GBIT) / 8;
  return { bytesPerSecond, gbps: (bytesPerSecond * 8) / BITS_PER_GBIT };
}

/** Bytes/s to Gb/s (10^9 bit/s). */
export function gbpsFromBytesPerSecond(bytesPerSecond: number): number {
  return (bytesPerSecond * 8) / BITS_PER_GBIT;
}

/** Gb/s (10^9 bit/s) to bytes/s. */
export function bytesPerSecondFromGbps(gbps: number): number {
  return (gbps * BITS_PER_GBIT) / 8;
}

/** Maps a column label unit (`MB/sec`, `MiB/sec`, `Gb/sec`) to the unit it really is. */
export function unitFromLabel(label: string): BandwidthUnit | undefined {
  switch (label) {
    case 'MB/sec':
    case 'MiB/sec':
      return 'MiB/s';
    case 'Gb/sec':
      return 'Gb/s';
    default:
      return undefined;
  }
}

/** Accepts the spellings a person may type on a command line: `MiB/s`, `mib`, `MB/sec`, `Gb/s`, `gbits`. */
export function parseBandwidthUnit(text: string): BandwidthUnit | undefined {
  const t = text.trim().toLowerCase();
  if (['mib/s', 'mib/sec', 'mib', 'mb/sec', 'mb/s', 'mibps'].includes(t)) return 'MiB/s';
  if (['gb/s', 'gb/sec', 'gbit/s', 'gbits', 'gbps', 'gbit'].includes(t)) return 'Gb/s';
  return undefined;
}

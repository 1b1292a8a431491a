/**
 * The port rate the kernel reports in `/sys/class/infiniband/<dev>/ports/<n>/rate`
 * (reference: sysfs-sriov-rdma.md §3.1), format `"%d%s Gb/sec (%dX%s)\n"`:
 *   `400 Gb/sec (4X NDR)`, `200 Gb/sec (4X HDR)`, `2.5 Gb/sec (1X SDR)`, and `10 Gb/sec (4X)` on
 *   very old kernels that print no SDR suffix. The first `%s` is `.5` or empty; the speed suffix is
 *   one of SDR, DDR, QDR, FDR10, FDR, EDR, HDR, NDR, XDR (later kernels may add more).
 */

export interface PortRate {
  /** Gb/s, 1 Gb = 10^9 bit: the unit perftest's --report_gbits uses too. */
  readonly gbps: number;
  /** Link width (lanes): 1, 2, 4, 8, 12. */
  readonly width: number;
  /** Speed name (`NDR`), or null when the kernel printed none. */
  readonly speed: string | null;
}

const RATE_RE = /^(\d+)(\.5)? Gb\/sec \((\d+)X(?: ([A-Z][A-Z0-9]*))?\)$/;

/** Parses a sysfs port rate string. Never throws; the error names the text. */
export function parseSysfsRate(text: string): { ok: true; value: PortRate } | { ok: false; error: string } {
  const m = RATE_RE.exec(text.trim());
  if (m === null)
    return {
      ok: false,
      error: `port rate ${JSON.stringify(text.trim())} is not in the kernel's "<n> Gb/sec (<w>X <speed>)" form, e.g. "400 Gb/sec (4X NDR)"`,
    };
  const gbps = Number(m[1]) + (m[2] === undefined ? 0 : 0.5);
  const width = Number(m[3]);
  if (width < 1)
    return { ok: false, error: `port rate ${JSON.stringify(text.trim())} has a link width of 0` };
  return { ok: true, value: { gbps, width, speed: m[4] ?? null } };
}

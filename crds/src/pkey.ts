/**
 * InfiniBand partition keys. A PKey is 16 bits: the low 15 are the partition (0x0001-0x7fff),
 * the top bit (0x8000) is membership: set = full member (may talk to every member), clear =
 * limited member (may talk to full members only). sysfs shows the table entry with the bit, e.g.
 * `ports/1/pkeys/0` = `0xffff` for full membership of the default partition 0x7fff.
 *
 * RdmaTenant.spec.infiniband.pkey holds the 15-bit partition only; rdmasched adds a tenant's
 * GUIDs as full members (UFM `"membership": "full"`), so pods of one tenant reach each other and
 * nobody else.
 */

export const PKEY_FULL_MEMBERSHIP_BIT = 0x8000;
/** The default partition every port is a member of; a tenant on it is not isolated. */
export const DEFAULT_PARTITION = 0x7fff;

const PKEY_RE = /^0[xX][0-9a-fA-F]{1,4}$/;

/**
 * Parses a tenant PKey string ("0x1a2b", 1 to 4 hex digits) to its 15-bit partition number.
 * Returns undefined for anything else, including 0, values with the membership bit and
 * out-of-range values.
 */
export function parsePkey(text: string): number | undefined {
  if (!PKEY_RE.test(text)) return undefined;
  const value = Number.parseInt(text.slice(2), 16);
  return value >= 1 && value <= 0x7fff ? value : undefined;
}

/** 0x1a2b -> "0x1a2b" (four lower-case digits, the form sysfs and UFM print). */
export function formatPkey(partition: number): string {
  return `0x${partition.toString(16).padStart(4, '0')}`;
}

/** The 16-bit table entry for full membership of a partition, e.g. 0x1a2b -> 0x9a2b. */
export function fullMemberPkey(partition: number): number {
  return (partition & 0x7fff) | PKEY_FULL_MEMBERSHIP_BIT;
}

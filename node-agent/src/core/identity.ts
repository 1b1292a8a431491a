/**
 * VF identities from the cluster-wide pool (docs/adr/0020). An identity is a 64-bit value handed
 * out as an IB GUID (`xx:xx:xx:xx:xx:xx:xx:xx`, used as both node and port GUID of an IB VF); a
 * RoCE VF's admin MAC is derived from its identity: `02` (locally administered, unicast) followed
 * by the identity's low 40 bits. The pool's range is at most 2^40 identities, so MACs are as
 * unique as GUIDs.
 */
import { isGuid } from '@rdmasched/contracts';

/** Default range: ib-kubernetes' default GUID pool, 02:00:00:00:00:00:00:00 + 2^40. */
export const DEFAULT_GUID_POOL_START = '02:00:00:00:00:00:00:00';
export const DEFAULT_GUID_POOL_SIZE = 2n ** 40n;
export const MAX_GUID_POOL_SIZE = 2n ** 40n;

export function guidToBigInt(guid: string): bigint {
  return BigInt(`0x${guid.replaceAll(':', '')}`);
}

export function bigIntToGuid(v: bigint): string {
  const hex = v.toString(16).padStart(16, '0');
  return hex.match(/../g)!.join(':');
}

/** The `offset`-th identity of a range. */
export function guidAt(start: string, offset: bigint): string {
  return bigIntToGuid(guidToBigInt(start) + offset);
}

/** The RoCE admin MAC of an identity: `02:` + its low 40 bits. */
export function macFromIdentity(guid: string): string {
  const low = guidToBigInt(guid) & 0xff_ffff_ffffn;
  return `02:${low.toString(16).padStart(10, '0').match(/../g)!.join(':')}`;
}

/** The four 16-bit limbs of a GUID, most significant first (for Lua, whose numbers are doubles). */
export function guidLimbs(guid: string): [number, number, number, number] {
  const v = guidToBigInt(guid);
  return [
    Number((v >> 48n) & 0xffffn),
    Number((v >> 32n) & 0xffffn),
    Number((v >> 16n) & 0xffffn),
    Number(v & 0xffffn),
  ];
}

export interface GuidRange {
  readonly start: string;
  readonly size: bigint;
}

/** Checks a pool range: a GUID start, 1 <= size <= 2^40, and no wrap past ff:..:ff. */
export function validateGuidRange(start: string, size: bigint): string[] {
  const problems: string[] = [];
  if (!isGuid(start))
    problems.push(`pool start ${JSON.stringify(start)} is not a GUID (xx:xx:xx:xx:xx:xx:xx:xx)`);
  if (size < 1n || size > MAX_GUID_POOL_SIZE) problems.push(`pool size ${size} must be between 1 and 2^40`);
  if (isGuid(start) && guidToBigInt(start) + size - 1n > 0xffff_ffff_ffff_ffffn)
    problems.push('pool range wraps past ff:ff:ff:ff:ff:ff:ff:ff');
  return problems;
}

/** Owner name of a VF's identity in the pool. */
export const identityOwner = (node: string, vf: string): string => `${node}/${vf}`;

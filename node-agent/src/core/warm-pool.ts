/**
 * The warm pool (per link type): keep at least `minReady` free ready VFs on the node, and shrink
 * idle PFs while there are more than `maxReady` (never below `minReady`). Pure; one action per
 * call, so the caller re-discovers between actions. Only PFs nobody holds are grown or shrunk.
 */
import type { LinkType } from '@rdmasched/contracts';

export interface WarmPoolPolicy {
  /** Free ready VFs to keep, per link type (0: none). */
  readonly minReady: Readonly<Record<LinkType, number>>;
  /** Shrink idle PFs while free ready VFs exceed this (undefined: never shrink). */
  readonly maxReady: Readonly<Record<LinkType, number | undefined>>;
}

export interface WarmPf {
  readonly pciAddress: string;
  readonly linkType: LinkType;
  /** SR-IOV usable: enabled in firmware, has a netdev, eswitch legacy. */
  readonly resizable: boolean;
  readonly numVfs: number;
  readonly maxVfs: number;
  /** Configured VFs nobody uses or reserves. */
  readonly freeReady: number;
  /** Existing VFs not configured and not in use. */
  readonly unconfiguredFree: number;
  /** Reserved, in use, or claimed: never resized by the warm pool. */
  readonly held: boolean;
}

export type WarmAction =
  | { readonly kind: 'configure'; readonly pf: string; readonly linkType: LinkType }
  | { readonly kind: 'grow'; readonly pf: string; readonly linkType: LinkType; readonly targetVfs: number }
  | { readonly kind: 'shrink'; readonly pf: string; readonly linkType: LinkType };

export function planWarmPool(pfs: readonly WarmPf[], policy: WarmPoolPolicy): WarmAction | undefined {
  for (const lt of ['ib', 'roce'] as const) {
    const mine = pfs
      .filter((p) => p.linkType === lt)
      .sort((a, b) => a.pciAddress.localeCompare(b.pciAddress));
    const ready = mine.reduce((s, p) => s + p.freeReady, 0);
    const min = policy.minReady[lt];
    const max = policy.maxReady[lt];
    if (ready < min) {
      const conf = mine.find((p) => p.resizable && p.unconfiguredFree > 0);
      if (conf !== undefined) return { kind: 'configure', pf: conf.pciAddress, linkType: lt };
      // Grow an idle PF: empty ones first (nothing is destroyed), then partly enabled ones.
      const growable = mine.filter((p) => p.resizable && !p.held && p.numVfs < p.maxVfs);
      const pick = growable.find((p) => p.numVfs === 0) ?? growable[0];
      if (pick !== undefined)
        return { kind: 'grow', pf: pick.pciAddress, linkType: lt, targetVfs: pick.maxVfs };
    } else if (max !== undefined && ready > max) {
      const shrinkable = mine
        .filter((p) => p.resizable && !p.held && p.numVfs > 0 && ready - p.freeReady >= min)
        .sort((a, b) => a.freeReady - b.freeReady || a.pciAddress.localeCompare(b.pciAddress));
      const pick = shrinkable[0];
      if (pick !== undefined) return { kind: 'shrink', pf: pick.pciAddress, linkType: lt };
    }
  }
  return undefined;
}

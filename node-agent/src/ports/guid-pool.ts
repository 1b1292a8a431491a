/**
 * The cluster-wide InfiniBand GUID pool (`{guids}` slot). One identity per VF, named by its owner
 * `<node>/<vf pci address>`; an identity is never held by two owners at once. RoCE VFs take an
 * identity too: their MAC is derived from it (see core/identity.ts), so MACs are unique as well.
 */
export type AllocateOutcome =
  { readonly ok: true; readonly guid: string } | { readonly ok: false; readonly reason: 'EXHAUSTED' };

export interface GuidPool {
  /**
   * The VF's identity: the one it already owns if any (idempotent), else a released one, else the
   * next never-used one of the range. Atomic.
   */
  allocate(node: string, vf: string): Promise<AllocateOutcome>;
  /** Releases the VF's identity (it may be handed out again). Returns it, or undefined. Idempotent. */
  release(node: string, vf: string): Promise<string | undefined>;
  /** Identities held by VFs of the node: VF PCI address -> GUID. */
  ofNode(node: string): Promise<ReadonlyMap<string, string>>;
  /**
   * Records a GUID found on the host as the VF's, when nobody owns it: `adopted`; `already` when
   * the VF owns it; `conflict` when someone else does or the VF owns another one.
   */
  adopt(node: string, vf: string, guid: string): Promise<'adopted' | 'already' | 'conflict'>;
}

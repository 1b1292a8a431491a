/**
 * The networks a pod asks Multus for: the annotation `k8s.v1.cni.cncf.io/networks`, in either of
 * the forms the Network Plumbing Working Group spec allows:
 *   - the short form, a comma-separated list of `[<namespace>/]<name>[@<interface>]`;
 *   - the JSON form, an array of NetworkSelectionElement objects
 *     (`{"name": "ib-net", "namespace": "team-a", "interface": "net1", ...}`).
 * A network without a namespace is in the pod's namespace. Pure.
 */

export const MULTUS_NETWORKS_ANNOTATION = 'k8s.v1.cni.cncf.io/networks';

export interface NetworkRef {
  readonly namespace: string;
  readonly name: string;
}

export type NetworkRefs =
  | { readonly ok: true; readonly refs: readonly NetworkRef[] }
  | { readonly ok: false; readonly message: string };

const DNS_LABEL = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/;
const DNS_SUBDOMAIN = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/;

function bad(detail: string): NetworkRefs {
  return { ok: false, message: `annotation ${MULTUS_NETWORKS_ANNOTATION}: ${detail}` };
}

function check(ref: NetworkRef, where: string): string | undefined {
  if (!DNS_LABEL.test(ref.namespace) || ref.namespace.length > 63)
    return `${where}: namespace ${JSON.stringify(ref.namespace)} is not a valid namespace name`;
  if (!DNS_SUBDOMAIN.test(ref.name) || ref.name.length > 253)
    return `${where}: network name ${JSON.stringify(ref.name)} is not a valid object name`;
  return undefined;
}

/** The networks of a pod's annotation value (undefined or empty: none). Never throws. */
export function parseNetworkRefs(value: string | undefined, podNamespace: string): NetworkRefs {
  if (value === undefined) return { ok: true, refs: [] };
  const text = value.trim();
  if (text === '') return { ok: true, refs: [] };
  const refs: NetworkRef[] = [];
  if (text.startsWith('[') || text.startsWith('{')) {
    let parsed: unknown;
    try {
      parsed = JSON.parse(text);
    } catch {
      return bad('is neither a JSON array of networks nor a list of namespace/name');
    }
    if (!Array.isArray(parsed)) return bad('the JSON form must be an array of networks');
    for (let i = 0; i < parsed.length; i++) {
      const e: unknown = parsed[i];
      if (typeof e !== 'object' || e === null) return bad(`[${i}] must be an object`);
      const o = e as Record<string, unknown>;
      if (typeof o['name'] !== 'string') return bad(`[${i}].name must be a string`);
      const ns = o['namespace'];
      if (ns !== undefined && typeof ns !== 'string') return bad(`[${i}].namespace must be a string`);
      const ref = { namespace: ns === undefined || ns === '' ? podNamespace : ns, name: o['name'] };
      const problem = check(ref, `[${i}]`);
      if (problem !== undefined) return bad(problem);
      refs.push(ref);
    }
    return { ok: true, refs };
  }
  for (const raw of text.split(',')) {
    const item = raw.trim();
    if (item === '') return bad('has an empty entry');
    const at = item.indexOf('@');
    const spec = at < 0 ? item : item.slice(0, at);
    const slash = spec.split('/');
    if (slash.length > 2) return bad(`${JSON.stringify(item)} must be [namespace/]name[@interface]`);
    const ref =
      slash.length === 2
        ? { namespace: slash[0] ?? '', name: slash[1] ?? '' }
        : { namespace: podNamespace, name: spec };
    const problem = check(ref, JSON.stringify(item));
    if (problem !== undefined) return bad(problem);
    refs.push(ref);
  }
  return { ok: true, refs };
}

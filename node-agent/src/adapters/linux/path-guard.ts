/**
 * The only sysfs paths the agent ever writes (reference §1.2, §1.5):
 *   bus/pci/devices/<BDF>/sriov_numvfs
 *   bus/pci/devices/<BDF>/driver_override
 *   bus/pci/drivers/<driver>/bind | unbind
 *   bus/pci/drivers_probe
 * Every component is checked for well-formedness before a path is built, and the resolved path
 * (symlinks followed) must stay under the sysfs root. Anything else is refused, so no value from
 * Redis or the API can point a write elsewhere.
 */
import { realpath } from 'node:fs/promises';
import { dirname, join, resolve, sep } from 'node:path';
import { isPciAddress } from '@rdmasched/contracts';

/** Drivers the agent may bind or unbind. */
export const WRITABLE_DRIVERS: ReadonlySet<string> = new Set(['mlx5_core', 'vfio-pci']);

export type WriteTarget =
  | { readonly kind: 'sriov_numvfs'; readonly device: string }
  | { readonly kind: 'driver_override'; readonly device: string }
  | { readonly kind: 'bind' | 'unbind'; readonly driver: string }
  | { readonly kind: 'drivers_probe' };

/** The relative path of a write target, or an explanation of why it is refused. */
export function relativeWritePath(
  t: WriteTarget,
): { ok: true; path: string } | { ok: false; reason: string } {
  switch (t.kind) {
    case 'sriov_numvfs':
    case 'driver_override':
      return isPciAddress(t.device)
        ? { ok: true, path: `bus/pci/devices/${t.device}/${t.kind}` }
        : { ok: false, reason: `${JSON.stringify(t.device)} is not a PCI address` };
    case 'bind':
    case 'unbind':
      return WRITABLE_DRIVERS.has(t.driver)
        ? { ok: true, path: `bus/pci/drivers/${t.driver}/${t.kind}` }
        : { ok: false, reason: `driver ${JSON.stringify(t.driver)} is not one the agent manages` };
    case 'drivers_probe':
      return { ok: true, path: 'bus/pci/drivers_probe' };
  }
}

/**
 * Resolves a relative write path under `root`, following symlinks of its directory, and checks
 * that the result is still under the root's real path. Returns the absolute path to write.
 */
export async function resolveUnderRoot(
  root: string,
  rel: string,
): Promise<{ ok: true; path: string } | { ok: false; reason: string }> {
  if (rel.split('/').some((c) => c === '' || c === '.' || c === '..') || rel.includes('\0'))
    return { ok: false, reason: `path ${JSON.stringify(rel)} has an unsafe component` };
  let rootReal: string;
  let dirReal: string;
  const abs = join(resolve(root), rel);
  try {
    rootReal = await realpath(root);
    dirReal = await realpath(dirname(abs));
  } catch {
    return { ok: false, reason: `${abs}: no such directory` };
  }
  if (dirReal !== rootReal && !dirReal.startsWith(rootReal + sep))
    return { ok: false, reason: `${abs} resolves to ${dirReal}, outside the sysfs root ${rootReal}` };
  const last = rel.slice(rel.lastIndexOf('/') + 1);
  return { ok: true, path: join(dirReal, last) };
}

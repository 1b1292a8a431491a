/**
 * Reconcile with the kubelet: ask which devices of rdmasched's resources it has assigned, and make
 * the usage record agree (release what it no longer lists, adopt what the plugin did not know,
 * e.g. after an agent restart). A failed question changes nothing.
 */
import type { Logger } from 'pino';
import { isPciAddress } from '@rdmasched/contracts';
import type { AllocatedDevicesSource, KubeletAssignment } from './allocated-devices.js';
import type { DevicePluginMetrics } from './metrics.js';
import type { ApplyOutcome, DevicePluginVfUsage, KubeletHeldVf } from './vf-usage.js';

export interface ReconcileDeps {
  readonly source: AllocatedDevicesSource;
  readonly usage: DevicePluginVfUsage;
  /** rdmasched's resource names; other resources' devices are ignored. */
  readonly resources: ReadonlySet<string>;
  /** The PF of a VF (inventory, then sysfs `physfn`); undefined when the VF cannot be found. */
  readonly pfOf: (vf: string) => Promise<string | undefined>;
  readonly nowMs: () => number;
  /** Allocations younger than this are kept even when the kubelet does not list them yet. */
  readonly graceMs: number;
  /** Optional: the pod's UID from its namespace and name (the PodResources API gives no UID). */
  readonly resolvePodUid?: (namespace: string, name: string) => Promise<string | null> | string | null;
  /** Told every successful answer, all resources (e.g. `nvidia.com/gpu` for GPU allocations). */
  readonly onAssignments?: (list: readonly KubeletAssignment[]) => Promise<void> | void;
  readonly metrics: DevicePluginMetrics;
  readonly logger: Logger;
}

export type ReconcileOutcome =
  ({ readonly ok: true } & ApplyOutcome) | { readonly ok: false; readonly error: string };

export async function reconcileOnce(d: ReconcileDeps): Promise<ReconcileOutcome> {
  const askedAtMs = d.nowMs();
  let list;
  try {
    list = await d.source.list();
  } catch (err: unknown) {
    const error = err instanceof Error ? err.message : String(err);
    d.metrics.reconciles.inc({ result: 'error' });
    d.logger.warn({ err: error }, 'cannot ask the kubelet which VFs are in use; nothing released');
    return { ok: false, error };
  }
  if (d.onAssignments !== undefined) {
    try {
      await d.onAssignments(list);
    } catch (err: unknown) {
      d.logger.warn(
        { err: err instanceof Error ? err.message : String(err) },
        'kubelet assignments listener failed',
      );
    }
  }
  const held = new Map<string, KubeletHeldVf>();
  const uids = new Map<string, string | null>();
  for (const a of list) {
    if (!d.resources.has(a.resource)) continue;
    if (!isPciAddress(a.deviceId)) {
      d.logger.warn(
        { resource: a.resource, device: a.deviceId.slice(0, 64) },
        'kubelet lists a device that is not a PCI address',
      );
      continue;
    }
    const pf = (await d.pfOf(a.deviceId)) ?? d.usage.inUse().get(a.deviceId)?.pf;
    if (pf === undefined) {
      d.logger.warn({ vf: a.deviceId }, 'kubelet lists a VF that does not exist on the host');
      continue;
    }
    const key = `${a.namespace}/${a.pod}`;
    if (!uids.has(key)) uids.set(key, await podUid(d, a.namespace, a.pod));
    held.set(a.deviceId, {
      vf: a.deviceId,
      pf,
      resource: a.resource,
      namespace: a.namespace,
      podName: a.pod,
      container: a.container,
      podUid: uids.get(key) ?? null,
    });
  }
  const out = d.usage.applyKubeletView({ held, askedAtMs, graceMs: d.graceMs });
  d.metrics.reconciles.inc({ result: 'ok' });
  for (const r of out.released) d.metrics.releasedVfs.inc({ resource: r.resource });
  if (out.released.length > 0)
    d.logger.info({ vfs: out.released.map((r) => r.vf) }, 'VFs released (the kubelet no longer lists them)');
  if (out.adopted.length > 0)
    d.logger.info({ vfs: out.adopted.map((a) => a.vf) }, 'VFs in use that the plugin did not know (adopted)');
  if (out.adoptedOnLockedPf.length > 0)
    d.logger.error({ vfs: out.adoptedOnLockedPf }, 'the kubelet holds VFs of a locked PF');
  return { ok: true, ...out };
}

async function podUid(d: ReconcileDeps, namespace: string, name: string): Promise<string | null> {
  if (d.resolvePodUid === undefined) return null;
  try {
    return (await d.resolvePodUid(namespace, name)) ?? null;
  } catch {
    return null;
  }
}

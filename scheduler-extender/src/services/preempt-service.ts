/**
 * The preempt verb (core/preempt.ts, docs/adr/0016): narrows kube-scheduler's proposal to the
 * nodes where evicting allowed victims frees the preemptor's VFs, with the fewest VF-holding
 * victims. Victims are looked up by UID in the ledger mirror (their reservations and tenants),
 * the pod informer, the full pods of the request, and, for UIDs none of those know, one API list
 * of the node's pods. Every victim returned was in the proposal, so it exists on the node.
 */
import type { Logger } from 'pino';
import type { LedgerMirror } from '../core/ledger-mirror.js';
import { podRequestFrom } from '../core/pod-request.js';
import { judgeNode, type Preemptor, type Victim } from '../core/preempt.js';
import type { Snapshot } from '../core/snapshot.js';
import type { TenantAdmission } from '../core/tenancy.js';
import type { PodApi, PodCache } from '../ports/pod-api.js';
import type { PreemptionArgs } from '../http/wire-bind.js';
import type { LedgerMetrics } from './ledger-metrics.js';

export interface PreemptServiceOptions {
  readonly snapshot: Snapshot;
  readonly mirror: LedgerMirror;
  readonly tenancy?: TenantAdmission;
  readonly podCache?: PodCache;
  readonly pods?: PodApi;
  readonly metrics: LedgerMetrics;
  readonly logger: Logger;
}

export type PreemptResult = ReadonlyMap<
  string,
  { readonly uids: readonly string[]; readonly numPdbViolations: number }
>;

function namespaceOf(pod: unknown): string | undefined {
  const ns = (pod as { metadata?: { namespace?: unknown } } | null)?.metadata?.namespace;
  return typeof ns === 'string' ? ns : undefined;
}

export class PreemptService {
  constructor(private readonly o: PreemptServiceOptions) {}

  async preempt(args: PreemptionArgs): Promise<PreemptResult> {
    const unchanged = new Map(
      [...args.nodes].map(([n, v]) => [n, { uids: v.uids, numPdbViolations: v.numPdbViolations }]),
    );
    const parsed = podRequestFrom(args.pod);
    if (parsed.kind !== 'ok' || parsed.request.totalVfs === 0) return unchanged;
    const tenancy = this.o.tenancy;
    const tenant = tenancy?.tenantOf(parsed.pod.namespace);
    const preemptor: Preemptor = {
      request: parsed.request,
      tenant: tenant?.name ?? '',
      tenantPriority: tenant?.priority ?? -1,
      policy: tenancy === undefined ? 'Any' : (tenant?.crossTenantPreemption ?? 'Never'),
    };
    const out = new Map<string, { uids: readonly string[]; numPdbViolations: number }>();
    for (const [node, proposed] of args.nodes) {
      const view = this.o.snapshot.get(node);
      if (view === undefined) {
        this.o.metrics.preempt.inc({ result: 'dropped' });
        continue;
      }
      const victims = await this.victims(node, proposed.uids, proposed.pods);
      const verdict = judgeNode({
        view,
        reservations: this.o.mirror.forNode(node),
        preemptor,
        victims,
        policy: this.o.snapshot.policy,
      });
      if (!verdict.keep) {
        this.o.metrics.preempt.inc({ result: 'dropped' });
        this.o.logger.debug(
          { node, why: verdict.why, pod: `${parsed.pod.namespace}/${parsed.pod.name}` },
          'preemption: node dropped',
        );
        continue;
      }
      this.o.metrics.preempt.inc({ result: verdict.trimmed ? 'trimmed' : 'kept' });
      out.set(node, { uids: verdict.victims, numPdbViolations: proposed.numPdbViolations });
    }
    return out;
  }

  private async victims(
    node: string,
    uids: readonly string[],
    full: ReadonlyMap<string, unknown>,
  ): Promise<Victim[]> {
    const namespaces = new Map<string, string>();
    for (const uid of uids) {
      const ns =
        namespaceOf(full.get(uid)) ??
        this.o.mirror.reservation(uid)?.namespace ??
        this.o.podCache?.byUid(uid)?.namespace;
      if (ns !== undefined) namespaces.set(uid, ns);
    }
    const unknown = uids.filter((u) => !namespaces.has(u) && this.o.mirror.reservation(u) === undefined);
    if (unknown.length > 0 && this.o.pods !== undefined && this.o.tenancy !== undefined) {
      try {
        for (const p of await this.o.pods.listOnNode(node)) namespaces.set(p.uid, p.namespace);
      } catch (err: unknown) {
        this.o.logger.warn(
          { node, err: err instanceof Error ? err.message : String(err) },
          'cannot list victims; unknown ones count as other tenants',
        );
      }
    }
    return uids.map((uid) => {
      const r = this.o.mirror.reservation(uid);
      const reservation = r !== undefined && r.node === node ? r.pfs : undefined;
      let tenant: string | undefined;
      if (r !== undefined) tenant = r.tenant;
      else {
        const ns = namespaces.get(uid);
        tenant = ns === undefined ? undefined : (this.o.tenancy?.tenantOf(ns)?.name ?? '');
      }
      const priority =
        tenant === undefined || tenant === ''
          ? -1
          : (this.o.tenancy?.directory.tenant(tenant)?.priority ?? -1);
      return { uid, reservation, tenant, tenantPriority: priority };
    });
  }
}

/**
 * INTERIM stand-in for the extender's bind verb (issue 4), used only until the scheduler extender
 * ships its own bind verb and in-memory ledger adapter; the simulation then binds through those.
 *
 * It speaks the extender bind protocol (ExtenderBindingArgs -> ExtenderBindingResult) on loopback
 * HTTP, so kube-scheduler's side is configured exactly as it will be (a `bindVerb` extender), and
 * follows ADR 0003 (with its amendment) in one synchronous step on the in-memory ledger:
 *   1. the plan: the extender snapshot's decision for the pod on the chosen node;
 *   2. the tenant: link types it may use, its quota (usage + request <= quota);
 *   3. reserve (pending) with the resize claim of every idle PF the plan grows;
 *   4. ask each node agent for the PFs that need provisioning, wait (bounded);
 *   5. create the Binding with the reservation annotation; mark the reservation bound.
 * Any failure releases the reservation and answers `Error`.
 */
import { randomUUID } from 'node:crypto';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { ANNOTATIONS, LINK_TYPES, distanceRank, type LinkType, type Reservation } from '@rdmasched/contracts';
import type { InMemoryLedger } from '@rdmasched/node-agent';
import {
  NodeView,
  computeCapacity,
  decideNode,
  podRequestFrom,
  type NodeDecision,
  type PodRequest,
  type ReservationView,
  type Snapshot,
} from '@rdmasched/scheduler-extender';
import { goField, POD_RESOURCE, type FakeKubeStore } from '@rdmasched/testkit';
import type { Fleet } from '../cluster/fleet.js';
import type { TenantPlan } from '../cluster/tenants.js';

export interface InterimBinderOptions {
  readonly store: FakeKubeStore;
  readonly snapshot: Snapshot;
  /** The extender's reservation view (the ledger mirror the snapshot reads). */
  readonly reservations: ReservationView;
  readonly ledger: InMemoryLedger;
  readonly fleet: Fleet;
  readonly tenants: readonly TenantPlan[];
  /** How long bind waits for provisioning (default 20 s). */
  readonly provisionTimeoutMs?: number;
  /** A pending reservation not bound by then may be reclaimed (recorded in the reservation). */
  readonly reservationTtlMs?: number;
  readonly onQuotaRejected?: (tenant: string, linkType: LinkType) => void;
  readonly onProvisionRequested?: (node: string, pf: string) => void;
}

export class BindRejected extends Error {}

export class InterimBinder {
  /** VFs held per tenant and link type (the ledger's `tenant:<t>:usage`). */
  readonly usage = new Map<string, Record<LinkType, number>>();
  /** node -> pod UID -> GPUs its reservation names (a GPU stays promised until the pod goes). */
  private readonly reservedGpus = new Map<string, Map<string, readonly string[]>>();
  private readonly tenantOfNamespace = new Map<string, TenantPlan>();
  private server: Server | undefined;
  private unsubscribe: (() => void) | undefined;

  constructor(private readonly opts: InterimBinderOptions) {
    for (const t of opts.tenants) this.tenantOfNamespace.set(t.namespace, t);
    this.unsubscribe = opts.ledger.onEvent((e) => {
      if (e.type !== 'reserved' && e.type !== 'released') return;
      const u = this.usage.get(e.tenant) ?? { ib: 0, roce: 0 };
      const sign = e.type === 'reserved' ? 1 : -1;
      for (const pf of e.pfs) u[pf.linkType] += sign * pf.count;
      this.usage.set(e.tenant, u);
      const byPod = this.reservedGpus.get(e.node) ?? new Map<string, readonly string[]>();
      this.reservedGpus.set(e.node, byPod);
      if (e.type === 'released') byPod.delete(e.podUid);
      else byPod.set(e.podUid, opts.ledger.records.get(e.podUid)?.gpus ?? []);
    });
  }

  /** Listens on 127.0.0.1; returns the URL prefix for the scheduler's extender config. */
  async listen(): Promise<string> {
    const server = createServer((req, res) => this.handle(req, res));
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(0, '127.0.0.1', () => resolve());
    });
    this.server = server;
    return `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  }

  async close(): Promise<void> {
    this.unsubscribe?.();
    this.unsubscribe = undefined;
    const s = this.server;
    this.server = undefined;
    if (s !== undefined) {
      s.closeAllConnections();
      await new Promise<void>((r) => s.close(() => r()));
    }
  }

  private handle(req: IncomingMessage, res: ServerResponse): void {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const answer = (status: number, body: unknown) => {
        const text = JSON.stringify(body);
        res.writeHead(status, {
          'content-type': 'application/json',
          'content-length': Buffer.byteLength(text),
        });
        res.end(text);
      };
      if (req.method !== 'POST' || !(req.url ?? '').endsWith('/bind')) {
        answer(404, { error: { code: 'ROUTE_NOT_FOUND', message: `no route for ${req.method} ${req.url}` } });
        return;
      }
      let args: unknown;
      try {
        args = JSON.parse(Buffer.concat(chunks).toString('utf8'));
      } catch {
        answer(400, { error: { code: 'INVALID_JSON', message: 'body is not JSON' } });
        return;
      }
      const str = (k: string) => {
        const v = goField(args, k);
        return typeof v === 'string' ? v : '';
      };
      this.bind({
        name: str('PodName'),
        namespace: str('PodNamespace'),
        uid: str('PodUID'),
        node: str('Node'),
      }).then(
        () => answer(200, { Error: '' }),
        (err: unknown) => answer(200, { Error: err instanceof Error ? err.message : String(err) }),
      );
    });
  }

  /** Reserves, provisions and binds; throws BindRejected with the reason when it cannot. */
  async bind(a: { name: string; namespace: string; uid: string; node: string }): Promise<void> {
    const { store, snapshot, ledger } = this.opts;
    if (a.name === '' || a.namespace === '' || a.uid === '' || a.node === '')
      throw new BindRejected('bind: PodName, PodNamespace, PodUID and Node are required');
    const pod = store.tryGet(POD_RESOURCE, a.namespace, a.name);
    if (pod === undefined) throw new BindRejected(`pod ${a.namespace}/${a.name} not found`);
    if (pod.metadata.uid !== a.uid) throw new BindRejected(`pod ${a.namespace}/${a.name} has another UID`);
    const parsed = podRequestFrom(pod);
    if (parsed.kind !== 'ok') throw new BindRejected(`invalid pod request: ${parsed.message}`);
    const request = parsed.request;
    const tenant = this.tenantOfNamespace.get(a.namespace);
    const tenantName = tenant?.name ?? '';
    for (const t of LINK_TYPES) {
      if (request.vfs[t] === 0) continue;
      if (tenant !== undefined && !tenant.allowedLinkTypes.includes(t))
        throw new BindRejected(`tenant ${tenantName} may not use ${t} VFs`);
      const quota = tenant?.quota[t];
      const used = this.usage.get(tenantName)?.[t] ?? 0;
      if (quota !== undefined && used + request.vfs[t] > quota) {
        this.opts.onQuotaRejected?.(tenantName, t);
        throw new BindRejected(
          `tenant ${tenantName} ${t} VF quota exceeded (${used} + ${request.vfs[t]} > ${quota})`,
        );
      }
    }
    const view = snapshot.get(a.node);
    if (view === undefined) throw new BindRejected(`node ${a.node} has no report`);
    const scored = snapshot.decide(view, snapshot.shapeOf(request));
    const decision = this.decide(view, request, a.uid);
    if (!decision.feasible)
      throw new BindRejected(`node ${a.node} cannot host the pod now: ${decision.reason.text}`);
    // The scheduler chose the node for the placement it was scored with; if GPUs promised to
    // other pods meanwhile make it worse, refuse, so the pod is placed again with fresh state.
    const was = scored.feasible ? scored.placement.plan.distance : null;
    const got = decision.placement.plan.distance;
    if (was !== null && got !== null && distanceRank(got) > distanceRank(was))
      throw new BindRejected(
        `node ${a.node} can no longer give the pod ${was} locality (its GPUs were promised to other pods); it would get ${got}`,
      );
    const plan = decision.placement.plan;
    const capacity = snapshot.capacityOf(view);
    const now = Date.now();
    const reservation: Reservation = {
      podUid: a.uid,
      namespace: a.namespace,
      podName: a.name,
      tenant: tenantName,
      node: a.node,
      pfs: plan.pfs.map((p) => ({ pfPciAddress: p.pciAddress, linkType: p.linkType, count: p.count })),
      gpus: [...plan.gpus],
      state: 'pending',
      createdAtMs: now,
      expiresAtMs: now + (this.opts.reservationTtlMs ?? 60_000),
    };
    // Work to ask of the agent, and which idle PFs the reservation claims for a resize (ADR 0003).
    const provision: { pf: string; minReady: number }[] = [];
    const claims: string[] = [];
    for (const p of plan.pfs) {
      if (!p.provision) continue;
      const held = capacity.held[p.pfIndex] ?? 0;
      provision.push({ pf: p.pciAddress, minReady: held + p.count });
      const pf = view.pfs[p.pfIndex];
      if (held === 0 && pf !== undefined && pf.numVfs < held + p.count) claims.push(p.pciAddress);
    }
    ledger.reserve(reservation, claims[0]);
    for (const pf of claims.slice(1)) await ledger.takeClaim(a.node, pf, a.uid);
    try {
      if (provision.length > 0) await this.provision(a.node, a.uid, provision);
      store.bind(a.namespace, a.name, {
        apiVersion: 'v1',
        kind: 'Binding',
        metadata: {
          name: a.name,
          namespace: a.namespace,
          uid: a.uid,
          annotations: { [ANNOTATIONS.reservation]: JSON.stringify({ ...reservation, state: 'bound' }) },
        },
        target: { apiVersion: 'v1', kind: 'Node', name: a.node },
      });
      ledger.bind(a.uid);
    } catch (err: unknown) {
      ledger.unreserve(a.uid);
      for (const pf of claims) await ledger.releaseClaim(a.node, pf, a.uid);
      throw err instanceof BindRejected
        ? err
        : new BindRejected(`binding failed: ${err instanceof Error ? err.message : String(err)}`);
    }
  }

  /**
   * The plan for the pod on the node, from the snapshot, except that GPUs promised to other pods'
   * reservations count as taken: the node's report marks a GPU allocated only once the kubelet
   * started the pod and the agent reported it, and two pods placed on one node within that time
   * must not be planned onto the same GPUs.
   */
  private decide(view: NodeView, request: PodRequest, podUid: string): NodeDecision {
    const { snapshot } = this.opts;
    const promised = new Set<string>();
    for (const [uid, gpus] of this.reservedGpus.get(view.name) ?? [])
      if (uid !== podUid) for (const g of gpus) promised.add(g);
    const stale = view.gpus.some((g) => !g.allocated && promised.has(g.pciAddress));
    if (request.gpus === 0 || !stale) return snapshot.decide(view, snapshot.shapeOf(request));
    const report = {
      ...view.report,
      gpus: view.report.gpus.map((g) => (promised.has(g.pciAddress) ? { ...g, allocated: true } : g)),
    };
    const adjusted = new NodeView(report, {
      version: view.version,
      lastHeartbeatMs: view.lastHeartbeatMs,
      staleAfterHeartbeats: 1,
    });
    const capacity = computeCapacity(adjusted, this.opts.reservations.forNode(view.name));
    return decideNode(adjusted, capacity, request, snapshot.policy);
  }

  private async provision(node: string, podUid: string, work: readonly { pf: string; minReady: number }[]) {
    const n = this.opts.fleet.get(node);
    if (n === undefined) throw new BindRejected(`node ${node} has no agent`);
    const timeout = this.opts.provisionTimeoutMs ?? 20_000;
    const answers = await Promise.all(
      work.map((w) => {
        const id = randomUUID();
        const now = Date.now();
        this.opts.onProvisionRequested?.(node, w.pf);
        n.queue.push(
          JSON.stringify({
            id,
            node,
            pfPciAddress: w.pf,
            minReadyVfs: w.minReady,
            reason: 'reservation',
            podUid,
            requestedAtMs: now,
            deadlineMs: now + timeout,
          }),
        );
        return n.queue.waitFor(id, timeout).then((r) => ({ w, r }));
      }),
    );
    for (const { w, r } of answers) {
      if (r === undefined)
        throw new BindRejected(`provisioning ${w.pf} on ${node} timed out after ${timeout} ms`);
      if (r.status !== 'ready')
        throw new BindRejected(`provisioning ${w.pf} on ${node} ${r.status}: ${r.code} ${r.message}`);
    }
  }
}

/**
 * The bind verb (docs/adr/0016): kube-scheduler chose a node; make the pod's VFs real there.
 *
 *   1. the pod, from the informer cache (or one GET): it must exist with the UID given;
 *   2. its request and tenancy, as filter saw them; the plan on the chosen node, from the same
 *      snapshot and ledger mirror as filter and prioritize;
 *   3. reserve atomically (one Lua script: tenant quota, per-PF capacity and the GPUs' promises
 *      together); when another replica promised one of the planned GPUs first (GPU_TAKEN), plan
 *      again without the GPUs the ledger promises on the node, at most GPU_TAKEN_RETRIES times
 *      (docs/adr/0073);
 *   4. when PFs need provisioning, one request per PF to the node's agent, and wait (bounded);
 *   5. create the Binding (the reservation, VLAN and PKey as annotations, copied onto the pod);
 *   6. answer, and mark the reservation bound right after (reconcile repairs it if this dies).
 * Any failure after 3 releases the reservation, and the answer is `CODE: message`. Idempotent per
 * pod UID: a retried bind finds its reservation (`exists`) and goes on from there, and two binds
 * of one pod in this process share one attempt.
 */
import { randomUUID } from 'node:crypto';
import type { ProvisionResult, Reservation } from '@rdmasched/contracts';
import type { Logger } from 'pino';
import type { LedgerMirror, MirroredReservation } from '../core/ledger-mirror.js';
import { podRequestFrom, type PodRequest } from '../core/pod-request.js';
import { bindingAnnotations, provisionRequests, reservationOf } from '../core/reservation-plan.js';
import type { Snapshot } from '../core/snapshot.js';
import type { TenantAdmission } from '../core/tenancy.js';
import type { TenantInfo } from '../core/tenant-catalog.js';
import type { BindFailureCode } from '../errors.js';
import type { Clock } from '../ports/clock.js';
import { NO_QUOTA, type Ledger, type ProvisionNeed, type ReserveOutcome } from '../ports/ledger.js';
import type { PodApi, PodCache, PodSummary } from '../ports/pod-api.js';
import type { ProvisioningChannel } from '../ports/provisioning.js';
import { tenantLabel, type LedgerMetrics } from './ledger-metrics.js';

export interface BindArgs {
  readonly podName: string;
  readonly podNamespace: string;
  readonly podUid: string;
  readonly node: string;
}

export type BindResult =
  | { readonly ok: true; readonly reservation: Reservation | undefined; readonly provisioned: boolean }
  | { readonly ok: false; readonly code: BindFailureCode; readonly message: string };

export interface BindServiceOptions {
  readonly snapshot: Snapshot;
  readonly mirror: LedgerMirror;
  readonly ledger: Ledger;
  readonly pods: PodApi;
  readonly podCache?: PodCache;
  readonly provisioning: ProvisioningChannel;
  readonly tenancy?: TenantAdmission;
  readonly metrics: LedgerMetrics;
  readonly logger: Logger;
  readonly clock: Clock;
  /** How long bind waits for the agent's VFs (well under kube-scheduler's httpTimeout). */
  readonly provisionTimeoutMs: number;
  /** A pending reservation not bound by then is released by reconcile. */
  readonly reservationTtlMs: number;
  readonly newId?: () => string;
}

class BindFailure extends Error {
  constructor(
    readonly code: BindFailureCode,
    message: string,
  ) {
    super(message);
  }
}

const fail = (code: BindFailureCode, message: string): never => {
  throw new BindFailure(code, message);
};

/** The ledger refused the plan: a GPU it names is promised to another pod (docs/adr/0073). */
class GpuTaken extends BindFailure {
  constructor(
    message: string,
    readonly gpu: string,
    readonly owner: string,
  ) {
    super('RESERVATION_REFUSED', `GPU_TAKEN: ${message}`);
  }
}

/**
 * Plans again after GPU_TAKEN at most this often per bind. Each retry leaves out every GPU the
 * ledger promises on the node at that moment (one read), so a second refusal needs yet another
 * bind to have promised a GPU in between.
 */
export const GPU_TAKEN_RETRIES = 2;

export class BindService {
  private readonly inflight = new Map<string, Promise<BindResult>>();
  private readonly marking = new Set<Promise<void>>();
  /** Per node: the tail of the binds planning and reserving there (see oneAtATime). */
  private readonly planning = new Map<string, Promise<void>>();

  constructor(private readonly o: BindServiceOptions) {}

  /** Binds the pod; never throws (failures are results). */
  bind(args: BindArgs): Promise<BindResult> {
    const key = `${args.podUid}\u0000${args.node}`;
    const running = this.inflight.get(key);
    if (running !== undefined) return running;
    const p = this.run(args).finally(() => this.inflight.delete(key));
    this.inflight.set(key, p);
    return p;
  }

  private async run(args: BindArgs): Promise<BindResult> {
    const started = this.o.clock.nowMs();
    const log = this.o.logger.child({
      pod: `${args.podNamespace}/${args.podName}`,
      podUid: args.podUid,
      node: args.node,
    });
    let tenant: TenantInfo | undefined;
    let provisioned = false;
    try {
      const pod = await this.pod(args);
      const outcome = await this.bindPod(args, pod, log, (t) => (tenant = t));
      provisioned = outcome.provisioned;
      this.o.metrics.binds.inc({ tenant: tenantLabel(tenant?.name), result: 'bound', code: 'none' });
      log.debug({ provisioned, ms: this.o.clock.nowMs() - started }, 'bound');
      return outcome;
    } catch (err: unknown) {
      const f =
        err instanceof BindFailure
          ? err
          : new BindFailure(
              'LEDGER_UNAVAILABLE',
              `Redis error: ${err instanceof Error ? err.message : String(err)}`,
            );
      if (!(err instanceof BindFailure)) log.warn({ err }, 'bind failed on an unexpected error');
      this.o.metrics.binds.inc({ tenant: tenantLabel(tenant?.name), result: 'failed', code: f.code });
      log.info({ code: f.code, problem: f.message }, 'bind failed');
      return { ok: false, code: f.code, message: f.message };
    } finally {
      this.o.metrics.bindDuration.observe(
        { provisioning: provisioned ? 'yes' : 'no' },
        (this.o.clock.nowMs() - started) / 1000,
      );
    }
  }

  private async pod(args: BindArgs): Promise<PodSummary> {
    let pod = this.o.podCache?.get(args.podNamespace, args.podName);
    if (pod === undefined || pod.uid !== args.podUid) {
      try {
        pod = await this.o.pods.get(args.podNamespace, args.podName);
      } catch (err: unknown) {
        fail(
          'BINDING_FAILED',
          `cannot read pod from the API: ${err instanceof Error ? err.message : String(err)}`,
        );
      }
    }
    if (pod === undefined)
      return fail('POD_NOT_FOUND', `pod ${args.podNamespace}/${args.podName} does not exist`);
    if (pod.uid !== args.podUid)
      fail(
        'POD_UID_MISMATCH',
        `pod ${args.podNamespace}/${args.podName} has UID ${pod.uid}, not ${args.podUid}`,
      );
    return pod;
  }

  private async bindPod(
    args: BindArgs,
    pod: PodSummary,
    log: Logger,
    setTenant: (t: TenantInfo | undefined) => void,
  ): Promise<{ ok: true; reservation: Reservation | undefined; provisioned: boolean }> {
    const { ledger } = this.o;
    if (pod.nodeName !== undefined) {
      if (pod.nodeName !== args.node)
        fail('ALREADY_BOUND', `pod is already assigned to node ${pod.nodeName}`);
      // A retried bind of a pod that is bound already: make sure its reservation says so.
      const r = await ledger.get(args.podUid);
      if (r !== undefined && r.node === args.node) await ledger.markBound(r);
      return { ok: true, reservation: r, provisioned: false };
    }
    const parsed = podRequestFrom(pod.object);
    if (parsed.kind !== 'ok')
      fail('INVALID_POD_REQUEST', parsed.kind === 'invalid' ? parsed.message : parsed.message);
    const request = parsed.kind === 'ok' ? parsed.request : undefined;
    if (request === undefined || request.totalVfs === 0) {
      await this.createBinding(args, pod, undefined, {}, log);
      return { ok: true, reservation: undefined, provisioned: false };
    }
    let tenant: TenantInfo | undefined;
    if (this.o.tenancy !== undefined) {
      const a = this.o.tenancy.admit(
        { namespace: pod.namespace, name: pod.name, uid: pod.uid, annotations: pod.annotations },
        request,
        { checkQuota: false },
      );
      tenant = a.tenant;
      setTenant(tenant);
      if (a.kind === 'denied') fail('TENANCY_DENIED', a.reason.text);
    }
    // Plan and reserve one pod at a time per node: a bind planning while another's reservation
    // on the node is still on its way to the ledger would not see it (its GPUs above all: the
    // ledger's script checks VFs only). Other nodes, provisioning and the Binding do not wait.
    const { reservation, needs } = await this.oneAtATime(args.node, () =>
      this.planAndReserve(args, pod, request, tenant, log),
    );
    try {
      if (needs.length > 0) await this.provision(reservation, needs, log);
      await this.createBinding(args, pod, reservation, bindingAnnotations(reservation, tenant), log);
    } catch (err: unknown) {
      const released = await ledger
        .release(reservation.podUid, { node: reservation.node })
        .catch(() => undefined);
      if (released !== undefined) this.o.metrics.releases.inc({ cause: 'bind_failed' });
      throw err;
    }
    this.markBoundLater(reservation, log);
    return { ok: true, reservation, provisioned: needs.length > 0 };
  }

  /** Runs `fn` after every earlier call for the same node settled (a per-node queue). */
  private async oneAtATime<T>(node: string, fn: () => Promise<T>): Promise<T> {
    const before = this.planning.get(node) ?? Promise.resolve();
    let done = (): void => undefined;
    const mine = new Promise<void>((resolve) => (done = resolve));
    const tail = before.then(() => mine);
    this.planning.set(node, tail);
    await before;
    try {
      return await fn();
    } finally {
      done();
      if (this.planning.get(node) === tail) this.planning.delete(node);
    }
  }

  /** Decides the placement on the node from the snapshot and reserves it in the ledger. */
  private async planAndReserve(
    args: BindArgs,
    pod: PodSummary,
    request: PodRequest,
    tenant: TenantInfo | undefined,
    log: Logger,
  ): Promise<{ reservation: Reservation; needs: readonly ProvisionNeed[] }> {
    const { snapshot } = this.o;
    // GPUs other pods' reservations hold that this replica's mirror did not show when it planned
    // (another replica's bind, its event not read yet): the ledger refused them (GPU_TAKEN).
    const taken = new Set<string>();
    let refused: GpuTaken | undefined;
    for (let attempt = 0; ; attempt++) {
      const now = this.o.clock.nowMs();
      const view = snapshot.get(args.node);
      if (view === undefined) fail('UNKNOWN_NODE', `no report from the node agent of ${args.node}`);
      if (view !== undefined && view.isStale(now))
        fail('STALE_NODE', `the node agent report of ${args.node} is stale (missed heartbeats)`);
      const decision =
        view === undefined ? undefined : snapshot.decideWithout(view, snapshot.shapeOf(request), taken);
      if (decision === undefined || !decision.feasible) {
        const why = decision !== undefined && !decision.feasible ? decision.reason.text : 'no plan';
        // Without the GPUs other replicas promised first the pod does not fit: refuse, and
        // kube-scheduler retries the pod with filters that see those reservations by then.
        if (refused !== undefined)
          fail(
            'RESERVATION_REFUSED',
            `${refused.message}; without it, ${args.node} cannot host the pod now: ${why}`,
          );
        return fail('NODE_CANNOT_HOST', `node ${args.node} cannot host the pod now: ${why}`);
      }
      const wanted = reservationOf({
        plan: decision.placement.plan,
        pod: { uid: pod.uid, namespace: pod.namespace, name: pod.name },
        node: args.node,
        tenant: tenant?.name ?? '',
        nowMs: now,
        ttlMs: this.o.reservationTtlMs,
      });
      try {
        return await this.reserve(wanted, tenant, log);
      } catch (err: unknown) {
        if (!(err instanceof GpuTaken)) throw err;
        this.o.metrics.gpuTaken.inc();
        if (attempt >= GPU_TAKEN_RETRIES) throw err;
        refused = err;
        taken.add(err.gpu);
        for (const [g, owner] of await this.o.ledger.gpuPromises(args.node))
          if (owner !== pod.uid) taken.add(g);
        log.info(
          { gpu: err.gpu, owner: err.owner, taken: [...taken] },
          'a planned GPU is promised to another pod (another replica bound it); planning again without its GPUs',
        );
      }
    }
  }

  /**
   * Marks the reservation bound after answering: kube-scheduler waits for the Binding, not for
   * the ledger's bookkeeping (one Redis round trip less on the bind path). If this replica dies
   * first, reconcile marks bound a pending reservation whose pod is bound (docs/adr/0019).
   */
  private markBoundLater(r: Reservation, log: Logger): void {
    const p: Promise<void> = this.o.ledger
      .markBound(r)
      .then(
        (ok) => {
          if (!ok) log.warn('the pod is bound but its reservation changed meanwhile; reconcile records it');
        },
        (err: unknown) => log.warn({ err }, 'marking the reservation bound failed; reconcile will'),
      )
      .finally(() => this.marking.delete(p));
    this.marking.add(p);
  }

  /** Resolves once every reservation of an answered bind is marked bound (shutdown, tests). */
  async settled(): Promise<void> {
    while (this.marking.size > 0) await Promise.all([...this.marking]);
  }

  private async reserve(
    wanted: Reservation,
    tenant: TenantInfo | undefined,
    log: Logger,
  ): Promise<{ reservation: Reservation; needs: readonly ProvisionNeed[] }> {
    const quota = tenant?.quota ?? NO_QUOTA;
    for (let attempt = 0; attempt < 2; attempt++) {
      // Assumed while the ledger writes it: filter and prioritize answered meanwhile (the next
      // pods' scheduling cycles) see it too; undone unless the ledger took exactly this.
      const before = this.o.mirror.reservation(wanted.podUid);
      this.assume(wanted, []);
      let out: ReserveOutcome;
      try {
        out = await this.o.ledger.reserve(wanted, quota);
      } catch (err: unknown) {
        this.unassume(wanted, before);
        throw err;
      }
      switch (out.kind) {
        case 'reserved':
          this.assume(out.reservation, out.claims);
          return { reservation: out.reservation, needs: out.provision };
        case 'exists':
          this.unassume(wanted, before);
          if (this.o.mirror.reservation(wanted.podUid) === undefined) this.assume(out.reservation, []);
          log.info('the pod already holds a reservation on this node (retried bind)');
          return { reservation: out.reservation, needs: out.provision };
        case 'rejected':
          this.unassume(wanted, before);
          if (out.code === 'GPU_TAKEN' && out.gpu !== undefined)
            throw new GpuTaken(out.message, out.gpu.pciAddress, out.gpu.owner);
          return fail('RESERVATION_REFUSED', `${out.code}: ${out.message}`);
        case 'elsewhere':
          this.unassume(wanted, before);
          if (out.reservation.state === 'bound')
            return fail('ALREADY_BOUND', `pod holds a bound reservation on node ${out.reservation.node}`);
          // An abandoned attempt on another node (its bind failed without releasing): replace it.
          log.info(
            { previousNode: out.reservation.node },
            'releasing the pending reservation of an earlier attempt',
          );
          await this.o.ledger.release(wanted.podUid, { node: out.reservation.node });
          this.o.metrics.releases.inc({ cause: 'bind_failed' });
      }
    }
    return fail('RESERVATION_REFUSED', 'the pod reservation kept changing; try again');
  }

  /**
   * Read-your-writes, as kube-scheduler assumes a pod before binding it: the reservation being
   * written goes into this replica's ledger mirror now, not only when the ledger's event stream
   * delivers it (Redis: a stream read later, tens of ms under load). Without it, the next pods'
   * filter, prioritize and bind would plan onto the GPUs it names (the ledger's script checks VFs,
   * not GPUs). Idempotent: the mirror replaces a reservation by pod UID when the event arrives.
   */
  private assume(r: Reservation, claims: readonly string[]): void {
    this.o.mirror.apply({
      type: 'reserved',
      podUid: r.podUid,
      node: r.node,
      tenant: r.tenant,
      pfs: r.pfs,
      claims: [...claims],
      gpus: r.gpus,
      atMs: Math.max(0, Math.floor(r.createdAtMs)),
    });
  }

  /** Undoes `assume(wanted)`: the mirror holds again what it held for the pod before. */
  private unassume(wanted: Reservation, before: MirroredReservation | undefined): void {
    const atMs = Math.max(0, Math.floor(wanted.createdAtMs));
    if (before === undefined) {
      const { podUid, node, tenant, pfs } = wanted;
      this.o.mirror.apply({ type: 'released', podUid, node, tenant, pfs, atMs });
      return;
    }
    const { podUid, node, tenant } = before;
    const [pfs, gpus] = [[...before.pfs], [...(before.gpus ?? [])]];
    this.o.mirror.apply({ type: 'reserved', podUid, node, tenant, pfs, claims: [], gpus, atMs });
  }

  private async provision(r: Reservation, needs: readonly ProvisionNeed[], log: Logger): Promise<void> {
    const now = this.o.clock.nowMs();
    const deadline = now + this.o.provisionTimeoutMs;
    const requests = provisionRequests({
      needs,
      node: r.node,
      podUid: r.podUid,
      nowMs: now,
      deadlineMs: deadline,
      newId: this.o.newId ?? randomUUID,
    });
    log.debug(
      { requests: requests.map((q) => ({ pf: q.pfPciAddress, minReadyVfs: q.minReadyVfs })) },
      'provisioning',
    );
    const answers = await this.o.provisioning.request(r.node, requests, deadline);
    let bad: ProvisionResult | undefined;
    let missing: string | undefined;
    for (const q of requests) {
      const a = answers.get(q.id);
      this.o.metrics.provisionRequests.inc({ status: a?.status ?? 'timeout' });
      if (a === undefined) missing ??= q.pfPciAddress;
      else if (a.status !== 'ready') bad ??= a;
    }
    if (bad !== undefined)
      fail(
        'PROVISIONING_FAILED',
        `agent of ${r.node} answered ${bad.status} for PF ${bad.pfPciAddress}: ${bad.code}: ${bad.message}`,
      );
    if (missing !== undefined)
      fail(
        'PROVISIONING_TIMEOUT',
        `agent of ${r.node} did not make PF ${missing} ready within ${this.o.provisionTimeoutMs} ms`,
      );
  }

  private async createBinding(
    args: BindArgs,
    pod: PodSummary,
    r: Reservation | undefined,
    annotations: Record<string, string>,
    log: Logger,
  ): Promise<void> {
    const out = await this.o.pods.bind(
      { namespace: pod.namespace, name: pod.name, uid: pod.uid },
      args.node,
      annotations,
    );
    if (out.kind === 'bound') return;
    if (out.kind === 'conflict') {
      // Another attempt of the same bind may have won (a retry racing the first try): that is success.
      const now = await this.o.pods.get(pod.namespace, pod.name).catch(() => undefined);
      if (now?.uid === pod.uid && now.nodeName === args.node) {
        log.info('the Binding already exists (a concurrent attempt created it)');
        return;
      }
      fail('BINDING_CONFLICT', out.message);
    }
    if (out.kind === 'not-found') fail('POD_NOT_FOUND', out.message);
    fail('BINDING_FAILED', `${out.message}${r === undefined ? '' : ' (reservation released)'}`);
  }
}

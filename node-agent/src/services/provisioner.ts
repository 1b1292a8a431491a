/**
 * Answers provisioning requests (contracts/src/provisioning.ts, docs/adr/0003). Each request is
 * validated as untrusted input, planned by the pure core, applied, and answered; answers are
 * remembered by request id so a repeated id is not worked again.
 *
 * Order per request: work -> answer -> remember -> ack. A crash before the answer leaves the entry
 * pending, so it is redelivered and worked again (idempotent: the PF is ready by then); a crash
 * between answer and remember can answer twice, never zero times.
 */
import {
  isPciAddress,
  parseProvisionRequest,
  type ProvisionRequest,
  type ProvisionResult,
} from '@rdmasched/contracts';
import { planProvisioning, type PlanPf } from '../core/provision-plan.js';
import type { AgentCode } from '../errors.js';
import type { ProvisionQueue, QueueEntry } from '../ports/provision-queue.js';
import type { AgentContext } from './agent-context.js';
import type { Resizer } from './resizer.js';

export class Provisioner {
  constructor(
    private readonly ctx: AgentContext,
    private readonly resizer: Resizer,
    private readonly queue: ProvisionQueue,
  ) {}

  /** Handles one queue entry completely (answer, remember, ack). Call under the agent's mutex. */
  async handle(entry: QueueEntry): Promise<ProvisionResult | undefined> {
    const { ctx } = this;
    const started = ctx.clock.nowMs();
    const parsed = parseProvisionRequest(entry.raw ?? '');
    if (!parsed.ok) {
      const result = this.#result(
        requestIdOf(entry.raw),
        '',
        '',
        'rejected',
        0,
        'INVALID_REQUEST',
        parsed.reason,
      );
      ctx.logger.warn(
        { entry: entry.entryId, reason: parsed.reason },
        'invalid provisioning request rejected',
      );
      await this.#finish(entry, result, 'invalid', started);
      return result;
    }
    const req = parsed.value;
    if (ctx.notes.answered(req.id) !== undefined) {
      ctx.logger.info({ request: req.id }, 'request already answered; acknowledging only');
      await this.queue.ack(entry.entryId);
      return undefined;
    }
    const result = await this.provision(req);
    await this.#finish(entry, result, req.reason, started);
    return result;
  }

  async #finish(
    entry: QueueEntry,
    result: ProvisionResult,
    reason: string,
    startedMs: number,
  ): Promise<void> {
    const { ctx } = this;
    if (result.pfPciAddress !== '' && this.ctx.view.pf(result.pfPciAddress) !== undefined) {
      if (result.status === 'ready') this.ctx.pfErrors.delete(result.pfPciAddress);
      else this.ctx.pfErrors.set(result.pfPciAddress, `${result.code}: ${result.message}`);
    }
    await this.queue.answer(result);
    try {
      await ctx.notes.remember(result);
    } catch (err: unknown) {
      ctx.logger.warn({ request: result.id, err: (err as Error).message }, 'could not remember the answer');
    }
    await this.queue.ack(entry.entryId);
    ctx.metrics.provisionDuration.observe(
      { reason, status: result.status },
      (ctx.clock.nowMs() - startedMs) / 1000,
    );
    if (result.status !== 'ready') ctx.metrics.failure(result.code as AgentCode);
    ctx.logger.info(
      {
        request: result.id,
        pf: result.pfPciAddress,
        status: result.status,
        code: result.code,
        readyVfs: result.readyVfs,
      },
      'provisioning request answered',
    );
  }

  #result(
    id: string,
    node: string,
    pf: string,
    status: ProvisionResult['status'],
    readyVfs: number,
    code: AgentCode,
    message: string,
  ): ProvisionResult {
    return {
      id: id.slice(0, 64),
      node: node.slice(0, 253),
      pfPciAddress: pf.slice(0, 64),
      status,
      readyVfs,
      code,
      message: message.slice(0, 1024),
      finishedAtMs: this.ctx.clock.nowMs(),
    };
  }

  #readyVfs(pf: string): number {
    return this.ctx.view.pf(pf)?.vfs.filter((v) => v.configured).length ?? 0;
  }

  /** Works one valid request; never throws for expected conditions (answers `failed` instead). */
  async provision(req: ProvisionRequest): Promise<ProvisionResult> {
    const { ctx } = this;
    const res = (status: ProvisionResult['status'], code: AgentCode, message: string) =>
      this.#result(
        req.id,
        req.node,
        req.pfPciAddress,
        status,
        this.#readyVfs(req.pfPciAddress),
        code,
        message,
      );
    const snap = await ctx.view.refresh();
    if (!snap.ledgerOk)
      return res(
        'failed',
        'STORE_UNAVAILABLE',
        'the reservation ledger could not be read; nothing was written',
      );
    const d = snap.discovery.pfs.find((p) => p.pciAddress === req.pfPciAddress);
    let podReservedCount = 0;
    if (req.podUid !== undefined && req.reason === 'reservation') {
      try {
        const r = (await ctx.ledger.reservations([req.podUid])).get(req.podUid);
        if (r !== undefined && r.node === ctx.nodeName)
          podReservedCount = r.pfs
            .filter((p) => p.pfPciAddress === req.pfPciAddress)
            .reduce((s, p) => s + p.count, 0);
      } catch {
        return res('failed', 'STORE_UNAVAILABLE', 'the reservation could not be read; nothing was written');
      }
    }
    const pf: PlanPf | undefined =
      d === undefined
        ? undefined
        : {
            pciAddress: d.pciAddress,
            linkType: d.linkType,
            netdev: d.netdev,
            sriov: d.sriov === null ? null : { totalVfs: d.sriov.totalVfs, numVfs: d.sriov.numVfs },
            vfs: d.vfs.map((v) => ({
              index: v.index,
              pciAddress: v.pciAddress,
              configured: v.configured,
              inUse: snap.inUse.has(v.pciAddress),
            })),
          };
    const plan = planProvisioning({
      nodeName: ctx.nodeName,
      request: req,
      pf,
      maxVfs:
        d?.sriov === null || d === undefined
          ? 0
          : Math.min(d.sriov.totalVfs, ctx.limits.maxVfs(d.pciAddress)),
      claimOwner: snap.holds.claims.get(req.pfPciAddress),
      reservedCount: snap.holds.reserved.get(req.pfPciAddress) ?? 0,
      podReservedCount,
      eswitchMode:
        d === undefined || !isPciAddress(req.pfPciAddress)
          ? 'legacy'
          : await ctx.host.eswitchMode(d.pciAddress),
    });
    const releaseOwned = async (owner: string | undefined) => {
      if (owner === undefined) return;
      try {
        if (await ctx.ledger.releaseClaim(ctx.nodeName, req.pfPciAddress, owner))
          ctx.claimed.delete(req.pfPciAddress);
      } catch (err: unknown) {
        ctx.logger.warn(
          { pf: req.pfPciAddress, err: (err as Error).message },
          'could not release a claim; recovery will',
        );
      }
    };
    // A PF no policy governs is never written (its VFs are not configured either).
    // (Checked after the plan so that malformed or misaddressed requests keep their own codes; a
    // plan that needs no write, `ready`, is answered as it is.)
    const unmanaged =
      d !== undefined &&
      d.sriov !== null &&
      !ctx.limits.managed(d.pciAddress) &&
      (plan.kind === 'configure' ||
        plan.kind === 'resize' ||
        plan.kind === 'fail' ||
        (plan.kind === 'reject' && (plan.code === 'EXCEEDS_MAX_VFS' || plan.code === 'EXCEEDS_TOTALVFS')));
    if (unmanaged) {
      if (req.podUid !== undefined && snap.holds.claims.get(req.pfPciAddress) === req.podUid)
        await releaseOwned(req.podUid);
      return res(
        'rejected',
        'PF_NOT_MANAGED',
        ctx.limits.pf(req.pfPciAddress)?.note ?? `${req.pfPciAddress} is not managed by the agent`,
      );
    }
    switch (plan.kind) {
      case 'reject':
        // A rejected request's own claim is useless: give the PF back (a claim blocks reservations).
        if (req.podUid !== undefined && snap.holds.claims.get(req.pfPciAddress) === req.podUid)
          await releaseOwned(req.podUid);
        return res('rejected', plan.code, plan.message);
      case 'fail':
        await releaseOwned(plan.releaseClaimOf);
        return res('failed', plan.code, plan.message);
      case 'ready':
        await releaseOwned(plan.releaseClaimOf);
        return res('ready', 'OK', `${this.#readyVfs(req.pfPciAddress)} ready VFs on ${req.pfPciAddress}`);
      case 'configure': {
        const out = await this.resizer.configureAll(req.pfPciAddress);
        await releaseOwned(plan.releaseClaimOf);
        return this.#settle(req, out.ok ? undefined : out, res);
      }
      case 'resize': {
        const out = await this.resizer.resize({
          pf: req.pfPciAddress,
          owner: plan.owner,
          targetVfs: plan.targetVfs,
          requestId: req.id,
          minReadyVfs: req.minReadyVfs,
        });
        return this.#settle(req, out.ok ? undefined : out, res);
      }
    }
  }

  #settle(
    req: ProvisionRequest,
    failure: { code: AgentCode; message: string } | undefined,
    res: (status: ProvisionResult['status'], code: AgentCode, message: string) => ProvisionResult,
  ): ProvisionResult {
    const ready = this.#readyVfs(req.pfPciAddress);
    if (ready >= req.minReadyVfs) return res('ready', 'OK', `${ready} ready VFs on ${req.pfPciAddress}`);
    return failure === undefined
      ? res('failed', 'CONFIGURE_FAILED', `only ${ready} of ${req.minReadyVfs} VFs became ready`)
      : res('failed', failure.code, failure.message);
  }
}

/** The id of a malformed request, when it has a safe one, so the requester can match the answer. */
export function requestIdOf(raw: string | undefined): string {
  try {
    const v = JSON.parse(raw ?? '') as { id?: unknown };
    return typeof v.id === 'string' && /^[A-Za-z0-9-]{1,64}$/.test(v.id) ? v.id : 'invalid';
  } catch {
    return 'invalid';
  }
}

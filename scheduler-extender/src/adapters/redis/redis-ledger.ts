/**
 * The reservation ledger in Redis (`{ledger}` slot; key layout in contracts/src/redis-keys.ts,
 * scripts in ledger-scripts.ts). Every write is one Lua script; reads are plain commands in the
 * same slot, so the same code runs on a single Redis and on Redis Cluster.
 */
import {
  EVENTS_MAXLEN,
  parseReservation,
  type RedisKeys,
  type Reservation,
  type ReservedPf,
} from '@rdmasched/contracts';
import { mergePfs } from '../../core/reserve-rules.js';
import type {
  Ledger,
  ProvisionNeed,
  ReleaseOptions,
  ReserveOutcome,
  ReserveRejectCode,
  TenantQuota,
} from '../../ports/ledger.js';
import type { RedisClient } from './connect.js';
import { MARK_BOUND, PRUNE_GPUS, RELEASE, RESERVE } from './ledger-scripts.js';

const MGET_BATCH = 256;
/** Nodes per GPU-prune script call (two keys each). */
const PRUNE_BATCH = 128;
/** A record that keeps changing under a release is retried this often, then left to reconcile. */
const RELEASE_ATTEMPTS = 5;

export interface RedisLedgerOptions {
  readonly client: RedisClient;
  readonly keys: RedisKeys;
  /** Clock for the events' `atMs` (default Date.now). */
  readonly nowMs?: () => number;
}

type Reply = (string | number)[];

function needsFrom(reply: Reply, from: number): ProvisionNeed[] {
  const out: ProvisionNeed[] = [];
  for (let i = from; i + 1 < reply.length; i += 2)
    out.push({ pfPciAddress: String(reply[i]), minReadyVfs: Number(reply[i + 1]) });
  return out;
}

/** The record as the script stores it: pfs merged, fields in the contract's order. */
export function canonicalReservation(r: Reservation, state: Reservation['state'] = r.state): Reservation {
  return {
    podUid: r.podUid,
    namespace: r.namespace,
    podName: r.podName,
    tenant: r.tenant,
    node: r.node,
    pfs: mergePfs(r.pfs).map((p: ReservedPf) => ({
      pfPciAddress: p.pfPciAddress,
      linkType: p.linkType,
      count: p.count,
    })),
    gpus: [...r.gpus],
    state,
    createdAtMs: r.createdAtMs,
    expiresAtMs: r.expiresAtMs,
  };
}

export class RedisLedger implements Ledger {
  private readonly client: RedisClient;
  private readonly keys: RedisKeys;
  private readonly nowMs: () => number;

  constructor(opts: RedisLedgerOptions) {
    this.client = opts.client;
    this.keys = opts.keys;
    this.nowMs = opts.nowMs ?? Date.now;
  }

  private at(): string {
    return String(Math.max(0, Math.floor(this.nowMs())));
  }

  private parse(json: string): Reservation | undefined {
    return parseReservation(json);
  }

  async reserve(
    reservation: Reservation,
    quota: TenantQuota,
    opts: { readonly record?: boolean } = {},
  ): Promise<ReserveOutcome> {
    const record = opts.record === true;
    const r = canonicalReservation(reservation, record ? 'bound' : 'pending');
    const k = this.keys;
    const pfArgs = r.pfs.flatMap((p) => [p.pfPciAddress, p.linkType, p.count]);
    const reply = (await RESERVE.run(
      this.client,
      [
        k.reservation(r.podUid),
        k.reservationIndex(),
        k.nodeReserved(r.node),
        k.nodeCapacity(r.node),
        k.nodeResizing(r.node),
        k.nodeReservations(r.node),
        k.tenantUsage(r.tenant),
        k.ledgerEvents(),
        k.nodeGpus(r.node),
      ],
      [
        JSON.stringify(r),
        r.podUid,
        r.node,
        r.tenant,
        quota.ib ?? -1,
        quota.roce ?? -1,
        this.at(),
        String(Math.max(0, Math.floor(r.expiresAtMs))),
        EVENTS_MAXLEN,
        record ? 'record' : 'reserve',
        r.pfs.length,
        ...pfArgs,
      ],
    )) as Reply;
    const status = String(reply[0]);
    const text = (i: number) => String(reply[i] ?? '');
    switch (status) {
      case 'OK': {
        const nClaims = Number(reply[1]);
        const claims = reply.slice(2, 2 + nClaims).map(String);
        return { kind: 'reserved', reservation: r, claims, provision: needsFrom(reply, 2 + nClaims) };
      }
      case 'EXISTS':
      case 'ELSEWHERE': {
        const existing = this.parse(text(1));
        if (existing === undefined)
          return {
            kind: 'rejected',
            code: 'INVALID',
            message: `the ledger holds a malformed record for pod ${r.podUid}`,
          };
        return status === 'EXISTS'
          ? { kind: 'exists', reservation: existing, provision: needsFrom(reply, 2) }
          : { kind: 'elsewhere', reservation: existing };
      }
      case 'GPU_TAKEN':
        return {
          kind: 'rejected',
          code: 'GPU_TAKEN',
          message: rejectMessage(status, reply),
          gpu: { pciAddress: text(1), owner: text(2) },
        };
      default:
        return { kind: 'rejected', code: status as ReserveRejectCode, message: rejectMessage(status, reply) };
    }
  }

  async markBound(reservation: Reservation): Promise<boolean> {
    const pending = canonicalReservation(reservation, 'pending');
    const bound = canonicalReservation(reservation, 'bound');
    const k = this.keys;
    const r = await MARK_BOUND.run(
      this.client,
      [k.reservation(pending.podUid), k.reservationIndex(), k.ledgerEvents()],
      [
        JSON.stringify(pending),
        JSON.stringify(bound),
        pending.podUid,
        pending.node,
        this.at(),
        EVENTS_MAXLEN,
      ],
    );
    return r === 1 || r === 2;
  }

  async release(podUid: string, opts: ReleaseOptions = {}): Promise<Reservation | undefined> {
    const k = this.keys;
    for (let attempt = 0; attempt < RELEASE_ATTEMPTS; attempt++) {
      const raw = await this.client.get(k.reservation(podUid));
      if (raw === null) return undefined;
      const current = this.parse(raw);
      if (current === undefined) return undefined;
      if (opts.node !== undefined && current.node !== opts.node) return undefined;
      const reply = (await RELEASE.run(
        this.client,
        [
          k.reservation(podUid),
          k.reservationIndex(),
          k.nodeReserved(current.node),
          k.nodeReservations(current.node),
          k.tenantUsage(current.tenant),
          k.ledgerEvents(),
          k.nodeGpus(current.node),
        ],
        [
          podUid,
          current.node,
          current.tenant,
          this.at(),
          EVENTS_MAXLEN,
          opts.expiredAtMs === undefined ? '' : String(Math.floor(opts.expiredAtMs)),
        ],
      )) as Reply;
      const status = String(reply[0]);
      if (status === 'RELEASED') return current;
      if (status !== 'MISMATCH') return undefined;
    }
    return undefined;
  }

  async get(podUid: string): Promise<Reservation | undefined> {
    const raw = await this.client.get(this.keys.reservation(podUid));
    return raw === null ? undefined : this.parse(raw);
  }

  async list(): Promise<Reservation[]> {
    const uids = await this.client.zrange(this.keys.reservationIndex(), 0, -1);
    return this.records(uids);
  }

  /** The records of these pods (missing and malformed ones left out), in batches of MGETs. */
  async records(uids: readonly string[]): Promise<Reservation[]> {
    const out: Reservation[] = [];
    for (let i = 0; i < uids.length; i += MGET_BATCH) {
      const batch = uids.slice(i, i + MGET_BATCH);
      const values = await this.client.mget(...batch.map((u) => this.keys.reservation(u)));
      values.forEach((v, j) => {
        const r = v === null ? undefined : this.parse(v);
        if (r !== undefined && r.podUid === batch[j]) out.push(r);
      });
    }
    return out;
  }

  async expiredPending(nowMs: number, limit: number): Promise<string[]> {
    return this.client.zrangebyscore(
      this.keys.reservationIndex(),
      '-inf',
      Math.floor(nowMs),
      'LIMIT',
      0,
      limit,
    );
  }

  async claims(node: string): Promise<ReadonlyMap<string, string>> {
    return new Map(Object.entries(await this.client.hgetall(this.keys.nodeResizing(node))));
  }

  async gpuPromises(node: string): Promise<ReadonlyMap<string, string>> {
    return new Map(Object.entries(await this.client.hgetall(this.keys.nodeGpus(node))));
  }

  async pruneGpuPromises(nodes: readonly string[]): Promise<number> {
    let removed = 0;
    for (let i = 0; i < nodes.length; i += PRUNE_BATCH) {
      const keys = nodes
        .slice(i, i + PRUNE_BATCH)
        .flatMap((n) => [this.keys.nodeGpus(n), this.keys.nodeReservations(n)]);
      removed += Number(await PRUNE_GPUS.run(this.client, keys, []));
    }
    return removed;
  }
}

function rejectMessage(status: string, r: Reply): string {
  const s = (i: number) => String(r[i] ?? '');
  switch (status) {
    case 'QUOTA':
      return `tenant quota for ${s(1)} VFs exceeded: ${s(2)} in use + ${s(3)} requested > quota ${s(4)}`;
    case 'NO_SUMMARY':
      return `node agent published no capacity for PF ${s(1)}`;
    case 'LINK_TYPE':
      return `PF ${s(1)} is ${s(2)}, not the requested link type`;
    case 'CLAIMED':
      return `PF ${s(1)} has a resize claim (${s(2)})`;
    case 'RESIZING':
      return `PF ${s(1)} is being resized`;
    case 'PORT_DOWN':
      return `PF ${s(1)} port is not ACTIVE`;
    case 'GPU_TAKEN':
      return `GPU ${s(1)} is promised to pod ${s(2)}`;
    case 'CAPACITY':
      return s(2) === '0'
        ? `PF ${s(1)} can hold at most ${s(4)} VFs; ${s(5)} requested`
        : `PF ${s(1)} has ${s(2)} VFs held, ${s(3)} ready and ${s(4)} at most without a resize; ${s(5)} more do not fit`;
    default:
      return `the ledger refused the reservation (${status}${r.length > 1 ? `: ${s(1)}` : ''})`;
  }
}

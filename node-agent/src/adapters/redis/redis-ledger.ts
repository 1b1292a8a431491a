/**
 * The agent's side of the reservation ledger in Redis (`{ledger}` slot, docs/adr/0003). Claims are
 * taken and released by Lua scripts, atomically with the reservation counts they depend on and
 * with the `claimed` / `claim-released` LedgerEvent they append to `RedisKeys.ledgerEvents`
 * (`XADD ... MAXLEN ~ EVENTS_MAXLEN`), so a mirror following the stream never disagrees with the
 * resizing hash.
 */
import {
  EVENTS_MAXLEN,
  LuaScript,
  parseReservation,
  type RedisKeys,
  type Reservation,
} from '@rdmasched/contracts';
import {
  AGENT_CLAIM_OWNER,
  type AgentLedger,
  type ClaimOutcome,
  type NodeHolds,
} from '../../ports/ledger.js';
import type { RedisClient } from './connection.js';

/**
 * The JSON of a claim event, built in Lua: strings through cjson.encode, `atMs` as the digits the
 * client passed (cjson would print a 13-digit number in exponent form).
 */
const CLAIM_EVENT_JSON = `
local function claimEvent(kind, node, pf, owner, atMs)
  return '{"type":"' .. kind .. '","node":' .. cjson.encode(node) .. ',"pf":' .. cjson.encode(pf) ..
    ',"owner":' .. cjson.encode(owner) .. ',"atMs":' .. atMs .. '}'
end
`;

/**
 * KEYS: 1 resizing hash, 2 reserved hash, 3 the owner's reservation record (any {ledger} key for
 * `agent`), 4 the ledger event stream
 * ARGV: 1 pf, 2 owner, 3 node, 4 the agent's owner name, 5 unix ms (digits), 6 stream MAXLEN
 * -> {1,'OK'} | {0, reason, detail}
 */
export const TAKE_CLAIM = new LuaScript(
  'take-claim',
  `${CLAIM_EVENT_JSON}
local cur = redis.call('HGET', KEYS[1], ARGV[1])
if cur and cur ~= ARGV[2] then return {0, 'CLAIMED', 'resize claim held by ' .. cur} end
local own = 0
if ARGV[2] ~= ARGV[4] then
  local rec = redis.call('GET', KEYS[3])
  if not rec then return {0, 'NO_RESERVATION', 'pod ' .. ARGV[2] .. ' has no reservation'} end
  local ok, r = pcall(cjson.decode, rec)
  if not ok or type(r) ~= 'table' or r.node ~= ARGV[3] or type(r.pfs) ~= 'table' then
    return {0, 'NO_RESERVATION', 'pod ' .. ARGV[2] .. ' has no reservation on this node'}
  end
  for _, p in ipairs(r.pfs) do
    if type(p) == 'table' and p.pfPciAddress == ARGV[1] then own = own + (tonumber(p.count) or 0) end
  end
  if own <= 0 then return {0, 'NO_RESERVATION', 'pod ' .. ARGV[2] .. ' has no reservation on ' .. ARGV[1]} end
end
local reserved = tonumber(redis.call('HGET', KEYS[2], ARGV[1]) or '0') or 0
if reserved > own then return {0, 'HELD', reserved .. ' VFs reserved on ' .. ARGV[1]} end
if cur ~= ARGV[2] then
  redis.call('HSET', KEYS[1], ARGV[1], ARGV[2])
  redis.call('XADD', KEYS[4], 'MAXLEN', '~', ARGV[6], '*', 'event',
    claimEvent('claimed', ARGV[3], ARGV[1], ARGV[2], ARGV[5]))
end
return {1, 'OK', ''}
`,
);

/**
 * KEYS: 1 resizing hash, 2 the ledger event stream.
 * ARGV: 1 pf, 2 owner, 3 node, 4 unix ms (digits), 5 stream MAXLEN -> 1 removed | 0 not the owner's
 */
export const RELEASE_CLAIM = new LuaScript(
  'release-claim',
  `${CLAIM_EVENT_JSON}
if redis.call('HGET', KEYS[1], ARGV[1]) == ARGV[2] then
  redis.call('HDEL', KEYS[1], ARGV[1])
  redis.call('XADD', KEYS[2], 'MAXLEN', '~', ARGV[5], '*', 'event',
    claimEvent('claim-released', ARGV[3], ARGV[1], ARGV[2], ARGV[4]))
  return 1
end
return 0
`,
);

function toMap(h: Record<string, string>, parse: (v: string) => number): Map<string, number> {
  const m = new Map<string, number>();
  for (const [k, v] of Object.entries(h)) {
    const n = parse(v);
    if (Number.isFinite(n) && n > 0) m.set(k, n);
  }
  return m;
}

/** MGET batch size: bounds one command's reply. */
const MGET_BATCH = 256;

export interface RedisLedgerOptions {
  /** Clock for the events' `atMs` (default Date.now). */
  readonly nowMs?: () => number;
}

export class RedisLedger implements AgentLedger {
  readonly #nowMs: () => number;

  constructor(
    private readonly client: RedisClient,
    private readonly keys: RedisKeys,
    opts: RedisLedgerOptions = {},
  ) {
    this.#nowMs = opts.nowMs ?? Date.now;
  }

  #atMs(): string {
    return String(Math.max(0, Math.floor(this.#nowMs())));
  }

  async holds(node: string): Promise<NodeHolds> {
    const [reserved, claims] = await Promise.all([
      this.client.hgetall(this.keys.nodeReserved(node)),
      this.client.hgetall(this.keys.nodeResizing(node)),
    ]);
    return { reserved: toMap(reserved, Number), claims: new Map(Object.entries(claims)) };
  }

  async reservations(podUids: readonly string[]): Promise<ReadonlyMap<string, Reservation>> {
    const out = new Map<string, Reservation>();
    for (let i = 0; i < podUids.length; i += MGET_BATCH) {
      const batch = podUids.slice(i, i + MGET_BATCH);
      const values = await this.client.mget(...batch.map((u) => this.keys.reservation(u)));
      batch.forEach((u, j) => {
        const v = values[j];
        const r = v === null || v === undefined ? undefined : parseReservation(v);
        if (r !== undefined && r.podUid === u) out.set(u, r);
      });
    }
    return out;
  }

  async reservationsOfNode(node: string): Promise<readonly Reservation[]> {
    const uids = await this.client.smembers(this.keys.nodeReservations(node));
    const records = await this.reservations(uids.sort());
    return [...records.values()].filter((r) => r.node === node);
  }

  async takeClaim(node: string, pf: string, owner: string): Promise<ClaimOutcome> {
    const r = (await TAKE_CLAIM.run(
      this.client,
      [
        this.keys.nodeResizing(node),
        this.keys.nodeReserved(node),
        this.keys.reservation(owner),
        this.keys.ledgerEvents(),
      ],
      [pf, owner, node, AGENT_CLAIM_OWNER, this.#atMs(), EVENTS_MAXLEN],
    )) as [number, string, string];
    if (r[0] === 1) return { ok: true };
    const reason = r[1] === 'CLAIMED' || r[1] === 'HELD' ? r[1] : 'NO_RESERVATION';
    return { ok: false, reason, detail: r[2] };
  }

  async releaseClaim(node: string, pf: string, owner: string): Promise<boolean> {
    return (
      (await RELEASE_CLAIM.run(
        this.client,
        [this.keys.nodeResizing(node), this.keys.ledgerEvents()],
        [pf, owner, node, this.#atMs(), EVENTS_MAXLEN],
      )) === 1
    );
  }
}

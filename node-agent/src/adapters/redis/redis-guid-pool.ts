/**
 * The cluster-wide GUID pool in Redis (`{guids}` slot). Allocation, release and adoption are Lua
 * scripts: a GUID is recorded in `owners` with HSETNX, so two owners can never hold it at once,
 * whatever the number of agents racing.
 */
import { LuaScript, type RedisKeys } from '@rdmasched/contracts';
import { guidLimbs, identityOwner, type GuidRange } from '../../core/identity.js';
import type { AllocateOutcome, GuidPool } from '../../ports/guid-pool.js';
import type { RedisClient } from './connection.js';

/**
 * KEYS: 1 owners, 2 next, 3 free, 4 nodeGuids
 * ARGV: 1 owner, 2 vf, 3..6 range start as 16-bit limbs (most significant first), 7 range size
 * -> GUID | 'EXHAUSTED'
 */
export const ALLOCATE_GUID = new LuaScript(
  'allocate-guid',
  `
local existing = redis.call('HGET', KEYS[4], ARGV[2])
if existing and redis.call('HGET', KEYS[1], existing) == ARGV[1] then return existing end
local function at(off)
  local l = {tonumber(ARGV[3]), tonumber(ARGV[4]), tonumber(ARGV[5]), tonumber(ARGV[6])}
  local carry = off
  for i = 4, 1, -1 do
    local s = l[i] + (carry % 65536)
    carry = math.floor(carry / 65536)
    if s >= 65536 then s = s - 65536; carry = carry + 1 end
    l[i] = s
  end
  return string.format('%02x:%02x:%02x:%02x:%02x:%02x:%02x:%02x',
    math.floor(l[1] / 256), l[1] % 256, math.floor(l[2] / 256), l[2] % 256,
    math.floor(l[3] / 256), l[3] % 256, math.floor(l[4] / 256), l[4] % 256)
end
for attempt = 1, 1000 do
  local guid = redis.call('SPOP', KEYS[3])
  if not guid then
    local off = redis.call('INCR', KEYS[2]) - 1
    if off >= tonumber(ARGV[7]) then
      redis.call('DECR', KEYS[2])
      return 'EXHAUSTED'
    end
    guid = at(off)
  end
  if redis.call('HSETNX', KEYS[1], guid, ARGV[1]) == 1 then
    redis.call('HSET', KEYS[4], ARGV[2], guid)
    return guid
  end
end
return 'EXHAUSTED'
`,
);

/** KEYS: 1 owners, 2 free, 3 nodeGuids. ARGV: 1 owner, 2 vf -> released GUID | false */
export const RELEASE_GUID = new LuaScript(
  'release-guid',
  `
local g = redis.call('HGET', KEYS[3], ARGV[2])
if not g then return false end
redis.call('HDEL', KEYS[3], ARGV[2])
if redis.call('HGET', KEYS[1], g) == ARGV[1] then
  redis.call('HDEL', KEYS[1], g)
  redis.call('SADD', KEYS[2], g)
end
return g
`,
);

/** KEYS: 1 owners, 2 free, 3 nodeGuids. ARGV: 1 owner, 2 vf, 3 guid -> 'adopted' | 'already' | 'conflict' */
export const ADOPT_GUID = new LuaScript(
  'adopt-guid',
  `
local cur = redis.call('HGET', KEYS[3], ARGV[2])
local o = redis.call('HGET', KEYS[1], ARGV[3])
if cur == ARGV[3] and o == ARGV[1] then return 'already' end
if (cur and cur ~= ARGV[3]) or (o and o ~= ARGV[1]) then return 'conflict' end
redis.call('HSET', KEYS[1], ARGV[3], ARGV[1])
redis.call('HSET', KEYS[3], ARGV[2], ARGV[3])
redis.call('SREM', KEYS[2], ARGV[3])
return 'adopted'
`,
);

export class RedisGuidPool implements GuidPool {
  readonly #limbs: [number, number, number, number];

  constructor(
    private readonly client: RedisClient,
    private readonly keys: RedisKeys,
    private readonly range: GuidRange,
  ) {
    this.#limbs = guidLimbs(range.start);
  }

  async allocate(node: string, vf: string): Promise<AllocateOutcome> {
    const r = await ALLOCATE_GUID.run(
      this.client,
      [this.keys.guidOwners(), this.keys.guidNext(), this.keys.guidFree(), this.keys.nodeGuids(node)],
      [identityOwner(node, vf), vf, ...this.#limbs, this.range.size.toString()],
    );
    return r === 'EXHAUSTED' || typeof r !== 'string'
      ? { ok: false, reason: 'EXHAUSTED' }
      : { ok: true, guid: r };
  }

  async release(node: string, vf: string): Promise<string | undefined> {
    const r = await RELEASE_GUID.run(
      this.client,
      [this.keys.guidOwners(), this.keys.guidFree(), this.keys.nodeGuids(node)],
      [identityOwner(node, vf), vf],
    );
    return typeof r === 'string' ? r : undefined;
  }

  async ofNode(node: string): Promise<ReadonlyMap<string, string>> {
    return new Map(Object.entries(await this.client.hgetall(this.keys.nodeGuids(node))));
  }

  async adopt(node: string, vf: string, guid: string): Promise<'adopted' | 'already' | 'conflict'> {
    const r = await ADOPT_GUID.run(
      this.client,
      [this.keys.guidOwners(), this.keys.guidFree(), this.keys.nodeGuids(node)],
      [identityOwner(node, vf), vf, guid],
    );
    return r === 'adopted' || r === 'already' ? r : 'conflict';
  }
}

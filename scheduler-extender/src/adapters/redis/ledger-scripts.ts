/**
 * The ledger's Lua scripts (docs/adr/0003 and its amendment, 0016). Each runs atomically in the
 * `{ledger}` slot, touches only the keys it is given, and appends the `LedgerEvent` of its change
 * to `RedisKeys.ledgerEvents` in the same step. The rules of RESERVE are the ones of
 * `core/reserve-rules.ts` (`checkReservation`); the ledger contract tests run the same cases
 * against both.
 *
 * Event JSON is built by concatenation: strings through cjson.encode, numbers from the digits the
 * client passed or with %d (cjson prints large numbers in exponent form), empty arrays as `[]`
 * (cjson encodes an empty table as `{}`).
 */
import { LuaScript } from '@rdmasched/contracts';

const HELPERS = `
local function js(v) return cjson.encode(v) end
local function num(v) return tonumber(v) or 0 end
local function pfsJson(list)
  local parts = {}
  for i, p in ipairs(list) do
    parts[i] = '{"pfPciAddress":' .. js(p.pf) .. ',"linkType":' .. js(p.lt) .. ',"count":' ..
      string.format('%d', p.n) .. '}'
  end
  return '[' .. table.concat(parts, ',') .. ']'
end
local function strList(list)
  local parts = {}
  for i, v in ipairs(list) do parts[i] = js(v) end
  return '[' .. table.concat(parts, ',') .. ']'
end
`;

/**
 * KEYS: 1 record, 2 reservation index, 3 node reserved, 4 node capacity, 5 node resizing,
 *       6 node reservations set, 7 tenant usage, 8 ledger events, 9 node GPUs (GPU -> pod UID)
 * ARGV: 1 record JSON, 2 pod UID, 3 node, 4 tenant ('' = none), 5 quota ib, 6 quota roce
 *       (-1 = not limited), 7 now ms (digits), 8 expiresAtMs (digits), 9 events MAXLEN,
 *       10 mode (`reserve` | `record`), 11 n, then n x (pf, link type, count)
 * ->  {'OK', nClaims, claim..., (pf, minReadyVfs)...}
 *   | {'EXISTS', record JSON, (pf, minReadyVfs)...} | {'ELSEWHERE', record JSON}
 *   | {'QUOTA', linkType, used, wanted, quota} | {'NO_SUMMARY', pf} | {'LINK_TYPE', pf, actual}
 *   | {'CLAIMED', pf, owner} | {'RESIZING', pf} | {'PORT_DOWN', pf}
 *   | {'CAPACITY', pf, held, ready, cap, n} | {'GPU_TAKEN', gpu, owner} | {'INVALID', detail}
 *
 * GPUs (the record's `gpus`, docs/adr/0073): after the PF checks, a GPU whose entry in KEYS[9]
 * names another pod that still holds a reservation on the node (in KEYS[6]) refuses the
 * reservation; the pod's own entry and a stale one (its pod holds none) do not. The entries are
 * written with the record. Record mode checks nothing and overwrites no live owner's entry.
 */
export const RESERVE = new LuaScript(
  'ledger-reserve',
  `${HELPERS}
local function capOf(pf)
  local raw = redis.call('HGET', KEYS[4], pf)
  if not raw then return nil end
  local ok, c = pcall(cjson.decode, raw)
  if not ok or type(c) ~= 'table' then return nil end
  return c
end
local function heldOn(pf, c)
  return num(redis.call('HGET', KEYS[3], pf)) + num(c.foreignInUse)
end

local existing = redis.call('GET', KEYS[1])
if existing then
  local ok, r = pcall(cjson.decode, existing)
  if ok and type(r) == 'table' and r.node == ARGV[3] then
    local out = {'EXISTS', existing}
    if type(r.pfs) == 'table' then
      local seen = {}
      for _, p in ipairs(r.pfs) do
        if type(p) == 'table' and type(p.pfPciAddress) == 'string' and not seen[p.pfPciAddress] then
          seen[p.pfPciAddress] = true
          local c = capOf(p.pfPciAddress)
          if c then
            local held = heldOn(p.pfPciAddress, c)
            if num(c.configured) < held then
              table.insert(out, p.pfPciAddress)
              table.insert(out, held)
            end
          end
        end
      end
    end
    return out
  end
  return {'ELSEWHERE', existing}
end

local n = tonumber(ARGV[11]) or 0
local list = {}
local byPf = {}
local want = {ib = 0, roce = 0}
for i = 0, n - 1 do
  local pf, lt, c = ARGV[12 + 3 * i], ARGV[13 + 3 * i], tonumber(ARGV[14 + 3 * i])
  if (lt ~= 'ib' and lt ~= 'roce') or not c or c < 1 or c ~= math.floor(c) then
    return {'INVALID', 'PF entry ' .. (i + 1) .. ' is malformed'}
  end
  local e = byPf[pf]
  if e then
    if e.lt ~= lt then return {'INVALID', 'PF ' .. pf .. ' listed with two link types'} end
    e.n = e.n + c
  else
    e = {pf = pf, lt = lt, n = c}
    byPf[pf] = e
    table.insert(list, e)
  end
  want[lt] = want[lt] + c
end
if #list == 0 then return {'INVALID', 'no PF'} end

local record = ARGV[10] == 'record'
local gpus = {}
local okRec, rec = pcall(cjson.decode, ARGV[1])
if okRec and type(rec) == 'table' and type(rec.gpus) == 'table' then
  for _, g in ipairs(rec.gpus) do if type(g) == 'string' then table.insert(gpus, g) end end
end
-- The live pod other than this one that holds the GPU's promise, or nil.
local function gpuOwner(g)
  local owner = redis.call('HGET', KEYS[9], g)
  if owner and owner ~= ARGV[2] and redis.call('SISMEMBER', KEYS[6], owner) == 1 then return owner end
  return nil
end
local claims = {}
local needs = {}
if not record then
  for _, lt in ipairs({'ib', 'roce'}) do
    local q = tonumber(ARGV[lt == 'ib' and 5 or 6]) or -1
    if q >= 0 and want[lt] > 0 then
      local used = 0
      if ARGV[4] ~= '' then used = num(redis.call('HGET', KEYS[7], lt)) end
      if used + want[lt] > q then return {'QUOTA', lt, used, want[lt], q} end
    end
  end
  for _, p in ipairs(list) do
    local c = capOf(p.pf)
    if not c then return {'NO_SUMMARY', p.pf} end
    if c.linkType ~= p.lt then return {'LINK_TYPE', p.pf, tostring(c.linkType)} end
    local owner = redis.call('HGET', KEYS[5], p.pf)
    if owner then return {'CLAIMED', p.pf, owner} end
    if c.resizing == true then return {'RESIZING', p.pf} end
    if c.portActive ~= true then return {'PORT_DOWN', p.pf} end
    local held = heldOn(p.pf, c)
    local ready, numVfs, maxVfs = num(c.configured), num(c.numVfs), num(c.maxVfs)
    if held + p.n <= ready then
      -- ready now: no provisioning
    elseif held > 0 then
      local cap = math.min(numVfs, maxVfs)
      if held + p.n > cap then return {'CAPACITY', p.pf, held, ready, cap, p.n} end
      table.insert(needs, p.pf)
      table.insert(needs, held + p.n)
    elseif p.n <= maxVfs then
      table.insert(claims, p.pf)
      table.insert(needs, p.pf)
      table.insert(needs, p.n)
    else
      return {'CAPACITY', p.pf, 0, ready, math.max(maxVfs, ready), p.n}
    end
  end
  for _, g in ipairs(gpus) do
    local owner = gpuOwner(g)
    if owner then return {'GPU_TAKEN', g, owner} end
  end
end

redis.call('SET', KEYS[1], ARGV[1])
if record then
  redis.call('ZADD', KEYS[2], '+inf', ARGV[2])
else
  redis.call('ZADD', KEYS[2], ARGV[8], ARGV[2])
end
for _, p in ipairs(list) do redis.call('HINCRBY', KEYS[3], p.pf, p.n) end
redis.call('SADD', KEYS[6], ARGV[2])
if ARGV[4] ~= '' then
  for _, lt in ipairs({'ib', 'roce'}) do
    if want[lt] > 0 then redis.call('HINCRBY', KEYS[7], lt, want[lt]) end
  end
end
for _, pf in ipairs(claims) do redis.call('HSET', KEYS[5], pf, ARGV[2]) end
for _, g in ipairs(gpus) do
  if not gpuOwner(g) then redis.call('HSET', KEYS[9], g, ARGV[2]) end
end
redis.call('XADD', KEYS[8], 'MAXLEN', '~', ARGV[9], '*', 'event',
  '{"type":"reserved","podUid":' .. js(ARGV[2]) .. ',"node":' .. js(ARGV[3]) .. ',"tenant":' ..
  js(ARGV[4]) .. ',"pfs":' .. pfsJson(list) .. ',"claims":' .. strList(claims) .. ',"gpus":' ..
  strList(gpus) .. ',"atMs":' .. ARGV[7] .. '}')
if record then
  redis.call('XADD', KEYS[8], 'MAXLEN', '~', ARGV[9], '*', 'event',
    '{"type":"bound","podUid":' .. js(ARGV[2]) .. ',"node":' .. js(ARGV[3]) .. ',"atMs":' .. ARGV[7] .. '}')
end
local out = {'OK', #claims}
for _, c in ipairs(claims) do table.insert(out, c) end
for _, v in ipairs(needs) do table.insert(out, v) end
return out
`,
);

/**
 * KEYS: 1 record, 2 reservation index, 3 ledger events
 * ARGV: 1 pending record JSON, 2 bound record JSON, 3 pod UID, 4 node, 5 now ms, 6 MAXLEN
 * -> 1 bound now | 2 already bound | 0 the record is not this reservation (released or replaced)
 */
export const MARK_BOUND = new LuaScript(
  'ledger-mark-bound',
  `${HELPERS}
local cur = redis.call('GET', KEYS[1])
if cur == ARGV[2] then return 2 end
if cur ~= ARGV[1] then return 0 end
redis.call('SET', KEYS[1], ARGV[2])
redis.call('ZADD', KEYS[2], '+inf', ARGV[3])
redis.call('XADD', KEYS[3], 'MAXLEN', '~', ARGV[6], '*', 'event',
  '{"type":"bound","podUid":' .. js(ARGV[3]) .. ',"node":' .. js(ARGV[4]) .. ',"atMs":' .. ARGV[5] .. '}')
return 1
`,
);

/**
 * KEYS: 1 record, 2 reservation index, 3 node reserved, 4 node reservations set, 5 tenant usage,
 *       6 ledger events, 7 node GPUs (entries the pod owns are removed)
 * ARGV: 1 pod UID, 2 the record's node, 3 the record's tenant, 4 now ms, 5 MAXLEN,
 *       6 expiry time (digits; '' = release whatever the state)
 * -> {'RELEASED', record} | {'NONE'} | {'MISMATCH', record} (node/tenant differ from the keys
 *    given: the caller read an older record and retries) | {'KEPT', record} (not expired)
 *    | {'MALFORMED', record}
 */
export const RELEASE = new LuaScript(
  'ledger-release',
  `${HELPERS}
local raw = redis.call('GET', KEYS[1])
if not raw then return {'NONE'} end
local ok, r = pcall(cjson.decode, raw)
if not ok or type(r) ~= 'table' or type(r.pfs) ~= 'table' then return {'MALFORMED', raw} end
if r.node ~= ARGV[2] or r.tenant ~= ARGV[3] then return {'MISMATCH', raw} end
if ARGV[6] ~= '' then
  if r.state ~= 'pending' or num(r.expiresAtMs) > num(ARGV[6]) then return {'KEPT', raw} end
end
redis.call('DEL', KEYS[1])
redis.call('ZREM', KEYS[2], ARGV[1])
redis.call('SREM', KEYS[4], ARGV[1])
if type(r.gpus) == 'table' then
  for _, g in ipairs(r.gpus) do
    if type(g) == 'string' and redis.call('HGET', KEYS[7], g) == ARGV[1] then redis.call('HDEL', KEYS[7], g) end
  end
end
local list = {}
for _, p in ipairs(r.pfs) do
  if type(p) == 'table' and type(p.pfPciAddress) == 'string' then
    local n = num(p.count)
    local left = redis.call('HINCRBY', KEYS[3], p.pfPciAddress, -n)
    if left <= 0 then redis.call('HDEL', KEYS[3], p.pfPciAddress) end
    if ARGV[3] ~= '' and (p.linkType == 'ib' or p.linkType == 'roce') then
      local u = redis.call('HINCRBY', KEYS[5], p.linkType, -n)
      if u <= 0 then redis.call('HDEL', KEYS[5], p.linkType) end
    end
    table.insert(list, {pf = p.pfPciAddress, lt = tostring(p.linkType), n = n})
  end
end
redis.call('XADD', KEYS[6], 'MAXLEN', '~', ARGV[5], '*', 'event',
  '{"type":"released","podUid":' .. js(ARGV[1]) .. ',"node":' .. js(ARGV[2]) .. ',"tenant":' ..
  js(ARGV[3]) .. ',"pfs":' .. pfsJson(list) .. ',"atMs":' .. ARGV[4] .. '}')
return {'RELEASED', raw}
`,
);

/**
 * Reconcile's sweep of GPU promises left behind (docs/adr/0073): entries whose pod holds no
 * reservation on the node (a release by an older extender, a record the script could not read).
 * KEYS: pairs of (node GPUs, node reservations set), one per node
 * -> the number of entries removed
 */
export const PRUNE_GPUS = new LuaScript(
  'ledger-prune-gpus',
  `
local removed = 0
for i = 1, #KEYS - 1, 2 do
  local h = redis.call('HGETALL', KEYS[i])
  for j = 1, #h - 1, 2 do
    if redis.call('SISMEMBER', KEYS[i + 1], h[j + 1]) == 0 then
      redis.call('HDEL', KEYS[i], h[j])
      removed = removed + 1
    end
  end
end
return removed
`,
);

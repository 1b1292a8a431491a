/**
 * LeaderLock on one Redis key (`RedisKeys.extenderLeader`, docs/adr/0019): SET NX PX to take it,
 * a script that checks the holder's token to extend or release it. A holder that stops renewing
 * (crashed, partitioned) loses it after the lease; another replica takes it on its next try.
 */
import { randomUUID } from 'node:crypto';
import { LuaScript, type RedisKeys } from '@rdmasched/contracts';
import type { LeaderLock } from '../../ports/leader-lock.js';
import type { RedisClient } from './connect.js';

/** KEYS: 1 lock; ARGV: 1 token, 2 lease ms -> 1 held by the token now | 0 held by another. */
const ACQUIRE = new LuaScript(
  'leader-acquire',
  `
local cur = redis.call('GET', KEYS[1])
if cur == false then
  redis.call('SET', KEYS[1], ARGV[1], 'PX', ARGV[2])
  return 1
end
if cur == ARGV[1] then
  redis.call('PEXPIRE', KEYS[1], ARGV[2])
  return 1
end
return 0
`,
);

/** KEYS: 1 lock; ARGV: 1 token -> 1 released | 0 not the holder. */
const RELEASE = new LuaScript(
  'leader-release',
  `
if redis.call('GET', KEYS[1]) == ARGV[1] then
  redis.call('DEL', KEYS[1])
  return 1
end
return 0
`,
);

export class RedisLeaderLock implements LeaderLock {
  /** This holder's token (unique per process start). */
  readonly token: string;

  constructor(
    private readonly client: RedisClient,
    private readonly keys: RedisKeys,
    identity = 'extender',
  ) {
    this.token = `${identity}/${randomUUID()}`;
  }

  async acquire(leaseMs: number): Promise<boolean> {
    const r = await ACQUIRE.run(
      this.client,
      [this.keys.extenderLeader()],
      [this.token, Math.max(1, Math.floor(leaseMs))],
    );
    return r === 1;
  }

  async release(): Promise<void> {
    await RELEASE.run(this.client, [this.keys.extenderLeader()], [this.token]);
  }
}

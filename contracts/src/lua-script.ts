import { createHash } from 'node:crypto';

/** What a Lua script needs of a Redis client (ioredis `Redis` and `Cluster` both have it). */
export interface LuaClient {
  evalsha(sha1: string, numkeys: number, ...args: (string | number)[]): Promise<unknown>;
  eval(script: string, numkeys: number, ...args: (string | number)[]): Promise<unknown>;
}

/**
 * A Lua script run with EVALSHA, falling back to EVAL on NOSCRIPT (a restarted or failed-over
 * Redis has an empty script cache). Every key a script touches is passed in KEYS and shares one
 * hash tag, so it runs on a single Redis, Sentinel and Redis Cluster alike. Shared by the
 * extender's and the agent's Redis adapters.
 */
export class LuaScript {
  readonly sha: string;
  constructor(
    readonly name: string,
    readonly source: string,
  ) {
    this.sha = createHash('sha1').update(source).digest('hex');
  }

  async run(
    client: LuaClient,
    keys: readonly string[],
    args: readonly (string | number)[],
  ): Promise<unknown> {
    try {
      return await client.evalsha(this.sha, keys.length, ...keys, ...args);
    } catch (err: unknown) {
      if (!(err instanceof Error) || !err.message.includes('NOSCRIPT')) throw err;
      return client.eval(this.source, keys.length, ...keys, ...args);
    }
  }
}

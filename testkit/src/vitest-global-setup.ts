// Vitest global setup: make sure a Redis answers for the integration tests.
// If REDIS_URL is set and answers, it is used as is; otherwise a throw-away redis-server is
// started on a free loopback port (installed with apt-get if missing) and stopped afterwards.
// Workers are forked after this runs, so they inherit REDIS_URL.
import { redisAnswers, startRedisServer, type RedisServerHandle } from './redis-server.js';

let started: RedisServerHandle | undefined;

export async function setup(): Promise<void> {
  const configured = process.env['REDIS_URL'];
  if (configured !== undefined && configured !== '' && (await redisAnswers(configured))) return;
  started = await startRedisServer({ log: (line) => process.stderr.write(`[test setup] ${line}\n`) });
  process.env['REDIS_URL'] = started.url;
  process.stderr.write(`[test setup] started redis-server for the tests at ${started.url}\n`);
}

export async function teardown(): Promise<void> {
  await started?.stop();
}

import { describe, expect, it } from 'vitest';
import { ConfigError, parseConfig, SETTINGS, usage } from './config.js';

function problems(argv: string[], env: Record<string, string> = {}): string[] {
  try {
    parseConfig(argv, env);
  } catch (err: unknown) {
    if (err instanceof ConfigError) return [...err.problems];
    throw err;
  }
  return [];
}

describe('parseConfig', () => {
  it('has sensible defaults: 0.0.0.0:8080, pack, stale after 3 heartbeats, local Redis', () => {
    const c = parseConfig([], {});
    expect(c).toMatchObject({
      listenHost: '0.0.0.0',
      listenPort: 8080,
      urlPrefix: '',
      bodyLimitBytes: 16 * 1024 * 1024,
      packing: 'pack',
      staleAfterHeartbeats: 3,
      logLevel: 'info',
      redis: { url: 'redis://127.0.0.1:6379', clusterNodes: [], tls: false, keyPrefix: 'rdmasched' },
    });
    expect(Object.isFrozen(c)).toBe(true);
    expect(Object.isFrozen(c.redis)).toBe(true);
  });

  it('a flag wins over its environment variable, which wins over the default', () => {
    const env = { RDMASCHED_LISTEN_PORT: '9000', RDMASCHED_PACKING: 'spread' };
    expect(parseConfig([], env)).toMatchObject({ listenPort: 9000, packing: 'spread' });
    expect(parseConfig(['--listen-port', '9100'], env)).toMatchObject({
      listenPort: 9100,
      packing: 'spread',
    });
  });

  it('reads Redis Cluster seeds, TLS from rediss://, and the password only from the environment', () => {
    const c = parseConfig(
      ['--redis-cluster-nodes', 'r1:7000, r2:7001,[::1]:7002', '--redis-url', 'rediss://redis:6380'],
      {
        RDMASCHED_REDIS_PASSWORD: 'hunter2',
      },
    );
    expect(c.redis.clusterNodes).toEqual([
      { host: 'r1', port: 7000 },
      { host: 'r2', port: 7001 },
      { host: '::1', port: 7002 },
    ]);
    expect(c.redis.tls).toBe(true);
    expect(c.redis.password).toBe('hunter2');
    expect(problems(['--redis-password', 'x'])).toEqual([expect.stringMatching(/redis-password/) as unknown]);
  });

  it('lists every bad setting in one error, without echoing secrets', () => {
    const found = problems(['--listen-port', '70000', '--packing', 'dense', '--bogus'], {
      RDMASCHED_STALE_AFTER_HEARTBEATS: '0',
      RDMASCHED_LOG_LEVEL: 'loud',
      RDMASCHED_REDIS_URL: 'http://user:s3cret@redis',
      RDMASCHED_REDIS_CLUSTER_NODES: 'no-port',
      RDMASCHED_TLS_CERT_FILE: '/cert.pem',
      RDMASCHED_BODY_LIMIT_BYTES: '12',
    });
    expect(found.join('\n')).not.toContain('s3cret');
    // parseArgs stops at the unknown flag, so flag values are checked from the environment only.
    expect(found).toEqual(
      expect.arrayContaining([
        expect.stringMatching(/bogus/),
        expect.stringMatching(/RDMASCHED_LOG_LEVEL: "loud"/),
        expect.stringMatching(/RDMASCHED_STALE_AFTER_HEARTBEATS/),
        expect.stringMatching(/RDMASCHED_REDIS_URL: must be a redis:\/\/ or rediss:\/\/ URL/),
        expect.stringMatching(/"no-port" is not host:port/),
        expect.stringMatching(/RDMASCHED_TLS_CERT_FILE and .*RDMASCHED_TLS_KEY_FILE must be set together/),
        expect.stringMatching(/RDMASCHED_BODY_LIMIT_BYTES: "12" is not a whole number/),
      ]) as unknown,
    );
    const flagProblems = problems(['--listen-port', '70000', '--packing', 'dense']);
    expect(flagProblems).toHaveLength(2);
    expect(flagProblems).toEqual(
      expect.arrayContaining([
        expect.stringMatching(/--listen-port .*"70000"/),
        expect.stringMatching(/--packing .*"dense" must be one of pack, spread/),
      ]) as unknown,
    );
  });

  it('usage names every setting', () => {
    const text = usage();
    for (const s of Object.values(SETTINGS)) expect(text).toContain(s.env);
  });
});

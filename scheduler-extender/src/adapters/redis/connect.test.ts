import { describe, expect, it } from 'vitest';
import { describeRedis } from './connect.js';

describe('describeRedis', () => {
  it('never shows a password, from the URL or the settings', () => {
    const d = describeRedis({
      url: 'redis://app:s3cret@redis.example:6380/2',
      clusterNodes: [],
      password: 'hunter2',
    });
    expect(d).toBe('redis://redis.example:6380/2 (password set)');
    expect(d).not.toMatch(/s3cret|hunter2/);
  });

  it('names cluster seeds, TLS and the ACL user', () => {
    expect(
      describeRedis({
        url: '',
        clusterNodes: [
          { host: 'a', port: 1 },
          { host: 'b', port: 2 },
        ],
        username: 'u',
        tls: {},
      }),
    ).toBe('cluster a:1,b:2 (TLS) (user u)');
  });
});

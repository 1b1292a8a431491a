import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { CONFIG_FIELDS, describeConfig, parseConfig } from './config.js';
import { ConfigError } from './errors.js';

describe('parseConfig', () => {
  it('has sensible defaults given only the node name, and is frozen', () => {
    const c = parseConfig({ RDMASCHED_NODE_NAME: 'gpu-node-01' });
    expect(c).toMatchObject({
      nodeName: 'gpu-node-01',
      host: { mode: 'linux', sysfsRoot: '/sys' },
      redis: { url: 'redis://127.0.0.1:6379', keyPrefix: 'rdmasched' },
      http: { host: '0.0.0.0', port: 9110 },
      heartbeatIntervalMs: 5000,
      maxVfsPerPf: 0,
      warmPool: { minReady: { ib: 0, roce: 0 }, maxReady: { ib: undefined, roce: undefined } },
      guidPool: { start: '02:00:00:00:00:00:00:00', size: 2n ** 40n },
      vfDriver: 'mlx5_core',
    });
    expect(Object.isFrozen(c)).toBe(true);
    expect(Object.isFrozen(c.redis)).toBe(true);
  });

  it('flags win over the environment', () => {
    const c = parseConfig(
      { RDMASCHED_NODE_NAME: 'a', RDMASCHED_SYSFS_ROOT: '/host/sys', RDMASCHED_HTTP_PORT: '1' },
      { 'node-name': 'b', 'http-port': '2' },
    );
    expect([c.nodeName, c.http.port, c.host]).toEqual(['b', 2, { mode: 'linux', sysfsRoot: '/host/sys' }]);
  });

  it('one error lists every bad field', () => {
    let err: unknown;
    try {
      parseConfig({
        RDMASCHED_HTTP_PORT: 'eighty',
        RDMASCHED_HOST_MODE: 'vm',
        RDMASCHED_WARM_POOL_IB_MIN: '8',
        RDMASCHED_WARM_POOL_IB_MAX: '4',
        RDMASCHED_GUID_POOL_SIZE: String(2n ** 41n),
        RDMASCHED_HTTP_TLS_CERT_FILE: '/x.pem',
        RDMASCHED_REDIS_URL: 'http://redis',
        RDMASCHED_REDIS_CLUSTER_NODES: 'a:1,b',
        RDMASCHED_LOG_LEVEL: 'loud',
      });
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(ConfigError);
    const problems = (err as ConfigError).problems.join('\n');
    for (const field of [
      'RDMASCHED_NODE_NAME: required',
      'RDMASCHED_HTTP_PORT',
      'RDMASCHED_HOST_MODE',
      'RDMASCHED_WARM_POOL_IB_MAX: 4 is below RDMASCHED_WARM_POOL_IB_MIN 8',
      'RDMASCHED_GUID_POOL_START / RDMASCHED_GUID_POOL_SIZE',
      'RDMASCHED_HTTP_TLS_CERT_FILE / RDMASCHED_HTTP_TLS_KEY_FILE',
      'RDMASCHED_REDIS_URL',
      'RDMASCHED_REDIS_CLUSTER_NODES: "b"',
      'RDMASCHED_LOG_LEVEL',
    ])
      expect(problems).toContain(field);
  });

  it('reads the Redis password from a file and never shows it', () => {
    const dir = mkdtempSync(join(tmpdir(), 'rdmasched-cfg-'));
    writeFileSync(join(dir, 'pw'), 's3cret-file\n');
    const c = parseConfig({
      RDMASCHED_NODE_NAME: 'a',
      RDMASCHED_REDIS_PASSWORD_FILE: join(dir, 'pw'),
      RDMASCHED_REDIS_URL: 'rediss://user:s3cret-url@redis:6380',
    });
    expect(c.redis.password).toBe('s3cret-file');
    const shown = JSON.stringify(describeConfig(c));
    expect(shown).not.toContain('s3cret');
    expect(shown).toContain('(password set)');
    expect(shown).toContain('(TLS)');
  });

  it('simulated mode needs RDMASCHED_SIM_DIR', () => {
    expect(() => parseConfig({ RDMASCHED_NODE_NAME: 'a', RDMASCHED_HOST_MODE: 'simulated' })).toThrow(
      /RDMASCHED_SIM_DIR: required/,
    );
    expect(
      parseConfig({ RDMASCHED_NODE_NAME: 'a', RDMASCHED_HOST_MODE: 'simulated', RDMASCHED_SIM_DIR: '/tmp/h' })
        .host,
    ).toEqual({
      mode: 'simulated',
      simDir: '/tmp/h',
    });
  });

  it('every documented field has a default column and a flag or says env only', () => {
    for (const [env, flag] of CONFIG_FIELDS) {
      expect(env).toMatch(/^[A-Z_]+$/);
      expect(flag === '(env only)' || flag.startsWith('--')).toBe(true);
    }
  });

  it('turns the device plugin on in linux mode and off in simulated mode unless told', () => {
    const linux = parseConfig({ RDMASCHED_NODE_NAME: 'a' });
    expect(linux.devicePlugin).toEqual({
      enabled: true,
      dir: '/var/lib/kubelet/device-plugins',
      podResourcesSocket: '/var/lib/kubelet/pod-resources/kubelet.sock',
      devRoot: '/dev',
      linkTypes: ['ib', 'roce'],
      reconcileIntervalMs: 10_000,
      releaseGraceMs: 30_000,
      rediscoverIntervalMs: 10_000,
    });
    expect(linux.procRoot).toBe('/proc');
    const sim = { RDMASCHED_NODE_NAME: 'a', RDMASCHED_HOST_MODE: 'simulated', RDMASCHED_SIM_DIR: '/tmp/h' };
    expect(parseConfig(sim).devicePlugin.enabled).toBe(false);
    expect(parseConfig(sim).procRoot).toBe('/tmp/h/proc');
    const on = parseConfig({
      ...sim,
      RDMASCHED_DEVICE_PLUGIN: 'on',
      RDMASCHED_DEVICE_PLUGIN_RESOURCES: 'roce',
    });
    expect([on.devicePlugin.enabled, on.devicePlugin.linkTypes]).toEqual([true, ['roce']]);
    expect(() =>
      parseConfig({ ...sim, RDMASCHED_DEVICE_PLUGIN: 'maybe', RDMASCHED_DEVICE_PLUGIN_RESOURCES: 'eth' }),
    ).toThrow(/RDMASCHED_DEVICE_PLUGIN: "maybe"[\s\S]*RDMASCHED_DEVICE_PLUGIN_RESOURCES: "eth"/);
  });

  it.each([
    [{}, { mode: 'off' }],
    [{ KUBERNETES_SERVICE_HOST: '10.0.0.1' }, { mode: 'in-cluster' }],
    [{ RDMASCHED_KUBECONFIG: '/k' }, { mode: 'kubeconfig', path: '/k' }],
    [{ KUBERNETES_SERVICE_HOST: '10.0.0.1', RDMASCHED_KUBE_API: 'off' }, { mode: 'off' }],
    [{ RDMASCHED_KUBE_API: 'in-cluster' }, { mode: 'in-cluster' }],
  ])('reaches the Kubernetes API per RDMASCHED_KUBE_API (auto by default): %j', (env, kube) => {
    expect(parseConfig({ RDMASCHED_NODE_NAME: 'a', ...env }).kube).toEqual(kube);
  });

  it('refuses an unknown Kubernetes API mode and kubeconfig mode without a file', () => {
    expect(() => parseConfig({ RDMASCHED_NODE_NAME: 'a', RDMASCHED_KUBE_API: 'kubeconfig' })).toThrow(
      /RDMASCHED_KUBECONFIG: required/,
    );
    expect(() => parseConfig({ RDMASCHED_NODE_NAME: 'a', RDMASCHED_KUBE_API: 'yes' })).toThrow(
      /RDMASCHED_KUBE_API/,
    );
  });
});

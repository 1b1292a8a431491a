/**
 * The agent daemon's configuration: parsed once from the environment and flags (flags win),
 * validated, frozen. One ConfigError lists every bad field. Secrets (Redis password) come from the
 * environment or a file only, never from a flag (flags show in `ps`), and never appear in
 * `describeConfig`.
 */
import { readFileSync } from 'node:fs';
import { isNodeName, type LinkType } from '@rdmasched/contracts';
import { DEFAULT_GUID_POOL_SIZE, DEFAULT_GUID_POOL_START, validateGuidRange } from './core/identity.js';
import { ConfigError } from './errors.js';
import type { RedisConnectionOptions } from './adapters/redis/connection.js';
import { describeRedis } from './adapters/redis/connection.js';

export interface AgentConfig {
  readonly nodeName: string;
  readonly host:
    | { readonly mode: 'linux'; readonly sysfsRoot: string }
    | { readonly mode: 'simulated'; readonly simDir: string };
  readonly redis: RedisConnectionOptions & { readonly keyPrefix: string };
  readonly http: {
    readonly host: string;
    readonly port: number;
    readonly tls?: { readonly certFile: string; readonly keyFile: string };
  };
  readonly heartbeatIntervalMs: number;
  readonly discoveryIntervalMs: number;
  readonly warmPoolIntervalMs: number;
  readonly maxVfsPerPf: number;
  readonly warmPool: {
    readonly minReady: Readonly<Record<LinkType, number>>;
    readonly maxReady: Readonly<Record<LinkType, number | undefined>>;
  };
  readonly guidPool: { readonly start: string; readonly size: bigint };
  readonly vfDriver: string;
  readonly vfWaitTimeoutMs: number;
  readonly ipPath: string;
  readonly devlinkPath: string;
  readonly logLevel: 'fatal' | 'error' | 'warn' | 'info' | 'debug' | 'trace' | 'silent';
}

/** Every setting: environment variable, flag, default, meaning (the README's table is generated from it). */
export const CONFIG_FIELDS = [
  [
    'NODE_NAME',
    '--node-name',
    '(required)',
    'Kubernetes node name this agent reports for (downward API spec.nodeName).',
  ],
  ['SYSFS_ROOT', '--sysfs-root', '/sys', 'sysfs root to read and write (`/host/sys` in the DaemonSet).'],
  [
    'HOST_MODE',
    '--host',
    'linux',
    '`linux` (real sysfs + ip/devlink) or `simulated` (a tree made by `sim create`).',
  ],
  ['SIM_DIR', '--sim-dir', '', 'Directory of the simulated host (HOST_MODE=simulated).'],
  [
    'REDIS_URL',
    '--redis-url',
    'redis://127.0.0.1:6379',
    'Redis URL; `rediss://` for TLS. Credentials in the URL are accepted and never logged.',
  ],
  [
    'REDIS_CLUSTER_NODES',
    '--redis-cluster-nodes',
    '',
    'Comma-separated `host:port` seeds: use Redis Cluster instead of REDIS_URL.',
  ],
  ['REDIS_USERNAME', '--redis-username', '', 'Redis ACL user.'],
  ['REDIS_PASSWORD', '(env only)', '', 'Redis password (or REDIS_PASSWORD_FILE). Never logged.'],
  ['REDIS_PASSWORD_FILE', '--redis-password-file', '', 'File holding the Redis password (a mounted Secret).'],
  ['REDIS_TLS_CA_FILE', '--redis-tls-ca-file', '', 'CA bundle (PEM) to verify Redis; enables TLS.'],
  ['REDIS_TLS_CERT_FILE', '--redis-tls-cert-file', '', 'Client certificate (PEM) for mutual TLS.'],
  ['REDIS_TLS_KEY_FILE', '--redis-tls-key-file', '', 'Client key (PEM) for mutual TLS.'],
  [
    'REDIS_TLS_INSECURE',
    '--redis-tls-insecure',
    'false',
    'Skip verifying the Redis certificate (tests only).',
  ],
  [
    'REDIS_KEY_PREFIX',
    '--redis-key-prefix',
    'rdmasched',
    'Prefix of every key (several installations can share one Redis).',
  ],
  ['HTTP_HOST', '--http-host', '0.0.0.0', 'Address of the /metrics, /healthz, /readyz server.'],
  ['HTTP_PORT', '--http-port', '9110', 'Port of that server.'],
  ['HTTP_TLS_CERT_FILE', '--http-tls-cert-file', '', 'Serve HTTPS with this certificate (PEM)...'],
  ['HTTP_TLS_KEY_FILE', '--http-tls-key-file', '', '...and this key.'],
  [
    'HEARTBEAT_INTERVAL_MS',
    '--heartbeat-interval-ms',
    '5000',
    'Heartbeat period; the heartbeat key lives 3 periods.',
  ],
  [
    'DISCOVERY_INTERVAL_MS',
    '--discovery-interval-ms',
    '30000',
    'Re-read the host this often (a report is published only on change).',
  ],
  ['WARM_POOL_INTERVAL_MS', '--warm-pool-interval-ms', '15000', 'Warm-pool check period.'],
  [
    'MAX_VFS_PER_PF',
    '--max-vfs-per-pf',
    '0',
    'Policy maximum VFs per PF; 0 = sriov_totalvfs. Never above sriov_totalvfs.',
  ],
  ['WARM_POOL_IB_MIN', '--warm-pool-ib-min', '0', 'Free ready InfiniBand VFs to keep on the node.'],
  [
    'WARM_POOL_IB_MAX',
    '--warm-pool-ib-max',
    '',
    'Shrink idle IB PFs while more free ready VFs than this (empty: never).',
  ],
  ['WARM_POOL_ROCE_MIN', '--warm-pool-roce-min', '0', 'Free ready RoCE VFs to keep on the node.'],
  ['WARM_POOL_ROCE_MAX', '--warm-pool-roce-max', '', 'Shrink idle RoCE PFs above this (empty: never).'],
  [
    'GUID_POOL_START',
    '--guid-pool-start',
    DEFAULT_GUID_POOL_START,
    'First GUID of the cluster-wide pool (same on every agent).',
  ],
  [
    'GUID_POOL_SIZE',
    '--guid-pool-size',
    String(DEFAULT_GUID_POOL_SIZE),
    'Number of GUIDs in the pool (at most 2^40).',
  ],
  ['VF_DRIVER', '--vf-driver', 'mlx5_core', 'Driver VFs are bound to.'],
  [
    'VF_WAIT_TIMEOUT_MS',
    '--vf-wait-timeout-ms',
    '120000',
    'How long to wait for enabled VFs to appear and bind.',
  ],
  ['IP_PATH', '--ip-path', 'ip', 'The iproute2 `ip` binary.'],
  ['DEVLINK_PATH', '--devlink-path', 'devlink', 'The `devlink` binary.'],
  ['LOG_LEVEL', '--log-level', 'info', 'pino level: fatal, error, warn, info, debug, trace, silent.'],
] as const;

/** Flag names (without `--`) accepted by `run`. */
export const RUN_FLAGS = CONFIG_FIELDS.map((f) => f[1])
  .filter((f) => f.startsWith('--'))
  .map((f) => f.slice(2));

export type Source = Readonly<Record<string, string | undefined>>;

/**
 * Builds the configuration from the environment and `--flag value` pairs (flags keyed without
 * `--`). Throws ConfigError naming every bad field.
 */
export function parseConfig(env: Source, flags: Source = {}): AgentConfig {
  const problems: string[] = [];
  const get = (envName: string): string | undefined => {
    const field = CONFIG_FIELDS.find((f) => f[0] === envName);
    const flag = field?.[1].startsWith('--') === true ? flags[field[1].slice(2)] : undefined;
    const v = flag ?? env[envName];
    return v === undefined || v === '' ? undefined : v;
  };
  const int = (name: string, def: number, min: number, max: number): number => {
    const v = get(name);
    if (v === undefined) return def;
    const n = /^[0-9]+$/.test(v) ? Number(v) : NaN;
    if (!Number.isSafeInteger(n) || n < min || n > max) {
      problems.push(`${name}: ${JSON.stringify(v)} is not an integer between ${min} and ${max}`);
      return def;
    }
    return n;
  };
  const optInt = (name: string, min: number, max: number): number | undefined =>
    get(name) === undefined ? undefined : int(name, 0, min, max);
  const bool = (name: string, def: boolean): boolean => {
    const v = get(name);
    if (v === undefined) return def;
    if (/^(1|true|yes|on)$/i.test(v)) return true;
    if (/^(0|false|no|off)$/i.test(v)) return false;
    problems.push(`${name}: ${JSON.stringify(v)} is not a boolean (true/false)`);
    return def;
  };
  const file = (name: string): string | undefined => get(name);

  const nodeName = get('NODE_NAME') ?? '';
  if (nodeName === '') problems.push('NODE_NAME: required (set it from the downward API, spec.nodeName)');
  else if (!isNodeName(nodeName))
    problems.push(`NODE_NAME: ${JSON.stringify(nodeName)} is not a valid node name`);

  const mode = get('HOST_MODE') ?? 'linux';
  let host: AgentConfig['host'] = { mode: 'linux', sysfsRoot: get('SYSFS_ROOT') ?? '/sys' };
  if (mode === 'simulated') {
    const simDir = get('SIM_DIR');
    if (simDir === undefined) problems.push('SIM_DIR: required when HOST_MODE is simulated');
    host = { mode: 'simulated', simDir: simDir ?? '' };
  } else if (mode !== 'linux') {
    problems.push(`HOST_MODE: ${JSON.stringify(mode)} must be linux or simulated`);
  }

  let password = get('REDIS_PASSWORD');
  const passwordFile = file('REDIS_PASSWORD_FILE');
  if (passwordFile !== undefined) {
    try {
      password = readFileSync(passwordFile, 'utf8').trim();
    } catch {
      problems.push(`REDIS_PASSWORD_FILE: cannot read ${passwordFile}`);
    }
  }
  const url = get('REDIS_URL') ?? 'redis://127.0.0.1:6379';
  if (!/^rediss?:\/\//.test(url)) problems.push('REDIS_URL: must start with redis:// or rediss://');
  const clusterText = get('REDIS_CLUSTER_NODES');
  const clusterNodes = clusterText?.split(',').map((s) => {
    const m = /^([A-Za-z0-9.-]+|\[[0-9a-fA-F:]+\]):([0-9]{1,5})$/.exec(s.trim());
    if (m === null || Number(m[2]) > 65535) {
      problems.push(`REDIS_CLUSTER_NODES: ${JSON.stringify(s)} is not host:port`);
      return { host: '', port: 0 };
    }
    return { host: m[1]!.replace(/^\[|\]$/g, ''), port: Number(m[2]) };
  });
  const caFile = file('REDIS_TLS_CA_FILE');
  const certFile = file('REDIS_TLS_CERT_FILE');
  const keyFile = file('REDIS_TLS_KEY_FILE');
  const insecure = bool('REDIS_TLS_INSECURE', false);
  if ((certFile === undefined) !== (keyFile === undefined))
    problems.push('REDIS_TLS_CERT_FILE / REDIS_TLS_KEY_FILE: give both or neither');
  const tlsWanted = caFile !== undefined || certFile !== undefined || insecure;
  const username = get('REDIS_USERNAME');
  const keyPrefix = get('REDIS_KEY_PREFIX') ?? 'rdmasched';
  if (!/^[A-Za-z0-9_.:-]{1,64}$/.test(keyPrefix))
    problems.push(`REDIS_KEY_PREFIX: ${JSON.stringify(keyPrefix)} is not allowed`);

  const httpCert = file('HTTP_TLS_CERT_FILE');
  const httpKey = file('HTTP_TLS_KEY_FILE');
  if ((httpCert === undefined) !== (httpKey === undefined))
    problems.push('HTTP_TLS_CERT_FILE / HTTP_TLS_KEY_FILE: give both or neither');

  const warm = {
    minReady: { ib: int('WARM_POOL_IB_MIN', 0, 0, 65535), roce: int('WARM_POOL_ROCE_MIN', 0, 0, 65535) },
    maxReady: { ib: optInt('WARM_POOL_IB_MAX', 0, 65535), roce: optInt('WARM_POOL_ROCE_MAX', 0, 65535) },
  };
  for (const lt of ['ib', 'roce'] as const) {
    const max = warm.maxReady[lt];
    if (max !== undefined && max < warm.minReady[lt])
      problems.push(
        `WARM_POOL_${lt.toUpperCase()}_MAX: ${max} is below WARM_POOL_${lt.toUpperCase()}_MIN ${warm.minReady[lt]}`,
      );
  }

  const guidStart = (get('GUID_POOL_START') ?? DEFAULT_GUID_POOL_START).toLowerCase();
  let guidSize = DEFAULT_GUID_POOL_SIZE;
  const sizeText = get('GUID_POOL_SIZE');
  if (sizeText !== undefined) {
    if (/^[0-9]{1,20}$/.test(sizeText)) guidSize = BigInt(sizeText);
    else problems.push(`GUID_POOL_SIZE: ${JSON.stringify(sizeText)} is not a number`);
  }
  for (const p of validateGuidRange(guidStart, guidSize))
    problems.push(`GUID_POOL_START / GUID_POOL_SIZE: ${p}`);

  const vfDriver = get('VF_DRIVER') ?? 'mlx5_core';
  if (vfDriver !== 'mlx5_core' && vfDriver !== 'vfio-pci')
    problems.push(`VF_DRIVER: ${JSON.stringify(vfDriver)} must be mlx5_core or vfio-pci`);
  const logLevel = get('LOG_LEVEL') ?? 'info';
  const levels = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'] as const;
  if (!(levels as readonly string[]).includes(logLevel))
    problems.push(`LOG_LEVEL: ${JSON.stringify(logLevel)} must be one of ${levels.join(', ')}`);

  const config: AgentConfig = {
    nodeName,
    host,
    redis: {
      url,
      ...(clusterNodes === undefined ? {} : { clusterNodes }),
      ...(username === undefined ? {} : { username }),
      ...(password === undefined ? {} : { password }),
      ...(tlsWanted
        ? {
            tls: {
              ...(caFile === undefined ? {} : { caFile }),
              ...(certFile === undefined ? {} : { certFile }),
              ...(keyFile === undefined ? {} : { keyFile }),
              rejectUnauthorized: !insecure,
            },
          }
        : {}),
      connectionName: `rdmasched-agent:${nodeName}`,
      keyPrefix,
    },
    http: {
      host: get('HTTP_HOST') ?? '0.0.0.0',
      port: int('HTTP_PORT', 9110, 0, 65535),
      ...(httpCert !== undefined && httpKey !== undefined
        ? { tls: { certFile: httpCert, keyFile: httpKey } }
        : {}),
    },
    heartbeatIntervalMs: int('HEARTBEAT_INTERVAL_MS', 5_000, 100, 3_600_000),
    discoveryIntervalMs: int('DISCOVERY_INTERVAL_MS', 30_000, 100, 86_400_000),
    warmPoolIntervalMs: int('WARM_POOL_INTERVAL_MS', 15_000, 100, 86_400_000),
    maxVfsPerPf: int('MAX_VFS_PER_PF', 0, 0, 65535),
    warmPool: warm,
    guidPool: { start: guidStart, size: guidSize },
    vfDriver,
    vfWaitTimeoutMs: int('VF_WAIT_TIMEOUT_MS', 120_000, 100, 3_600_000),
    ipPath: get('IP_PATH') ?? 'ip',
    devlinkPath: get('DEVLINK_PATH') ?? 'devlink',
    logLevel: logLevel as AgentConfig['logLevel'],
  };
  if (problems.length > 0) throw new ConfigError(problems);
  return deepFreeze(config);
}

function deepFreeze<T>(o: T): T {
  if (o !== null && typeof o === 'object' && !Object.isFrozen(o)) {
    Object.freeze(o);
    for (const v of Object.values(o as Record<string, unknown>)) deepFreeze(v);
  }
  return o;
}

/** A loggable summary: no password, no key material. */
export function describeConfig(c: AgentConfig): Record<string, unknown> {
  return {
    nodeName: c.nodeName,
    host: c.host,
    redis: describeRedis(c.redis),
    keyPrefix: c.redis.keyPrefix,
    http: `${c.http.tls === undefined ? 'http' : 'https'}://${c.http.host}:${c.http.port}`,
    heartbeatIntervalMs: c.heartbeatIntervalMs,
    discoveryIntervalMs: c.discoveryIntervalMs,
    warmPoolIntervalMs: c.warmPoolIntervalMs,
    maxVfsPerPf: c.maxVfsPerPf,
    warmPool: c.warmPool,
    guidPool: { start: c.guidPool.start, size: c.guidPool.size.toString() },
    vfDriver: c.vfDriver,
  };
}

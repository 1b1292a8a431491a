/**
 * Configuration: command-line flags and `RDMASCHED_*` environment variables, parsed once,
 * validated, frozen. A flag wins over its variable; a variable over the default. Every bad
 * setting is reported in one error (code INVALID_CONFIG). Secrets (the Redis password) come from
 * the environment or a file, never from a flag (flags show up in `ps`), and are never logged.
 *
 * `parseConfig` is pure; `readConfigFiles` reads the files the settings name (TLS material,
 * password file), again reporting every unreadable file at once.
 */
import { readFile } from 'node:fs/promises';
import { parseArgs } from 'node:util';
import { ExtenderError } from './errors.js';
import { DEFAULT_BODY_LIMIT_BYTES } from './http/app.js';
import { DEFAULT_STALE_AFTER_HEARTBEATS } from './core/snapshot.js';
import { PACKING_POLICIES, type PackingPolicy } from './core/score.js';
import { UNTENANTED_RULES, type UntenantedRule } from './core/tenancy.js';
import { KUBE_API_MODES, type KubeApiMode } from './adapters/kube/kube-config.js';
import { isGuid } from '@rdmasched/contracts';

export const SUBNET_MANAGERS = ['noop', 'ufm'] as const;
export type SubnetManagerKind = (typeof SUBNET_MANAGERS)[number];

export interface UfmSettings {
  readonly url: string | undefined;
  readonly username: string | undefined;
  /** From RDMASCHED_UFM_PASSWORD; never logged. */
  readonly password: string | undefined;
  readonly passwordFile: string | undefined;
  readonly caFile: string | undefined;
}

export interface TenancySettings {
  readonly kubeApi: KubeApiMode;
  readonly kubeconfig: string | undefined;
  readonly schedulerName: string;
  readonly untenantedPods: UntenantedRule;
  readonly bindProvisionTimeoutMs: number;
  readonly reservationTtlMs: number;
  readonly reconcileIntervalMs: number;
  readonly leaderLeaseMs: number;
  readonly tenantStatusMinIntervalMs: number;
  readonly subnetManager: SubnetManagerKind;
  readonly ufm: UfmSettings;
  readonly partitionIntervalMs: number;
  readonly guidPool: { readonly start: bigint; readonly size: bigint };
}

export const LOG_LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'] as const;
export type LogLevel = (typeof LOG_LEVELS)[number];

export interface RedisSettings {
  /** `redis://` or `rediss://` (TLS) URL of a single Redis; ignored when clusterNodes is set. */
  readonly url: string;
  /** Seed nodes of a Redis Cluster (`host:port`); empty for a single Redis. */
  readonly clusterNodes: readonly { readonly host: string; readonly port: number }[];
  readonly username: string | undefined;
  /** From RDMASCHED_REDIS_PASSWORD; never logged. */
  readonly password: string | undefined;
  readonly passwordFile: string | undefined;
  readonly tls: boolean;
  readonly tlsCaFile: string | undefined;
  readonly tlsCertFile: string | undefined;
  readonly tlsKeyFile: string | undefined;
  readonly tlsServerName: string | undefined;
  readonly keyPrefix: string;
}

export interface Config {
  readonly help: boolean;
  readonly listenHost: string;
  readonly listenPort: number;
  readonly urlPrefix: string;
  readonly bodyLimitBytes: number;
  readonly packing: PackingPolicy;
  readonly staleAfterHeartbeats: number;
  readonly tlsCertFile: string | undefined;
  readonly tlsKeyFile: string | undefined;
  readonly logLevel: LogLevel;
  readonly shutdownTimeoutMs: number;
  readonly redis: RedisSettings;
  readonly tenancy: TenancySettings;
}

interface Setting {
  readonly flag: string;
  readonly env: string;
  readonly def: string;
  readonly doc: string;
  /** Secret: environment only, no flag. */
  readonly envOnly?: boolean;
  readonly boolean?: boolean;
}

/** Every setting, in README order. The README's configuration table is generated from this list. */
export const SETTINGS = {
  listenHost: {
    flag: 'listen-host',
    env: 'RDMASCHED_LISTEN_HOST',
    def: '0.0.0.0',
    doc: 'Address to listen on.',
  },
  listenPort: {
    flag: 'listen-port',
    env: 'RDMASCHED_LISTEN_PORT',
    def: '8080',
    doc: 'TCP port (0 picks a free one).',
  },
  urlPrefix: {
    flag: 'url-prefix',
    env: 'RDMASCHED_URL_PREFIX',
    def: '',
    doc: 'Path prefix of the filter and prioritize verbs, e.g. `/scheduler` serves `/scheduler/filter`.',
  },
  bodyLimitBytes: {
    flag: 'body-limit-bytes',
    env: 'RDMASCHED_BODY_LIMIT_BYTES',
    def: String(DEFAULT_BODY_LIMIT_BYTES),
    doc: 'Largest request body; larger ones get 413. 16 MiB fits ~1,000 full Node objects (nodeCacheCapable: false).',
  },
  packing: {
    flag: 'packing',
    env: 'RDMASCHED_PACKING',
    def: 'pack',
    doc: '`pack` (fill used PFs and nodes first, keep whole PFs idle and resizable) or `spread` (balance).',
  },
  staleAfterHeartbeats: {
    flag: 'stale-after-heartbeats',
    env: 'RDMASCHED_STALE_AFTER_HEARTBEATS',
    def: String(DEFAULT_STALE_AFTER_HEARTBEATS),
    doc: "A node is stale (FailedNodes) after this many of its agent's heartbeat intervals without a heartbeat.",
  },
  tlsCertFile: {
    flag: 'tls-cert-file',
    env: 'RDMASCHED_TLS_CERT_FILE',
    def: '',
    doc: 'PEM certificate: serve HTTPS (with `--tls-key-file`). kube-scheduler then needs `enableHTTPS: true`.',
  },
  tlsKeyFile: {
    flag: 'tls-key-file',
    env: 'RDMASCHED_TLS_KEY_FILE',
    def: '',
    doc: 'PEM private key for HTTPS.',
  },
  logLevel: {
    flag: 'log-level',
    env: 'RDMASCHED_LOG_LEVEL',
    def: 'info',
    doc: `One of ${LOG_LEVELS.join(', ')}.`,
  },
  shutdownTimeoutMs: {
    flag: 'shutdown-timeout-ms',
    env: 'RDMASCHED_SHUTDOWN_TIMEOUT_MS',
    def: '10000',
    doc: 'On SIGTERM, how long in-flight requests may finish before the process exits anyway.',
  },
  redisUrl: {
    flag: 'redis-url',
    env: 'RDMASCHED_REDIS_URL',
    def: 'redis://127.0.0.1:6379',
    doc: 'Single Redis: `redis://host:port[/db]`, or `rediss://` for TLS.',
  },
  redisClusterNodes: {
    flag: 'redis-cluster-nodes',
    env: 'RDMASCHED_REDIS_CLUSTER_NODES',
    def: '',
    doc: 'Redis Cluster seed nodes, `host:port,host:port`; when set, `--redis-url` is ignored.',
  },
  redisUsername: {
    flag: 'redis-username',
    env: 'RDMASCHED_REDIS_USERNAME',
    def: '',
    doc: 'Redis ACL user name.',
  },
  redisPassword: {
    flag: '',
    env: 'RDMASCHED_REDIS_PASSWORD',
    def: '',
    doc: 'Redis password (environment only, never logged).',
    envOnly: true,
  },
  redisPasswordFile: {
    flag: 'redis-password-file',
    env: 'RDMASCHED_REDIS_PASSWORD_FILE',
    def: '',
    doc: 'File holding the Redis password (e.g. a mounted Secret); wins over RDMASCHED_REDIS_PASSWORD.',
  },
  redisTls: {
    flag: 'redis-tls',
    env: 'RDMASCHED_REDIS_TLS',
    def: 'false',
    doc: 'Use TLS to Redis (implied by `rediss://`).',
    boolean: true,
  },
  redisTlsCaFile: {
    flag: 'redis-tls-ca-file',
    env: 'RDMASCHED_REDIS_TLS_CA_FILE',
    def: '',
    doc: 'PEM CA bundle to verify Redis.',
  },
  redisTlsCertFile: {
    flag: 'redis-tls-cert-file',
    env: 'RDMASCHED_REDIS_TLS_CERT_FILE',
    def: '',
    doc: 'PEM client certificate for Redis (mutual TLS).',
  },
  redisTlsKeyFile: {
    flag: 'redis-tls-key-file',
    env: 'RDMASCHED_REDIS_TLS_KEY_FILE',
    def: '',
    doc: 'PEM client key for Redis.',
  },
  redisTlsServerName: {
    flag: 'redis-tls-server-name',
    env: 'RDMASCHED_REDIS_TLS_SERVER_NAME',
    def: '',
    doc: 'Server name to verify in the Redis certificate (SNI), when it differs from the host.',
  },
  redisKeyPrefix: {
    flag: 'redis-key-prefix',
    env: 'RDMASCHED_REDIS_KEY_PREFIX',
    def: 'rdmasched',
    doc: 'Prefix of every Redis key (several installations can share one Redis).',
  },
  kubeApi: {
    flag: 'kube-api',
    env: 'RDMASCHED_KUBE_API',
    def: 'auto',
    doc: '`auto` (kubeconfig when RDMASCHED_KUBECONFIG is set, in-cluster when KUBERNETES_SERVICE_HOST is, else off), `in-cluster`, `kubeconfig` or `off`. Off: no tenancy, no bind, no reconcile.',
  },
  kubeconfig: {
    flag: 'kubeconfig',
    env: 'RDMASCHED_KUBECONFIG',
    def: '',
    doc: 'kubeconfig file (its TLS and token settings are used).',
  },
  schedulerName: {
    flag: 'scheduler-name',
    env: 'RDMASCHED_SCHEDULER_NAME',
    def: 'rdma-scheduler',
    doc: '`spec.schedulerName` of the pods whose reservations the extender follows.',
  },
  untenantedPods: {
    flag: 'untenanted-pods',
    env: 'RDMASCHED_UNTENANTED_PODS',
    def: 'reject',
    doc: 'Pods in namespaces no RdmaTenant owns: `reject` (every node unresolvable, NO_TENANT) or `allow` (no quota, both link types, no PKey/VLAN).',
  },
  bindProvisionTimeoutMs: {
    flag: 'bind-provision-timeout-ms',
    env: 'RDMASCHED_BIND_PROVISION_TIMEOUT_MS',
    def: '6000',
    doc: "How long bind waits for the node agent's VFs; keep it 2-4 s under kube-scheduler's httpTimeout (10 s in deploy/).",
  },
  reservationTtlMs: {
    flag: 'reservation-ttl-ms',
    env: 'RDMASCHED_RESERVATION_TTL_MS',
    def: '60000',
    doc: 'A reservation not bound after this long is released by reconcile (at least the provision timeout + 10 s).',
  },
  reconcileIntervalMs: {
    flag: 'reconcile-interval-ms',
    env: 'RDMASCHED_RECONCILE_INTERVAL_MS',
    def: '30000',
    doc: 'Period of the reconcile the leader runs against the API and the node reports.',
  },
  leaderLeaseMs: {
    flag: 'leader-lease-ms',
    env: 'RDMASCHED_LEADER_LEASE_MS',
    def: '15000',
    doc: 'Lease of the leader lock in Redis; renewed every third of it.',
  },
  tenantStatusMinIntervalMs: {
    flag: 'tenant-status-min-interval-ms',
    env: 'RDMASCHED_TENANT_STATUS_MIN_INTERVAL_MS',
    def: '5000',
    doc: "Least time between two writes of one RdmaTenant's status.",
  },
  subnetManager: {
    flag: 'subnet-manager',
    env: 'RDMASCHED_SUBNET_MANAGER',
    def: 'noop',
    doc: '`noop` (PKeys are managed outside rdmasched) or `ufm` (tenant PKey membership through UFM).',
  },
  ufmUrl: {
    flag: 'ufm-url',
    env: 'RDMASCHED_UFM_URL',
    def: '',
    doc: 'UFM address, e.g. `https://ufm.example.com` (port optional).',
  },
  ufmUsername: {
    flag: 'ufm-username',
    env: 'RDMASCHED_UFM_USERNAME',
    def: '',
    doc: 'UFM user (basic auth).',
  },
  ufmPassword: {
    flag: '',
    env: 'RDMASCHED_UFM_PASSWORD',
    def: '',
    doc: 'UFM password (environment only, never logged).',
    envOnly: true,
  },
  ufmPasswordFile: {
    flag: 'ufm-password-file',
    env: 'RDMASCHED_UFM_PASSWORD_FILE',
    def: '',
    doc: 'File holding the UFM password (a mounted Secret); wins over RDMASCHED_UFM_PASSWORD.',
  },
  ufmCaFile: {
    flag: 'ufm-ca-file',
    env: 'RDMASCHED_UFM_CA_FILE',
    def: '',
    doc: "PEM CA bundle to verify UFM's certificate (default: the system's CAs).",
  },
  partitionIntervalMs: {
    flag: 'partition-reconcile-interval-ms',
    env: 'RDMASCHED_PARTITION_RECONCILE_INTERVAL_MS',
    def: '60000',
    doc: 'Period of the full PKey membership reconcile (changes are also applied as reports arrive).',
  },
  guidPoolStart: {
    flag: 'guid-pool-start',
    env: 'RDMASCHED_GUID_POOL_START',
    def: '02:00:00:00:00:00:00:00',
    doc: "First GUID of the node agents' identity pool (same as theirs): GUIDs in the pool are rdmasched's to remove from tenant PKeys.",
  },
  guidPoolSize: {
    flag: 'guid-pool-size',
    env: 'RDMASCHED_GUID_POOL_SIZE',
    def: '1099511627776',
    doc: "Number of GUIDs in that pool (at most 2^40), as the node agents' setting.",
  },
} as const satisfies Record<string, Setting>;

type SettingName = keyof typeof SETTINGS;

export function usage(): string {
  const lines = [
    'usage: rdmasched-extender [options]',
    '',
    'Every option can also be set with its environment variable.',
    '',
  ];
  for (const s of Object.values(SETTINGS) as Setting[]) {
    const flag = s.flag === '' ? '(env only)' : `--${s.flag}${s.boolean === true ? '' : ' VALUE'}`;
    lines.push(`  ${flag.padEnd(34)} ${s.env}${s.def === '' ? '' : ` (default ${s.def})`}`);
    lines.push(`  ${''.padEnd(34)} ${s.doc.replaceAll('`', '')}`);
  }
  lines.push('  --help');
  return lines.join('\n');
}

export class ConfigError extends ExtenderError {
  constructor(readonly problems: readonly string[]) {
    super('INVALID_CONFIG', `invalid configuration:\n  - ${problems.join('\n  - ')}`);
  }
}

function intIn(raw: string, min: number, max: number): number | undefined {
  if (!/^\d+$/.test(raw.trim())) return undefined;
  const n = Number(raw.trim());
  return n >= min && n <= max ? n : undefined;
}

/** Parses flags and environment. Pure; throws ConfigError listing every problem. */
export function parseConfig(
  argv: readonly string[],
  env: Readonly<Record<string, string | undefined>>,
): Config {
  const problems: string[] = [];
  const options: Record<string, { type: 'string' | 'boolean' }> = { help: { type: 'boolean' } };
  for (const s of Object.values(SETTINGS) as Setting[]) {
    if (s.flag !== '') options[s.flag] = { type: s.boolean === true ? 'boolean' : 'string' };
  }
  let values: Record<string, string | boolean | undefined> = {};
  try {
    const parsed = parseArgs({ args: [...argv], options, strict: true, allowPositionals: false });
    values = parsed.values;
  } catch (err: unknown) {
    problems.push(err instanceof Error ? err.message : String(err));
  }
  const raw = (name: SettingName): string => {
    const s: Setting = SETTINGS[name];
    const fromFlag = s.flag === '' ? undefined : values[s.flag];
    if (typeof fromFlag === 'boolean') return fromFlag ? 'true' : 'false';
    if (typeof fromFlag === 'string') return fromFlag;
    return env[s.env] ?? s.def;
  };
  const where = (name: SettingName): string => {
    const s: Setting = SETTINGS[name];
    return s.flag === '' ? s.env : `--${s.flag} / ${s.env}`;
  };
  const optional = (name: SettingName): string | undefined => {
    const v = raw(name).trim();
    return v === '' ? undefined : v;
  };
  const int = (name: SettingName, min: number, max: number): number => {
    const v = intIn(raw(name), min, max);
    if (v === undefined)
      problems.push(`${where(name)}: ${JSON.stringify(raw(name))} is not a whole number in ${min}..${max}`);
    return v ?? min;
  };
  const bool = (name: SettingName): boolean => {
    const v = raw(name).trim().toLowerCase();
    if (['true', '1', 'yes'].includes(v)) return true;
    if (['false', '0', 'no', ''].includes(v)) return false;
    problems.push(`${where(name)}: ${JSON.stringify(raw(name))} is not true or false`);
    return false;
  };

  const packing = raw('packing').trim();
  if (!(PACKING_POLICIES as readonly string[]).includes(packing)) {
    problems.push(
      `${where('packing')}: ${JSON.stringify(packing)} must be one of ${PACKING_POLICIES.join(', ')}`,
    );
  }
  const logLevel = raw('logLevel').trim();
  if (!(LOG_LEVELS as readonly string[]).includes(logLevel)) {
    problems.push(
      `${where('logLevel')}: ${JSON.stringify(logLevel)} must be one of ${LOG_LEVELS.join(', ')}`,
    );
  }
  const staleRaw = raw('staleAfterHeartbeats').trim();
  const stale = Number(staleRaw);
  if (!(staleRaw !== '' && Number.isFinite(stale) && stale >= 1 && stale <= 100)) {
    problems.push(
      `${where('staleAfterHeartbeats')}: ${JSON.stringify(staleRaw)} must be a number between 1 and 100`,
    );
  }
  const urlPrefix = raw('urlPrefix').trim();
  if (urlPrefix !== '' && !/^\/?[A-Za-z0-9._~\-/]*$/.test(urlPrefix)) {
    problems.push(
      `${where('urlPrefix')}: ${JSON.stringify(urlPrefix)} must be a URL path such as /scheduler`,
    );
  }
  const tlsCertFile = optional('tlsCertFile');
  const tlsKeyFile = optional('tlsKeyFile');
  if ((tlsCertFile === undefined) !== (tlsKeyFile === undefined)) {
    problems.push(`${where('tlsCertFile')} and ${where('tlsKeyFile')} must be set together`);
  }

  const url = raw('redisUrl').trim();
  let urlTls = false;
  try {
    const parsed = new URL(url);
    if (parsed.protocol !== 'redis:' && parsed.protocol !== 'rediss:') throw new Error('scheme');
    urlTls = parsed.protocol === 'rediss:';
  } catch {
    // Never echo the URL: it may hold a password.
    problems.push(`${where('redisUrl')}: must be a redis:// or rediss:// URL`);
  }
  const clusterNodes: { host: string; port: number }[] = [];
  const clusterRaw = raw('redisClusterNodes').trim();
  if (clusterRaw !== '') {
    for (const part of clusterRaw.split(',')) {
      const m = /^\s*([^\s:]+|\[[0-9a-fA-F:]+\]):(\d{1,5})\s*$/.exec(part);
      const port = m === null ? undefined : intIn(m[2] ?? '', 1, 65535);
      if (m === null || port === undefined) {
        problems.push(`${where('redisClusterNodes')}: ${JSON.stringify(part.trim())} is not host:port`);
      } else {
        clusterNodes.push({ host: (m[1] ?? '').replace(/^\[|\]$/g, ''), port });
      }
    }
  }
  const redisTlsCertFile = optional('redisTlsCertFile');
  const redisTlsKeyFile = optional('redisTlsKeyFile');
  if ((redisTlsCertFile === undefined) !== (redisTlsKeyFile === undefined)) {
    problems.push(`${where('redisTlsCertFile')} and ${where('redisTlsKeyFile')} must be set together`);
  }
  const keyPrefix = raw('redisKeyPrefix').trim();
  if (!/^[A-Za-z0-9_.:-]{1,64}$/.test(keyPrefix)) {
    problems.push(
      `${where('redisKeyPrefix')}: ${JSON.stringify(keyPrefix)} may hold only letters, digits and _.:- (1-64)`,
    );
  }

  const enumOf = <T extends string>(name: SettingName, values: readonly T[]): T => {
    const v = raw(name).trim();
    if (!(values as readonly string[]).includes(v))
      problems.push(`${where(name)}: ${JSON.stringify(v)} must be one of ${values.join(', ')}`);
    return v as T;
  };
  const kubeApi = enumOf('kubeApi', KUBE_API_MODES);
  const kubeconfig = optional('kubeconfig');
  if (kubeApi === 'kubeconfig' && kubeconfig === undefined)
    problems.push(`${where('kubeApi')} is kubeconfig but ${where('kubeconfig')} is not set`);
  const schedulerName = raw('schedulerName').trim();
  if (!/^[a-z0-9]([-a-z0-9.]*[a-z0-9])?$/.test(schedulerName) || schedulerName.length > 253)
    problems.push(
      `${where('schedulerName')}: ${JSON.stringify(schedulerName)} is not a valid scheduler name`,
    );
  const untenantedPods = enumOf('untenantedPods', UNTENANTED_RULES);
  const bindProvisionTimeoutMs = int('bindProvisionTimeoutMs', 100, 600_000);
  const reservationTtlMs = int('reservationTtlMs', 1000, 86_400_000);
  if (reservationTtlMs < bindProvisionTimeoutMs + 10_000)
    problems.push(
      `${where('reservationTtlMs')}: ${reservationTtlMs} must be at least ${where('bindProvisionTimeoutMs')} + 10000 (${bindProvisionTimeoutMs + 10_000})`,
    );
  const subnetManager = enumOf('subnetManager', SUBNET_MANAGERS);
  const ufmUrl = optional('ufmUrl');
  const ufmUsername = optional('ufmUsername');
  const ufmPassword = optional('ufmPassword');
  const ufmPasswordFile = optional('ufmPasswordFile');
  if (ufmUrl !== undefined) {
    try {
      const u = new URL(ufmUrl);
      if (u.protocol !== 'https:' && u.protocol !== 'http:') throw new Error('scheme');
      if (u.username !== '' || u.password !== '') throw new Error('credentials');
    } catch {
      problems.push(
        `${where('ufmUrl')}: must be an https:// URL without credentials (use the UFM user and password settings)`,
      );
    }
  }
  if (subnetManager === 'ufm') {
    if (ufmUrl === undefined)
      problems.push(`${where('subnetManager')} is ufm but ${where('ufmUrl')} is not set`);
    if (ufmUsername === undefined)
      problems.push(`${where('subnetManager')} is ufm but ${where('ufmUsername')} is not set`);
    if (ufmPassword === undefined && ufmPasswordFile === undefined)
      problems.push(
        `${where('subnetManager')} is ufm but neither RDMASCHED_UFM_PASSWORD nor ${where('ufmPasswordFile')} is set`,
      );
  }
  const poolStartRaw = raw('guidPoolStart').trim().toLowerCase();
  let poolStart = 0n;
  if (!isGuid(poolStartRaw))
    problems.push(
      `${where('guidPoolStart')}: ${JSON.stringify(poolStartRaw)} is not a GUID xx:xx:xx:xx:xx:xx:xx:xx`,
    );
  else poolStart = BigInt(`0x${poolStartRaw.replaceAll(':', '')}`);
  const poolSizeRaw = raw('guidPoolSize').trim();
  let poolSize = 0n;
  if (!/^\d{1,16}$/.test(poolSizeRaw) || BigInt(poolSizeRaw) < 1n || BigInt(poolSizeRaw) > 1n << 40n)
    problems.push(
      `${where('guidPoolSize')}: ${JSON.stringify(poolSizeRaw)} must be a whole number from 1 to 2^40`,
    );
  else poolSize = BigInt(poolSizeRaw);

  const config: Config = {
    help: values['help'] === true,
    listenHost: raw('listenHost').trim() || '0.0.0.0',
    listenPort: int('listenPort', 0, 65535),
    urlPrefix,
    bodyLimitBytes: int('bodyLimitBytes', 1024, 1024 * 1024 * 1024),
    packing: packing as PackingPolicy,
    staleAfterHeartbeats: stale,
    tlsCertFile,
    tlsKeyFile,
    logLevel: logLevel as LogLevel,
    shutdownTimeoutMs: int('shutdownTimeoutMs', 0, 600_000),
    redis: Object.freeze({
      url,
      clusterNodes: Object.freeze(clusterNodes),
      username: optional('redisUsername'),
      password: optional('redisPassword'),
      passwordFile: optional('redisPasswordFile'),
      tls: bool('redisTls') || urlTls,
      tlsCaFile: optional('redisTlsCaFile'),
      tlsCertFile: redisTlsCertFile,
      tlsKeyFile: redisTlsKeyFile,
      tlsServerName: optional('redisTlsServerName'),
      keyPrefix,
    }),
    tenancy: Object.freeze({
      kubeApi,
      kubeconfig,
      schedulerName,
      untenantedPods,
      bindProvisionTimeoutMs,
      reservationTtlMs,
      reconcileIntervalMs: int('reconcileIntervalMs', 1000, 86_400_000),
      leaderLeaseMs: int('leaderLeaseMs', 1000, 600_000),
      tenantStatusMinIntervalMs: int('tenantStatusMinIntervalMs', 0, 3_600_000),
      subnetManager,
      ufm: Object.freeze({
        url: ufmUrl,
        username: ufmUsername,
        password: ufmPassword,
        passwordFile: ufmPasswordFile,
        caFile: optional('ufmCaFile'),
      }),
      partitionIntervalMs: int('partitionIntervalMs', 1000, 86_400_000),
      guidPool: Object.freeze({ start: poolStart, size: poolSize }),
    }),
  };
  if (problems.length > 0) throw new ConfigError(problems);
  return Object.freeze(config);
}

export interface ConfigFiles {
  readonly https: { readonly cert: Buffer; readonly key: Buffer } | undefined;
  /** The UFM password from the file, or from the environment. */
  readonly ufmPassword: string | undefined;
  readonly ufmCa: Buffer | undefined;
  /** The Redis password from the file, or from the environment. */
  readonly redisPassword: string | undefined;
  readonly redisTls: { readonly ca?: Buffer; readonly cert?: Buffer; readonly key?: Buffer } | undefined;
}

/** Reads the files the config names; throws ConfigError listing every file it could not read. */
export async function readConfigFiles(config: Config): Promise<ConfigFiles> {
  const problems: string[] = [];
  const read = async (path: string | undefined, what: string): Promise<Buffer | undefined> => {
    if (path === undefined) return undefined;
    try {
      return await readFile(path);
    } catch (err: unknown) {
      const code = (err as NodeJS.ErrnoException).code ?? 'error';
      problems.push(`${what} ${JSON.stringify(path)} cannot be read (${code})`);
      return undefined;
    }
  };
  const [cert, key, ca, clientCert, clientKey, password, ufmPassword, ufmCa] = await Promise.all([
    read(config.tlsCertFile, 'TLS certificate'),
    read(config.tlsKeyFile, 'TLS key'),
    read(config.redis.tlsCaFile, 'Redis CA file'),
    read(config.redis.tlsCertFile, 'Redis client certificate'),
    read(config.redis.tlsKeyFile, 'Redis client key'),
    read(config.redis.passwordFile, 'Redis password file'),
    read(config.tenancy.ufm.passwordFile, 'UFM password file'),
    read(config.tenancy.ufm.caFile, 'UFM CA file'),
  ]);
  if (problems.length > 0) throw new ConfigError(problems);
  return {
    https: cert !== undefined && key !== undefined ? { cert, key } : undefined,
    ufmPassword:
      ufmPassword !== undefined
        ? ufmPassword.toString('utf8').replace(/\r?\n$/, '')
        : config.tenancy.ufm.password,
    ufmCa,
    redisPassword:
      password !== undefined ? password.toString('utf8').replace(/\r?\n$/, '') : config.redis.password,
    redisTls: config.redis.tls
      ? {
          ...(ca === undefined ? {} : { ca }),
          ...(clientCert === undefined ? {} : { cert: clientCert }),
          ...(clientKey === undefined ? {} : { key: clientKey }),
        }
      : undefined,
  };
}

/**
 * The agent daemon's configuration: parsed once from the environment and flags (flags win),
 * validated, frozen. One ConfigError lists every bad field. Secrets (Redis password) come from the
 * environment or a file only, never from a flag (flags show in `ps`), and never appear in
 * `describeConfig`.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { LINK_TYPES, isNodeName, type LinkType } from '@rdmasched/contracts';
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
  /** procfs root for the NVIDIA driver's GPU files (simulated hosts: `<simDir>/proc`). */
  readonly procRoot: string;
  readonly devicePlugin: {
    readonly enabled: boolean;
    readonly dir: string;
    readonly podResourcesSocket: string;
    readonly devRoot: string;
    readonly linkTypes: readonly LinkType[];
    readonly reconcileIntervalMs: number;
    readonly releaseGraceMs: number;
    readonly rediscoverIntervalMs: number;
  };
  /** How to reach the Kubernetes API (RdmaNodePolicy, the node's labels); `off`: config only. */
  readonly kube:
    | { readonly mode: 'off' }
    | { readonly mode: 'in-cluster' }
    | { readonly mode: 'kubeconfig'; readonly path: string };
  /** Least time between two writes of the agent's entry in a policy's status. */
  readonly policyStatusIntervalMs: number;
}

/** Every setting: environment variable, flag, default, meaning (the README's table is generated from it). */
export const CONFIG_FIELDS = [
  [
    'RDMASCHED_NODE_NAME',
    '--node-name',
    '(required)',
    'Kubernetes node name this agent reports for (downward API spec.nodeName).',
  ],
  [
    'RDMASCHED_SYSFS_ROOT',
    '--sysfs-root',
    '/sys',
    'sysfs root to read and write (`/host/sys` in the DaemonSet).',
  ],
  [
    'RDMASCHED_HOST_MODE',
    '--host',
    'linux',
    '`linux` (real sysfs + ip/devlink) or `simulated` (a tree made by `sim create`).',
  ],
  ['RDMASCHED_SIM_DIR', '--sim-dir', '', 'Directory of the simulated host (RDMASCHED_HOST_MODE=simulated).'],
  [
    'RDMASCHED_REDIS_URL',
    '--redis-url',
    'redis://127.0.0.1:6379',
    'Redis URL; `rediss://` for TLS. Credentials in the URL are accepted and never logged.',
  ],
  [
    'RDMASCHED_REDIS_CLUSTER_NODES',
    '--redis-cluster-nodes',
    '',
    'Comma-separated `host:port` seeds: use Redis Cluster instead of RDMASCHED_REDIS_URL.',
  ],
  ['RDMASCHED_REDIS_USERNAME', '--redis-username', '', 'Redis ACL user.'],
  [
    'RDMASCHED_REDIS_PASSWORD',
    '(env only)',
    '',
    'Redis password (or RDMASCHED_REDIS_PASSWORD_FILE). Never logged.',
  ],
  [
    'RDMASCHED_REDIS_PASSWORD_FILE',
    '--redis-password-file',
    '',
    'File holding the Redis password (a mounted Secret).',
  ],
  ['RDMASCHED_REDIS_TLS_CA_FILE', '--redis-tls-ca-file', '', 'CA bundle (PEM) to verify Redis; enables TLS.'],
  ['RDMASCHED_REDIS_TLS_CERT_FILE', '--redis-tls-cert-file', '', 'Client certificate (PEM) for mutual TLS.'],
  ['RDMASCHED_REDIS_TLS_KEY_FILE', '--redis-tls-key-file', '', 'Client key (PEM) for mutual TLS.'],
  [
    'RDMASCHED_REDIS_TLS_INSECURE',
    '--redis-tls-insecure',
    'false',
    'Skip verifying the Redis certificate (tests only).',
  ],
  [
    'RDMASCHED_REDIS_KEY_PREFIX',
    '--redis-key-prefix',
    'rdmasched',
    'Prefix of every key (several installations can share one Redis).',
  ],
  ['RDMASCHED_HTTP_HOST', '--http-host', '0.0.0.0', 'Address of the /metrics, /healthz, /readyz server.'],
  ['RDMASCHED_HTTP_PORT', '--http-port', '9110', 'Port of that server.'],
  ['RDMASCHED_HTTP_TLS_CERT_FILE', '--http-tls-cert-file', '', 'Serve HTTPS with this certificate (PEM)...'],
  ['RDMASCHED_HTTP_TLS_KEY_FILE', '--http-tls-key-file', '', '...and this key.'],
  [
    'RDMASCHED_HEARTBEAT_INTERVAL_MS',
    '--heartbeat-interval-ms',
    '5000',
    'Heartbeat period; the heartbeat key lives 3 periods.',
  ],
  [
    'RDMASCHED_DISCOVERY_INTERVAL_MS',
    '--discovery-interval-ms',
    '30000',
    'Re-read the host this often (a report is published only on change).',
  ],
  ['RDMASCHED_WARM_POOL_INTERVAL_MS', '--warm-pool-interval-ms', '15000', 'Warm-pool check period.'],
  [
    'RDMASCHED_MAX_VFS_PER_PF',
    '--max-vfs-per-pf',
    '0',
    'Policy maximum VFs per PF; 0 = sriov_totalvfs. Never above sriov_totalvfs.',
  ],
  ['RDMASCHED_WARM_POOL_IB_MIN', '--warm-pool-ib-min', '0', 'Free ready InfiniBand VFs to keep on the node.'],
  [
    'RDMASCHED_WARM_POOL_IB_MAX',
    '--warm-pool-ib-max',
    '',
    'Shrink idle IB PFs while more free ready VFs than this (empty: never).',
  ],
  ['RDMASCHED_WARM_POOL_ROCE_MIN', '--warm-pool-roce-min', '0', 'Free ready RoCE VFs to keep on the node.'],
  [
    'RDMASCHED_WARM_POOL_ROCE_MAX',
    '--warm-pool-roce-max',
    '',
    'Shrink idle RoCE PFs above this (empty: never).',
  ],
  [
    'RDMASCHED_GUID_POOL_START',
    '--guid-pool-start',
    DEFAULT_GUID_POOL_START,
    'First GUID of the cluster-wide pool (same on every agent).',
  ],
  [
    'RDMASCHED_GUID_POOL_SIZE',
    '--guid-pool-size',
    String(DEFAULT_GUID_POOL_SIZE),
    'Number of GUIDs in the pool (at most 2^40).',
  ],
  ['RDMASCHED_VF_DRIVER', '--vf-driver', 'mlx5_core', 'Driver VFs are bound to.'],
  [
    'RDMASCHED_VF_WAIT_TIMEOUT_MS',
    '--vf-wait-timeout-ms',
    '120000',
    'How long to wait for enabled VFs to appear and bind.',
  ],
  ['RDMASCHED_IP_PATH', '--ip-path', 'ip', 'The iproute2 `ip` binary.'],
  ['RDMASCHED_DEVLINK_PATH', '--devlink-path', 'devlink', 'The `devlink` binary.'],
  [
    'RDMASCHED_LOG_LEVEL',
    '--log-level',
    'info',
    'pino level: fatal, error, warn, info, debug, trace, silent.',
  ],
  [
    'RDMASCHED_PROC_ROOT',
    '--proc-root',
    '/proc',
    "procfs root for the NVIDIA driver's GPU files, to map GPU UUIDs to PCI addresses (`/host/proc` in the DaemonSet; simulated hosts use `<sim dir>/proc`).",
  ],
  [
    'RDMASCHED_DEVICE_PLUGIN',
    '--device-plugin',
    'on (linux), off (simulated)',
    'Serve the kubelet device plugin of the VF resources and follow the PodResources API (`on`/`off`). Off in simulated mode unless set (the simulation drives VF usage itself).',
  ],
  [
    'RDMASCHED_DEVICE_PLUGIN_DIR',
    '--device-plugin-dir',
    '/var/lib/kubelet/device-plugins',
    "The kubelet's device-plugin directory (`kubelet.sock` and the plugin sockets).",
  ],
  [
    'RDMASCHED_POD_RESOURCES_SOCKET',
    '--pod-resources-socket',
    '/var/lib/kubelet/pod-resources/kubelet.sock',
    "The kubelet's PodResources API socket (which devices containers hold).",
  ],
  [
    'RDMASCHED_DEV_ROOT',
    '--dev-root',
    '/dev',
    "Where this process sees the host's /dev (`/host/dev` in the DaemonSet).",
  ],
  [
    'RDMASCHED_DEVICE_PLUGIN_RESOURCES',
    '--device-plugin-resources',
    'ib,roce',
    'Link types whose VF resource to serve (`rdmasched.io/ib-vf`, `rdmasched.io/roce-vf`).',
  ],
  [
    'RDMASCHED_DEVICE_PLUGIN_RECONCILE_INTERVAL_MS',
    '--device-plugin-reconcile-interval-ms',
    '10000',
    'How often the PodResources API is asked which VFs and GPUs are in use.',
  ],
  [
    'RDMASCHED_DEVICE_PLUGIN_RELEASE_GRACE_MS',
    '--device-plugin-release-grace-ms',
    '30000',
    'An allocation is never released before it is this old.',
  ],
  [
    'RDMASCHED_DEVICE_PLUGIN_REDISCOVER_INTERVAL_MS',
    '--device-plugin-rediscover-interval-ms',
    '10000',
    "The device plugin's own rediscovery period (0: only the agent's discoveries).",
  ],
  [
    'RDMASCHED_KUBE_API',
    '--kube-api',
    'auto',
    '`auto` (kubeconfig when RDMASCHED_KUBECONFIG is set, in-cluster when KUBERNETES_SERVICE_HOST is, else off), `in-cluster`, `kubeconfig` or `off`. With it, provisioning settings come from the RdmaNodePolicy that selects the node.',
  ],
  ['RDMASCHED_KUBECONFIG', '--kubeconfig', '', 'kubeconfig file (for `kubeconfig` or `auto`).'],
  [
    'RDMASCHED_POLICY_STATUS_INTERVAL_MS',
    '--policy-status-interval-ms',
    '10000',
    "Least time between two writes of this node's entry in a policy's status.",
  ],
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

  const nodeName = get('RDMASCHED_NODE_NAME') ?? '';
  if (nodeName === '')
    problems.push('RDMASCHED_NODE_NAME: required (set it from the downward API, spec.nodeName)');
  else if (!isNodeName(nodeName))
    problems.push(`RDMASCHED_NODE_NAME: ${JSON.stringify(nodeName)} is not a valid node name`);

  const mode = get('RDMASCHED_HOST_MODE') ?? 'linux';
  let host: AgentConfig['host'] = { mode: 'linux', sysfsRoot: get('RDMASCHED_SYSFS_ROOT') ?? '/sys' };
  if (mode === 'simulated') {
    const simDir = get('RDMASCHED_SIM_DIR');
    if (simDir === undefined)
      problems.push('RDMASCHED_SIM_DIR: required when RDMASCHED_HOST_MODE is simulated');
    host = { mode: 'simulated', simDir: simDir ?? '' };
  } else if (mode !== 'linux') {
    problems.push(`RDMASCHED_HOST_MODE: ${JSON.stringify(mode)} must be linux or simulated`);
  }

  let password = get('RDMASCHED_REDIS_PASSWORD');
  const passwordFile = file('RDMASCHED_REDIS_PASSWORD_FILE');
  if (passwordFile !== undefined) {
    try {
      password = readFileSync(passwordFile, 'utf8').trim();
    } catch {
      problems.push(`RDMASCHED_REDIS_PASSWORD_FILE: cannot read ${passwordFile}`);
    }
  }
  const url = get('RDMASCHED_REDIS_URL') ?? 'redis://127.0.0.1:6379';
  if (!/^rediss?:\/\//.test(url)) problems.push('RDMASCHED_REDIS_URL: must start with redis:// or rediss://');
  const clusterText = get('RDMASCHED_REDIS_CLUSTER_NODES');
  const clusterNodes = clusterText?.split(',').map((s) => {
    const m = /^([A-Za-z0-9.-]+|\[[0-9a-fA-F:]+\]):([0-9]{1,5})$/.exec(s.trim());
    if (m === null || Number(m[2]) > 65535) {
      problems.push(`RDMASCHED_REDIS_CLUSTER_NODES: ${JSON.stringify(s)} is not host:port`);
      return { host: '', port: 0 };
    }
    return { host: m[1]!.replace(/^\[|\]$/g, ''), port: Number(m[2]) };
  });
  const caFile = file('RDMASCHED_REDIS_TLS_CA_FILE');
  const certFile = file('RDMASCHED_REDIS_TLS_CERT_FILE');
  const keyFile = file('RDMASCHED_REDIS_TLS_KEY_FILE');
  const insecure = bool('RDMASCHED_REDIS_TLS_INSECURE', false);
  if ((certFile === undefined) !== (keyFile === undefined))
    problems.push('RDMASCHED_REDIS_TLS_CERT_FILE / RDMASCHED_REDIS_TLS_KEY_FILE: give both or neither');
  const tlsWanted = caFile !== undefined || certFile !== undefined || insecure;
  const username = get('RDMASCHED_REDIS_USERNAME');
  const keyPrefix = get('RDMASCHED_REDIS_KEY_PREFIX') ?? 'rdmasched';
  if (!/^[A-Za-z0-9_.:-]{1,64}$/.test(keyPrefix))
    problems.push(`RDMASCHED_REDIS_KEY_PREFIX: ${JSON.stringify(keyPrefix)} is not allowed`);

  const httpCert = file('RDMASCHED_HTTP_TLS_CERT_FILE');
  const httpKey = file('RDMASCHED_HTTP_TLS_KEY_FILE');
  if ((httpCert === undefined) !== (httpKey === undefined))
    problems.push('RDMASCHED_HTTP_TLS_CERT_FILE / RDMASCHED_HTTP_TLS_KEY_FILE: give both or neither');

  const warm = {
    minReady: {
      ib: int('RDMASCHED_WARM_POOL_IB_MIN', 0, 0, 65535),
      roce: int('RDMASCHED_WARM_POOL_ROCE_MIN', 0, 0, 65535),
    },
    maxReady: {
      ib: optInt('RDMASCHED_WARM_POOL_IB_MAX', 0, 65535),
      roce: optInt('RDMASCHED_WARM_POOL_ROCE_MAX', 0, 65535),
    },
  };
  for (const lt of ['ib', 'roce'] as const) {
    const max = warm.maxReady[lt];
    if (max !== undefined && max < warm.minReady[lt])
      problems.push(
        `RDMASCHED_WARM_POOL_${lt.toUpperCase()}_MAX: ${max} is below RDMASCHED_WARM_POOL_${lt.toUpperCase()}_MIN ${warm.minReady[lt]}`,
      );
  }

  const guidStart = (get('RDMASCHED_GUID_POOL_START') ?? DEFAULT_GUID_POOL_START).toLowerCase();
  let guidSize = DEFAULT_GUID_POOL_SIZE;
  const sizeText = get('RDMASCHED_GUID_POOL_SIZE');
  if (sizeText !== undefined) {
    if (/^[0-9]{1,20}$/.test(sizeText)) guidSize = BigInt(sizeText);
    else problems.push(`RDMASCHED_GUID_POOL_SIZE: ${JSON.stringify(sizeText)} is not a number`);
  }
  for (const p of validateGuidRange(guidStart, guidSize))
    problems.push(`RDMASCHED_GUID_POOL_START / RDMASCHED_GUID_POOL_SIZE: ${p}`);

  const vfDriver = get('RDMASCHED_VF_DRIVER') ?? 'mlx5_core';
  if (vfDriver !== 'mlx5_core' && vfDriver !== 'vfio-pci')
    problems.push(`RDMASCHED_VF_DRIVER: ${JSON.stringify(vfDriver)} must be mlx5_core or vfio-pci`);
  const logLevel = get('RDMASCHED_LOG_LEVEL') ?? 'info';
  const levels = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'] as const;
  if (!(levels as readonly string[]).includes(logLevel))
    problems.push(`RDMASCHED_LOG_LEVEL: ${JSON.stringify(logLevel)} must be one of ${levels.join(', ')}`);

  const plugin = get('RDMASCHED_DEVICE_PLUGIN');
  let pluginEnabled = host.mode === 'linux';
  if (plugin !== undefined) {
    if (/^(1|true|yes|on)$/i.test(plugin)) pluginEnabled = true;
    else if (/^(0|false|no|off)$/i.test(plugin)) pluginEnabled = false;
    else problems.push(`RDMASCHED_DEVICE_PLUGIN: ${JSON.stringify(plugin)} must be on or off`);
  }
  const resourcesText = get('RDMASCHED_DEVICE_PLUGIN_RESOURCES') ?? 'ib,roce';
  const pluginLinkTypes: LinkType[] = [];
  for (const t of resourcesText.split(',').map((x) => x.trim())) {
    if ((LINK_TYPES as readonly string[]).includes(t)) {
      if (!pluginLinkTypes.includes(t as LinkType)) pluginLinkTypes.push(t as LinkType);
    } else problems.push(`RDMASCHED_DEVICE_PLUGIN_RESOURCES: ${JSON.stringify(t)} is not ib or roce`);
  }
  const kubeMode = get('RDMASCHED_KUBE_API') ?? 'auto';
  const kubeconfig = get('RDMASCHED_KUBECONFIG');
  let kube: AgentConfig['kube'] = { mode: 'off' };
  if (kubeMode === 'auto') {
    if (kubeconfig !== undefined) kube = { mode: 'kubeconfig', path: kubeconfig };
    else if ((env['KUBERNETES_SERVICE_HOST'] ?? '') !== '') kube = { mode: 'in-cluster' };
  } else if (kubeMode === 'in-cluster') kube = { mode: 'in-cluster' };
  else if (kubeMode === 'kubeconfig') {
    if (kubeconfig === undefined)
      problems.push('RDMASCHED_KUBECONFIG: required when RDMASCHED_KUBE_API is kubeconfig');
    kube = { mode: 'kubeconfig', path: kubeconfig ?? '' };
  } else if (kubeMode !== 'off')
    problems.push(
      `RDMASCHED_KUBE_API: ${JSON.stringify(kubeMode)} must be auto, in-cluster, kubeconfig or off`,
    );

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
      host: get('RDMASCHED_HTTP_HOST') ?? '0.0.0.0',
      port: int('RDMASCHED_HTTP_PORT', 9110, 0, 65535),
      ...(httpCert !== undefined && httpKey !== undefined
        ? { tls: { certFile: httpCert, keyFile: httpKey } }
        : {}),
    },
    heartbeatIntervalMs: int('RDMASCHED_HEARTBEAT_INTERVAL_MS', 5_000, 100, 3_600_000),
    discoveryIntervalMs: int('RDMASCHED_DISCOVERY_INTERVAL_MS', 30_000, 100, 86_400_000),
    warmPoolIntervalMs: int('RDMASCHED_WARM_POOL_INTERVAL_MS', 15_000, 100, 86_400_000),
    maxVfsPerPf: int('RDMASCHED_MAX_VFS_PER_PF', 0, 0, 65535),
    warmPool: warm,
    guidPool: { start: guidStart, size: guidSize },
    vfDriver,
    vfWaitTimeoutMs: int('RDMASCHED_VF_WAIT_TIMEOUT_MS', 120_000, 100, 3_600_000),
    ipPath: get('RDMASCHED_IP_PATH') ?? 'ip',
    devlinkPath: get('RDMASCHED_DEVLINK_PATH') ?? 'devlink',
    logLevel: logLevel as AgentConfig['logLevel'],
    procRoot: get('RDMASCHED_PROC_ROOT') ?? (host.mode === 'simulated' ? join(host.simDir, 'proc') : '/proc'),
    devicePlugin: {
      enabled: pluginEnabled,
      dir: get('RDMASCHED_DEVICE_PLUGIN_DIR') ?? '/var/lib/kubelet/device-plugins',
      podResourcesSocket:
        get('RDMASCHED_POD_RESOURCES_SOCKET') ?? '/var/lib/kubelet/pod-resources/kubelet.sock',
      devRoot: get('RDMASCHED_DEV_ROOT') ?? '/dev',
      linkTypes: pluginLinkTypes,
      reconcileIntervalMs: int('RDMASCHED_DEVICE_PLUGIN_RECONCILE_INTERVAL_MS', 10_000, 100, 3_600_000),
      releaseGraceMs: int('RDMASCHED_DEVICE_PLUGIN_RELEASE_GRACE_MS', 30_000, 0, 3_600_000),
      rediscoverIntervalMs: int('RDMASCHED_DEVICE_PLUGIN_REDISCOVER_INTERVAL_MS', 10_000, 0, 3_600_000),
    },
    kube,
    policyStatusIntervalMs: int('RDMASCHED_POLICY_STATUS_INTERVAL_MS', 10_000, 100, 3_600_000),
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
    procRoot: c.procRoot,
    devicePlugin: c.devicePlugin,
    kube: c.kube,
    policyStatusIntervalMs: c.policyStatusIntervalMs,
  };
}

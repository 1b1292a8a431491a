/**
 * The composition root of the agent daemon: wires the adapters chosen by the configuration,
 * starts the agent and its HTTP server (0.0.0.0), and stops both on SIGTERM/SIGINT.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { KubeConfig } from '@kubernetes/client-node';
import { pino, type Logger } from 'pino';
import { Registry, collectDefaultMetrics } from 'prom-client';
import { RedisKeys } from '@rdmasched/contracts';
import { FsSysfsReader } from './adapters/fs/fs-sysfs-reader.js';
import { KubePolicySource, KubePolicyStatusWriter } from './adapters/kube/kube-policy.js';
import { NodeCommandExecutor } from './adapters/linux/node-command-executor.js';
import { SysfsHost } from './adapters/linux/sysfs-host.js';
import { InMemoryVfUsage } from './adapters/memory/in-memory-vf-usage.js';
import { connectRedis } from './adapters/redis/connection.js';
import { RedisGuidPool } from './adapters/redis/redis-guid-pool.js';
import { RedisLedger } from './adapters/redis/redis-ledger.js';
import {
  RedisAgentStateStore,
  RedisProvisionQueue,
  RedisReportStore,
} from './adapters/redis/redis-stores.js';
import { SimulatedHost } from './adapters/sim/simulated-host.js';
import { describeConfig, type AgentConfig } from './config.js';
import { PodResourcesClient } from './device-plugin/allocated-devices.js';
import { KubeletGpuUsage } from './device-plugin/gpu-allocations.js';
import { LedgerPodUidResolver } from './device-plugin/ledger-pod-uids.js';
import { DevicePluginManager } from './device-plugin/manager.js';
import { LedgerReservationHints } from './device-plugin/reservation-hints.js';
import { DevicePluginVfUsage } from './device-plugin/vf-usage.js';
import { buildApp } from './http/app.js';
import type { HostControl } from './ports/host-control.js';
import type { Discovery } from './discovery/types.js';
import type { SysfsReader } from './ports/sysfs-reader.js';
import { NodeAgent } from './services/node-agent.js';
import { AGENT_VERSION } from './version.js';

export interface RunningAgent {
  readonly agent: NodeAgent;
  /** The device plugin's usage (device plugin on), or an in-memory one driven by nobody (off). */
  readonly usage: DevicePluginVfUsage | InMemoryVfUsage;
  /** The kubelet device plugins, when on. */
  readonly devicePlugin: DevicePluginManager | undefined;
  /** Where the HTTP server listens. */
  readonly address: string;
  stop(): Promise<void>;
}

/** Starts the daemon; resolves once it listens. */
export async function startAgent(
  config: AgentConfig,
  logger: Logger = pino({ level: config.logLevel }),
): Promise<RunningAgent> {
  logger.info({ config: describeConfig(config) }, 'starting rdmasched node agent');
  const keys = new RedisKeys({ prefix: config.redis.keyPrefix });
  const conn = connectRedis(config.redis);
  let reader: SysfsReader;
  let host: HostControl;
  if (config.host.mode === 'simulated') {
    const sim = SimulatedHost.open(config.host.simDir);
    reader = sim.reader();
    host = sim;
  } else {
    reader = new FsSysfsReader(config.host.sysfsRoot);
    host = new SysfsHost({
      sysfsRoot: config.host.sysfsRoot,
      executor: new NodeCommandExecutor(),
      ipPath: config.ipPath,
      devlinkPath: config.devlinkPath,
    });
  }
  const registry = new Registry();
  collectDefaultMetrics({ register: registry, prefix: 'rdmasched_agent_' });
  const ledger = new RedisLedger(conn.client, keys);
  // The device plugin owns VF usage on a real node (ADR 0050); the PodResources API also says
  // which pods hold VFs (named through the ledger, ADR 0024) and which GPUs are allocated.
  let usage: DevicePluginVfUsage | InMemoryVfUsage;
  let plugins: DevicePluginManager | undefined;
  let hints: LedgerReservationHints | undefined;
  let gpuUsage: KubeletGpuUsage | undefined;
  if (config.devicePlugin.enabled) {
    const dp = config.devicePlugin;
    const pluginLog = logger.child({ component: 'device-plugin' });
    const pluginUsage = new DevicePluginVfUsage();
    usage = pluginUsage;
    hints = new LedgerReservationHints({ ledger, nodeName: config.nodeName, usage, logger: pluginLog });
    const podUids = new LedgerPodUidResolver({ ledger, nodeName: config.nodeName, logger: pluginLog });
    const gpus = new KubeletGpuUsage({ proc: new FsSysfsReader(config.procRoot), logger: pluginLog });
    gpuUsage = gpus;
    plugins = new DevicePluginManager({
      reader,
      pluginDir: dp.dir,
      devRoot: dp.devRoot,
      linkTypes: dp.linkTypes,
      usage: pluginUsage,
      allocatedDevices: new PodResourcesClient({ socketPath: dp.podResourcesSocket }),
      reservationHints: hints,
      reconcileIntervalMs: dp.reconcileIntervalMs,
      releaseGraceMs: dp.releaseGraceMs,
      rediscoverIntervalMs: dp.rediscoverIntervalMs,
      resolvePodUid: (namespace, name) => podUids.resolve(namespace, name),
      onKubeletAssignments: (list) => gpus.applyKubeletView(list),
      registry,
      logger: pluginLog,
    });
  } else {
    usage = new InMemoryVfUsage();
  }
  // RdmaNodePolicy: with a Kubernetes API, the policies that select this node decide (README).
  let policy: KubePolicySource | undefined;
  let policyStatus: KubePolicyStatusWriter | undefined;
  if (config.kube.mode !== 'off') {
    const kc = new KubeConfig();
    if (config.kube.mode === 'in-cluster') kc.loadFromCluster();
    else kc.loadFromFile(config.kube.path);
    policy = new KubePolicySource({
      kubeConfig: kc,
      nodeName: config.nodeName,
      logger: logger.child({ component: 'node-policy' }),
    });
    policyStatus = new KubePolicyStatusWriter({ kubeConfig: kc });
  }
  const agent = new NodeAgent({
    nodeName: config.nodeName,
    agentVersion: AGENT_VERSION,
    reader,
    host,
    usage,
    ledger,
    ...(gpuUsage === undefined ? {} : { gpuUsage }),
    ...(policy === undefined ? {} : { policy }),
    ...(policyStatus === undefined ? {} : { policyStatus }),
    policyStatusIntervalMs: config.policyStatusIntervalMs,
    ...(plugins === undefined ? {} : { onDiscovery: (d: Discovery) => plugins.update(d) }),
    pool: new RedisGuidPool(conn.client, keys, config.guidPool),
    stateStore: new RedisAgentStateStore(conn.client, keys),
    reportStore: new RedisReportStore(conn.client, keys),
    queue: new RedisProvisionQueue({
      client: conn.client,
      blockingClient: conn.duplicate(),
      keys,
      node: config.nodeName,
    }),
    registry,
    logger,
    heartbeatIntervalMs: config.heartbeatIntervalMs,
    discoveryIntervalMs: config.discoveryIntervalMs,
    warmPoolIntervalMs: config.warmPoolIntervalMs,
    queueBlockMs: 2_000,
    warmPool: config.warmPool,
    maxVfsPerPf: config.maxVfsPerPf,
    vfDriver: config.vfDriver,
    vfWaitTimeoutMs: config.vfWaitTimeoutMs,
    vfPollIntervalMs: config.host.mode === 'simulated' ? 20 : 500,
    storeEvents: conn,
  });
  const app = buildApp({
    registry,
    health: {
      ready: () => agent.isReady(),
      details: () => ({
        recovered: agent.recovered,
        reportInRedis: agent.reporter.inSync,
        generation: agent.reporter.generation,
      }),
    },
    ...(config.http.tls === undefined
      ? {}
      : {
          https: { cert: readFileSync(config.http.tls.certFile), key: readFileSync(config.http.tls.keyFile) },
        }),
  });
  // Until the policies and the node are read, no PF is managed (nothing written): see node-policy.ts.
  await policy?.start();
  if (plugins !== undefined) {
    hints?.start();
    await plugins.start();
    // Before the agent starts: recovery may lock PFs, and locks are refused until the kubelet
    // said which VFs are in use (an empty memory after a restart is not "nothing in use").
    const synced = await Promise.race([plugins.whenSynced().then(() => true), sleep(10_000, false)]);
    if (!synced)
      logger.info(
        { releaseGraceMs: config.devicePlugin.releaseGraceMs },
        'VFs in use not confirmed by the kubelet yet (it is asked again; PF resizes wait for it)',
      );
  }
  await agent.start();
  const address = await app.listen({ host: config.http.host, port: config.http.port });
  logger.info(
    {
      address,
      sysfs: config.host.mode === 'simulated' ? join(config.host.simDir, 'sys') : config.host.sysfsRoot,
    },
    'agent listening',
  );
  let stopped: Promise<void> | undefined;
  return {
    agent,
    usage,
    devicePlugin: plugins,
    address,
    stop() {
      stopped ??= (async () => {
        logger.info('stopping');
        await agent.stop();
        await policy?.stop();
        hints?.stop();
        await plugins?.stop();
        await app.close();
        await conn.close();
        logger.info('stopped');
      })();
      return stopped;
    },
  };
}

/** Runs until SIGTERM/SIGINT, then stops gracefully. */
export async function runUntilSignal(config: AgentConfig): Promise<void> {
  const logger = pino({ level: config.logLevel });
  const running = await startAgent(config, logger);
  await new Promise<void>((resolve) => {
    const onSignal = (signal: NodeJS.Signals) => {
      logger.info({ signal }, 'signal received');
      process.off('SIGTERM', onSignal);
      process.off('SIGINT', onSignal);
      void running.stop().then(resolve, resolve);
    };
    process.on('SIGTERM', onSignal);
    process.on('SIGINT', onSignal);
  });
}

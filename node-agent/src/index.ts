/**
 * The node agent as a library: what a composition root needs to run agents in-process (the
 * one-machine simulation runs thousands), besides the `rdmasched-agent` daemon. See the README's
 * "Programmatic API".
 */
// Simulated hosts and agents on them
export {
  EMBEDDED_AGENT_DEFAULTS,
  EmbeddedAgent,
  createSimulatedHost,
  type EmbeddedAgentOptions,
  type EmbeddedAgentPorts,
  type EmbeddedAgentSettings,
  type SimulatedHostRequest,
  type VfAllocationOutcome,
} from './embedded.js';
export {
  SimulatedHost,
  type CreateHostOptions,
  type HostEvent,
  type SimulatedHostOptions,
  type WriteFault,
} from './adapters/sim/simulated-host.js';
export { MEMORY_HOST_DIR, SimulatedHostTemplates } from './adapters/sim/templates.js';
export { PRESETS, presetSpec, type Preset, type PresetOptions } from './adapters/sim/presets.js';
export {
  SpecError,
  parseHostSpec,
  validateHostSpec,
  walkDevices,
  type HostSpec,
} from './adapters/sim/spec.js';
export { MemoryFs } from './adapters/fs/memory-fs.js';
export { NODE_FS, type SimFs, type SimFsPromises, type SimFsStats } from './adapters/fs/sim-fs.js';
export { FsSysfsReader } from './adapters/fs/fs-sysfs-reader.js';

// The agent and its ports
export { NodeAgent, type NodeAgentOptions } from './services/node-agent.js';
export type { AgentStateStore } from './ports/agent-state-store.js';
export { systemClock, type Clock } from './ports/clock.js';
export type { GuidPool } from './ports/guid-pool.js';
export { NO_GPU_USAGE, type GpuUsage } from './ports/gpu-usage.js';
export type { HostControl } from './ports/host-control.js';
export { AGENT_CLAIM_OWNER, type AgentLedger, type ClaimOutcome, type NodeHolds } from './ports/ledger.js';
export type { ProvisionQueue, QueueEntry } from './ports/provision-queue.js';
export type { ReportStore } from './ports/report-store.js';
export type { SysfsReader } from './ports/sysfs-reader.js';
export type { VfAllocation, VfUsage } from './ports/vf-usage.js';
export type { WarmPoolPolicy } from './core/warm-pool.js';
export { discover } from './discovery/discover.js';
export type { Discovery, DiscoveredGpu, DiscoveredPf, DiscoveredVf } from './discovery/types.js';

// RdmaNodePolicy
export {
  effectiveSettings,
  type ConfigSettings,
  type EffectiveSettings,
  type PfSettings,
  type PolicyView,
} from './core/node-policy.js';
export type {
  PolicyNodeEntry,
  PolicySource,
  PolicyStatusWriter,
  StatusWriteOutcome,
} from './ports/policy-source.js';
export { KubePolicySource, KubePolicyStatusWriter } from './adapters/kube/kube-policy.js';
export {
  InMemoryPolicySource,
  InMemoryPolicyStatusWriter,
} from './adapters/memory/in-memory-policy-source.js';

// In-memory adapters (the embedded store of the simulation, tests)
export { InMemoryLedger } from './adapters/memory/in-memory-ledger.js';
export { InMemoryGuidPool } from './adapters/memory/in-memory-guid-pool.js';
export {
  InMemoryAgentStateStore,
  InMemoryProvisionQueue,
  InMemoryReportStore,
} from './adapters/memory/in-memory-stores.js';
export { InMemoryVfUsage } from './adapters/memory/in-memory-vf-usage.js';
export { InMemoryGpuUsage } from './adapters/memory/in-memory-gpu-usage.js';

// Redis adapters (the simulation with REDIS_URL)
export {
  connectRedis,
  type RedisConnection,
  type RedisConnectionOptions,
} from './adapters/redis/connection.js';
export { RedisLedger } from './adapters/redis/redis-ledger.js';
export { RedisGuidPool } from './adapters/redis/redis-guid-pool.js';
export {
  RedisAgentStateStore,
  RedisProvisionQueue,
  RedisReportStore,
} from './adapters/redis/redis-stores.js';
export { DEFAULT_GUID_POOL_SIZE, DEFAULT_GUID_POOL_START, type GuidRange } from './core/identity.js';

// The daemon
export { parseConfig, type AgentConfig } from './config.js';
export { startAgent, type RunningAgent } from './main.js';
export { AGENT_VERSION } from './version.js';

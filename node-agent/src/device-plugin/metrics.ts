/**
 * The device plugin's metrics, on the agent's injected Registry. Labels are bounded: two resource
 * names, two health values, the failure codes of codes.ts, a few results.
 */
import { Counter, Gauge, type Registry } from 'prom-client';
import { ALLOCATE_FAILURE_CODES, type AllocateFailureCode } from './codes.js';

const P = 'rdmasched_agent_device_plugin_';

export class DevicePluginMetrics {
  readonly allocations: Counter<'resource'>;
  readonly allocatedVfs: Counter<'resource'>;
  readonly allocationFailures: Counter<'resource' | 'reason'>;
  readonly preferredAllocations: Counter<'resource'>;
  readonly devices: Gauge<'resource' | 'health'>;
  readonly vfsInUse: Gauge<'resource'>;
  readonly registrations: Counter<'resource' | 'result'>;
  readonly reconciles: Counter<'result'>;
  readonly releasedVfs: Counter<'resource'>;

  constructor(registry: Registry, resources: readonly string[]) {
    const registers = [registry];
    this.allocations = new Counter({
      name: `${P}allocations_total`,
      help: 'Allocate container requests answered with devices, by resource.',
      labelNames: ['resource'] as const,
      registers,
    });
    this.allocatedVfs = new Counter({
      name: `${P}allocated_vfs_total`,
      help: 'VFs handed to containers by Allocate, by resource.',
      labelNames: ['resource'] as const,
      registers,
    });
    this.allocationFailures = new Counter({
      name: `${P}allocation_failures_total`,
      help: 'Allocate requests refused, by resource and reason (codes in the device plugin README).',
      labelNames: ['resource', 'reason'] as const,
      registers,
    });
    this.preferredAllocations = new Counter({
      name: `${P}preferred_allocations_total`,
      help: 'GetPreferredAllocation container requests answered, by resource.',
      labelNames: ['resource'] as const,
      registers,
    });
    this.devices = new Gauge({
      name: `${P}devices`,
      help: 'Devices advertised to the kubelet, by resource and health (Healthy/Unhealthy).',
      labelNames: ['resource', 'health'] as const,
      registers,
    });
    this.vfsInUse = new Gauge({
      name: `${P}vfs_in_use`,
      help: 'VFs allocated to containers as the plugin knows it (Allocate + PodResources reconcile).',
      labelNames: ['resource'] as const,
      registers,
    });
    this.registrations = new Counter({
      name: `${P}registrations_total`,
      help: 'Register calls to the kubelet, by resource and result (ok/error).',
      labelNames: ['resource', 'result'] as const,
      registers,
    });
    this.reconciles = new Counter({
      name: `${P}reconciles_total`,
      help: 'Reconciles with the kubelet PodResources API, by result (ok/error).',
      labelNames: ['result'] as const,
      registers,
    });
    this.releasedVfs = new Counter({
      name: `${P}released_vfs_total`,
      help: 'VFs found released by reconcile (the kubelet no longer lists them), by resource.',
      labelNames: ['resource'] as const,
      registers,
    });
    // Every series exists from the start, so rates and dashboards work before the first event.
    for (const resource of resources) {
      this.allocations.inc({ resource }, 0);
      this.allocatedVfs.inc({ resource }, 0);
      this.preferredAllocations.inc({ resource }, 0);
      this.releasedVfs.inc({ resource }, 0);
      this.vfsInUse.set({ resource }, 0);
      for (const health of ['Healthy', 'Unhealthy']) this.devices.set({ resource, health }, 0);
      for (const result of ['ok', 'error']) this.registrations.inc({ resource, result }, 0);
      for (const reason of Object.keys(ALLOCATE_FAILURE_CODES) as AllocateFailureCode[])
        this.allocationFailures.inc({ resource, reason }, 0);
    }
    for (const result of ['ok', 'error']) this.reconciles.inc({ result }, 0);
  }
}

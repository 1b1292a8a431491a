/**
 * The kubelet device plugin of the node agent (README.md in this folder). The agent's main wires
 * `DevicePluginManager`; the rest is exported for tests, the simulation and other adapters.
 */
export * from './api.js';
export * from './codes.js';
export * from './inventory.js';
export * from './preferred-allocation.js';
export * from './char-devices.js';
export * from './vf-usage.js';
export * from './reservation-hints.js';
export * from './allocated-devices.js';
export * from './reconcile.js';
export * from './metrics.js';
export * from './directory-watcher.js';
export * from './server.js';
export * from './manager.js';
export * from './gpu-allocations.js';
export * from './ledger-pod-uids.js';

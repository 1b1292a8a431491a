export * from './resources.js';
export * from './pci.js';
export * from './topology.js';
export * from './node-report.js';
export * from './redis-keys.js';
export * from './events.js';
export * from './provisioning.js';
export * from './reservation.js';

export * from './quantity.js';
export * from './pod-resources.js';
export * from './sampling.js';
export * from './node-cache.js';
export * from './in-tree.js';
export * from './extender-client.js';
export * from './driver.js';
export * from './queue.js';

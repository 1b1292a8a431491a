export * from './devices.js';
export * from './executables.js';
export * from './exit-codes.js';
export * from './io.js';
export * from './plan.js';
export * from './process.js';
export * from './run-local.js';

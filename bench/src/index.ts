export * from './results.js';
export * from './benchmark.js';
export * from './command.js';

export * from './port-rate.js';
export * from './thresholds.js';
export * from './pair.js';
export * from './endpoint.js';
export * from './verdict.js';
export * from './format.js';

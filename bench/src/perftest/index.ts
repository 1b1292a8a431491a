export * from './units.js';
export * from './types.js';
export * from './errors.js';
export { parsePerftestText } from './text-parser.js';
export { parsePerftestJson, repairPerftestJson, type JsonParseOptions } from './json-parser.js';
export * from './parse.js';
export { NOISE_PATTERNS, type NoisePattern } from './noise.js';

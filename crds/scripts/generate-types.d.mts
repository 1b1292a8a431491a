// Types for generate-types.mjs, so the drift test can import it.
import type { CustomResourceDefinition } from '../src/crd-manifest.js';

export interface GeneratedFile {
  /** Relative to crds/, e.g. `src/generated/types.ts`. */
  readonly path: string;
  readonly content: string;
}

export function readCrdManifests(): Promise<{ file: string; crd: CustomResourceDefinition }[]>;
export function generate(): Promise<GeneratedFile[]>;

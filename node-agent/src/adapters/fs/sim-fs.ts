/**
 * The filesystem a simulated host lives in and `FsSysfsReader` reads: a node:fs-compatible object
 * (`node:fs` itself by default, or a `MemoryFs`), injected instead of imported, so thousands of
 * simulated hosts can live in memory in one process while discovery still goes through the same
 * reader code over a faithful tree (relative kernfs links, newline-terminated values).
 *
 * Only the calls the reader and the simulated kernel make are listed; `node:fs` satisfies the
 * interface as it is.
 */
import * as nodeFs from 'node:fs';

export interface SimFsStats {
  isDirectory(): boolean;
  isFile(): boolean;
  isSymbolicLink(): boolean;
  /** Permission and type bits (`st_mode`). */
  readonly mode: number;
}

/** The asynchronous calls of the reader (`fs/promises` shape). */
export interface SimFsPromises {
  readFile(path: string, options: { encoding: 'utf8' }): Promise<string>;
  readdir(path: string): Promise<string[]>;
  readlink(path: string): Promise<string>;
  realpath(path: string): Promise<string>;
  stat(path: string): Promise<SimFsStats>;
}

/** The synchronous calls of the simulated kernel (it applies one change at a time). */
export interface SimFs {
  mkdirSync(path: string, options?: { recursive?: boolean }): unknown;
  rmSync(path: string, options?: { recursive?: boolean; force?: boolean }): void;
  symlinkSync(target: string, path: string): void;
  writeFileSync(path: string, data: string | Uint8Array): void;
  readFileSync(path: string, encoding: 'utf8'): string;
  readdirSync(path: string): string[];
  readlinkSync(path: string): string;
  realpathSync(path: string): string;
  lstatSync(path: string): SimFsStats;
  statSync(path: string): SimFsStats;
  chmodSync(path: string, mode: number): void;
  renameSync(from: string, to: string): void;
  readonly promises: SimFsPromises;
}

/** The host's own filesystem. */
export const NODE_FS: SimFs = nodeFs;

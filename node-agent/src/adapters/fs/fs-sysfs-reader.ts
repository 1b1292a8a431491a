import { isAbsolute, join, resolve, sep } from 'node:path';
import type { SysfsReader } from '../../ports/sysfs-reader.js';
import { NODE_FS, type SimFsPromises } from './sim-fs.js';

/** Refuses paths that could leave the root: absolute, `..`, NUL, empty components. */
export function isSafeRelativePath(path: string): boolean {
  if (path === '') return true;
  if (isAbsolute(path) || path.includes('\0')) return false;
  return path.split('/').every((c) => c !== '' && c !== '.' && c !== '..');
}

/**
 * The one sysfs reader, for Linux and for simulated trees: plain reads, readlink and realpath on a
 * directory tree under `root`, in the host's filesystem (`node:fs`, the default) or in a
 * node:fs-compatible one (a simulated host in memory, `MemoryFs`). Reads are capped (sysfs
 * attributes are at most a page).
 */
export class FsSysfsReader implements SysfsReader {
  readonly root: string;
  readonly #fs: SimFsPromises;
  #rootReal: Promise<string> | undefined;

  constructor(root: string, fs: SimFsPromises = NODE_FS.promises) {
    this.root = resolve(root);
    this.#fs = fs;
  }

  #abs(path: string): string | undefined {
    return isSafeRelativePath(path) ? (path === '' ? this.root : join(this.root, path)) : undefined;
  }

  async read(path: string): Promise<string | undefined> {
    const abs = this.#abs(path);
    if (abs === undefined) return undefined;
    try {
      const text = await this.#fs.readFile(abs, { encoding: 'utf8' });
      const capped = text.length > 65_536 ? text.slice(0, 65_536) : text;
      return capped.endsWith('\n') ? capped.slice(0, -1) : capped;
    } catch {
      return undefined;
    }
  }

  async readLink(path: string): Promise<string | undefined> {
    const abs = this.#abs(path);
    if (abs === undefined) return undefined;
    try {
      return await this.#fs.readlink(abs);
    } catch {
      return undefined;
    }
  }

  async realPath(path: string): Promise<string | undefined> {
    const abs = this.#abs(path);
    if (abs === undefined) return undefined;
    try {
      this.#rootReal ??= this.#fs.realpath(this.root);
      const [rootReal, real] = await Promise.all([this.#rootReal, this.#fs.realpath(abs)]);
      if (real === rootReal) return '';
      if (!real.startsWith(rootReal + sep)) return undefined;
      return real
        .slice(rootReal.length + 1)
        .split(sep)
        .join('/');
    } catch {
      this.#rootReal = undefined;
      return undefined;
    }
  }

  async list(path: string): Promise<string[]> {
    const abs = this.#abs(path);
    if (abs === undefined) return [];
    try {
      return (await this.#fs.readdir(abs)).sort();
    } catch {
      return [];
    }
  }

  async exists(path: string): Promise<boolean> {
    const abs = this.#abs(path);
    if (abs === undefined) return false;
    try {
      await this.#fs.stat(abs);
      return true;
    } catch {
      return false;
    }
  }
}

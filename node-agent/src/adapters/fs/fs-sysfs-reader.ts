import { readFile, readdir, readlink, realpath, stat } from 'node:fs/promises';
import { isAbsolute, join, resolve, sep } from 'node:path';
import type { SysfsReader } from '../../ports/sysfs-reader.js';

/** Refuses paths that could leave the root: absolute, `..`, NUL, empty components. */
export function isSafeRelativePath(path: string): boolean {
  if (path === '') return true;
  if (isAbsolute(path) || path.includes('\0')) return false;
  return path.split('/').every((c) => c !== '' && c !== '.' && c !== '..');
}

/**
 * The one sysfs reader, for Linux and for simulated trees: plain reads, readlink and realpath on a
 * real directory tree under `root`. Reads are capped (sysfs attributes are at most a page).
 */
export class FsSysfsReader implements SysfsReader {
  readonly root: string;
  #rootReal: Promise<string> | undefined;

  constructor(root: string) {
    this.root = resolve(root);
  }

  #abs(path: string): string | undefined {
    return isSafeRelativePath(path) ? (path === '' ? this.root : join(this.root, path)) : undefined;
  }

  async read(path: string): Promise<string | undefined> {
    const abs = this.#abs(path);
    if (abs === undefined) return undefined;
    try {
      const text = await readFile(abs, { encoding: 'utf8' });
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
      return await readlink(abs);
    } catch {
      return undefined;
    }
  }

  async realPath(path: string): Promise<string | undefined> {
    const abs = this.#abs(path);
    if (abs === undefined) return undefined;
    try {
      this.#rootReal ??= realpath(this.root);
      const [rootReal, real] = await Promise.all([this.#rootReal, realpath(abs)]);
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
      return (await readdir(abs)).sort();
    } catch {
      return [];
    }
  }

  async exists(path: string): Promise<boolean> {
    const abs = this.#abs(path);
    if (abs === undefined) return false;
    try {
      await stat(abs);
      return true;
    } catch {
      return false;
    }
  }
}

/**
 * Small filesystem helpers that write a sysfs tree the way the kernel presents it: attribute
 * values end with a newline, symlinks are relative in kernfs style. Synchronous on purpose: the
 * simulated kernel applies one write at a time, as the real one holds the device lock. They work
 * on an injected node:fs-compatible filesystem (the host's disk, or a `MemoryFs`).
 */
import { dirname, relative, sep } from 'node:path';
import { join } from 'node:path';
import type { SimFs } from '../fs/sim-fs.js';

/**
 * The relative target kernfs gives a symlink at `linkPath` pointing to `target`: climb from the
 * link's directory to the common ancestor with the *target's parent*, then descend. So
 * `<pf>/net/ib0/device` -> `../../../0000:1a:00.0` (not `../..`), and `virtfn0` -> `../0000:1a:00.1`.
 */
export function kernfsLinkTarget(linkPath: string, target: string): string {
  const from = dirname(linkPath).split(sep);
  const to = dirname(target).split(sep);
  let common = 0;
  while (common < from.length && common < to.length && from[common] === to[common]) common++;
  const ancestor = from.slice(0, common).join(sep) || sep;
  const up = from.length - common;
  return [...Array<string>(up).fill('..'), relative(ancestor, target)].join('/');
}

export class Kernfs {
  constructor(readonly fs: SimFs) {}

  /** Writes an attribute: the value plus one trailing newline (sysfs_emit's `%s\n`). */
  writeAttr(path: string, value: string | number, mode?: number): void {
    this.fs.writeFileSync(path, `${value}\n`);
    if (mode !== undefined) this.fs.chmodSync(path, mode);
  }

  /** Writes several attributes of one directory, creating it. */
  writeAttrs(dir: string, attrs: Readonly<Record<string, string | number>>): void {
    this.fs.mkdirSync(dir, { recursive: true });
    for (const [name, value] of Object.entries(attrs)) this.fs.writeFileSync(join(dir, name), `${value}\n`);
  }

  /** A write-only attribute (bind, unbind, drivers_probe, ...): present, empty, mode 0200. */
  writeOnlyAttr(path: string): void {
    this.fs.writeFileSync(path, '');
    this.fs.chmodSync(path, 0o200);
  }

  /** Creates (or replaces) a kernfs-style relative symlink. */
  link(linkPath: string, target: string): void {
    this.fs.mkdirSync(dirname(linkPath), { recursive: true });
    this.fs.rmSync(linkPath, { force: true });
    this.fs.symlinkSync(kernfsLinkTarget(linkPath, target), linkPath);
  }

  isLink(path: string): boolean {
    try {
      return this.fs.lstatSync(path).isSymbolicLink();
    } catch {
      return false;
    }
  }

  exists(path: string): boolean {
    try {
      this.fs.lstatSync(path);
      return true;
    } catch {
      return false;
    }
  }

  readLinkOrUndefined(path: string): string | undefined {
    try {
      return this.fs.readlinkSync(path);
    } catch {
      return undefined;
    }
  }

  /** Reads an attribute without its trailing newline; undefined when absent. */
  readAttr(path: string): string | undefined {
    try {
      const t = this.fs.readFileSync(path, 'utf8');
      return t.endsWith('\n') ? t.slice(0, -1) : t;
    } catch {
      return undefined;
    }
  }

  listDir(path: string): string[] {
    try {
      return this.fs.readdirSync(path).sort();
    } catch {
      return [];
    }
  }

  removeTree(path: string): void {
    this.fs.rmSync(path, { recursive: true, force: true });
  }
}

/**
 * Small filesystem helpers that write a sysfs tree the way the kernel presents it: attribute
 * values end with a newline, symlinks are relative in kernfs style. Synchronous on purpose: the
 * simulated kernel applies one write at a time, as the real one holds the device lock.
 */
import {
  mkdirSync,
  rmSync,
  symlinkSync,
  writeFileSync,
  lstatSync,
  readlinkSync,
  readFileSync,
  readdirSync,
  chmodSync,
} from 'node:fs';
import { dirname, join, relative, sep } from 'node:path';

/** Writes an attribute: the value plus one trailing newline (sysfs_emit's `%s\n`). */
export function writeAttr(path: string, value: string | number, mode?: number): void {
  writeFileSync(path, `${value}\n`);
  if (mode !== undefined) chmodSync(path, mode);
}

/** Writes several attributes of one directory, creating it. */
export function writeAttrs(dir: string, attrs: Readonly<Record<string, string | number>>): void {
  mkdirSync(dir, { recursive: true });
  for (const [name, value] of Object.entries(attrs)) writeAttr(join(dir, name), value);
}

/** A write-only attribute (bind, unbind, drivers_probe, ...): present, empty, mode 0200. */
export function writeOnlyAttr(path: string): void {
  writeFileSync(path, '');
  chmodSync(path, 0o200);
}

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

/** Creates (or replaces) a kernfs-style relative symlink. */
export function kernfsLink(linkPath: string, target: string): void {
  mkdirSync(dirname(linkPath), { recursive: true });
  rmSync(linkPath, { force: true });
  symlinkSync(kernfsLinkTarget(linkPath, target), linkPath);
}

export function isLink(path: string): boolean {
  try {
    return lstatSync(path).isSymbolicLink();
  } catch {
    return false;
  }
}

export function exists(path: string): boolean {
  try {
    lstatSync(path);
    return true;
  } catch {
    return false;
  }
}

export function readLinkOrUndefined(path: string): string | undefined {
  try {
    return readlinkSync(path);
  } catch {
    return undefined;
  }
}

/** Reads an attribute without its trailing newline; undefined when absent. */
export function readAttr(path: string): string | undefined {
  try {
    const t = readFileSync(path, 'utf8');
    return t.endsWith('\n') ? t.slice(0, -1) : t;
  } catch {
    return undefined;
  }
}

export function listDir(path: string): string[] {
  try {
    return readdirSync(path).sort();
  } catch {
    return [];
  }
}

export function removeTree(path: string): void {
  rmSync(path, { recursive: true, force: true });
}

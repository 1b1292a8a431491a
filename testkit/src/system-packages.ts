import { execFile } from 'node:child_process';
import { access, constants } from 'node:fs/promises';
import { delimiter, join } from 'node:path';
import { promisify } from 'node:util';

const execFileAsync = promisify(execFile);

/** Finds an executable on PATH (and in /usr/sbin, where Debian puts some servers). */
export async function findExecutable(name: string): Promise<string | undefined> {
  const dirs = [...(process.env['PATH'] ?? '').split(delimiter), '/usr/sbin', '/usr/bin', '/usr/local/bin'];
  for (const dir of dirs) {
    if (dir === '') continue;
    const candidate = join(dir, name);
    try {
      await access(candidate, constants.X_OK);
      return candidate;
    } catch {
      // not here; keep looking
    }
  }
  return undefined;
}

export interface EnsureExecutableOptions {
  /** The executable to look for, e.g. `redis-server`. */
  readonly executable: string;
  /** The Debian package that provides it, e.g. `redis-server`. */
  readonly debianPackage: string;
  /** Called with a line of progress for the person running the tests. */
  readonly log?: (line: string) => void;
}

/**
 * Returns the path of `executable`, installing `debianPackage` with apt-get when it is missing.
 * Throws an error that says what to do by hand when it cannot install (no root, no apt-get, no network).
 */
export async function ensureExecutable(opts: EnsureExecutableOptions): Promise<string> {
  const found = await findExecutable(opts.executable);
  if (found !== undefined) return found;
  const log = opts.log ?? (() => undefined);
  const aptGet = await findExecutable('apt-get');
  const manual = `install it by hand: apt-get install -y ${opts.debianPackage}`;
  if (aptGet === undefined) {
    throw new Error(`${opts.executable} is not installed and apt-get is not available; ${manual}`);
  }
  if (typeof process.getuid === 'function' && process.getuid() !== 0) {
    throw new Error(`${opts.executable} is not installed and installing it needs root; ${manual}`);
  }
  const env = { ...process.env, DEBIAN_FRONTEND: 'noninteractive' };
  const install = () =>
    execFileAsync(aptGet, ['install', '-y', '--no-install-recommends', opts.debianPackage], {
      env,
      maxBuffer: 64 * 1024 * 1024,
    });
  log(`${opts.executable} not found: installing Debian package ${opts.debianPackage} with apt-get`);
  try {
    await install();
  } catch {
    // The package lists may be missing or stale on a fresh machine: refresh once and retry.
    try {
      await execFileAsync(aptGet, ['update'], { env, maxBuffer: 64 * 1024 * 1024 });
      await install();
    } catch (err: unknown) {
      throw new Error(`could not install ${opts.debianPackage} with apt-get; ${manual}`, { cause: err });
    }
  }
  const installed = await findExecutable(opts.executable);
  if (installed === undefined) {
    throw new Error(`apt-get installed ${opts.debianPackage} but ${opts.executable} is still not on PATH`);
  }
  log(`installed ${opts.debianPackage}: ${installed}`);
  return installed;
}

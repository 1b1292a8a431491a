/**
 * A small in-memory POSIX filesystem with the node:fs calls of `SimFs`, made for thousands of
 * simulated hosts in one process. Directories, regular files (text or bytes) and symbolic links;
 * paths are absolute and resolved like the kernel does (relative link targets, `..` on the real
 * path, ELOOP after 40 links), errors are node-style (`code` ENOENT, ENOTDIR, EEXIST, EISDIR,
 * EINVAL, ELOOP).
 *
 * Why not memfs: measured here, a DGX-H100-like host (about 4,000 entries) took 6 MB of heap and
 * 80 ms to build in memfs, so 5,000 hosts would need 30 GB (docs/adr/0025). This one shares:
 * `clone()` is O(1) and copies a directory only when it is first changed (path copying), so a
 * host made from a template costs only what differs from it.
 *
 * Owner ids make the sharing safe: a directory is changed in place only by the filesystem whose
 * id it carries; any other copies it (and its ancestors) first. Files and links are immutable
 * values, replaced on write. Permissions are stored, not enforced (the simulated host runs as root).
 */
import { posix } from 'node:path';
import type { SimFs, SimFsPromises, SimFsStats } from './sim-fs.js';

class MemDir {
  constructor(
    public owner: number,
    readonly entries: Map<string, MemNode>,
    public mode = 0o755,
  ) {}
}
class MemFile {
  constructor(
    readonly data: string | Uint8Array,
    readonly mode: number,
  ) {}
}
class MemLink {
  constructor(readonly target: string) {}
}
type MemNode = MemDir | MemFile | MemLink;

let nextOwner = 1;
const MAX_LINKS = 40;

function fsError(code: string, syscall: string, path: string, message: string): Error {
  return Object.assign(new Error(`${code}: ${message}, ${syscall} '${path}'`), { code, syscall, path });
}

class Stats implements SimFsStats {
  constructor(readonly node: MemNode) {}
  isDirectory(): boolean {
    return this.node instanceof MemDir;
  }
  isFile(): boolean {
    return this.node instanceof MemFile;
  }
  isSymbolicLink(): boolean {
    return this.node instanceof MemLink;
  }
  get mode(): number {
    return this.node instanceof MemLink ? 0o777 : this.node.mode;
  }
}

interface Resolved {
  readonly node: MemNode;
  /** Components of the real path (no links). */
  readonly real: readonly string[];
}

const decoder = new TextDecoder();

export class MemoryFs implements SimFs {
  #root: MemDir;
  #id: number;
  readonly promises: SimFsPromises;

  constructor(root?: MemDir) {
    this.#id = nextOwner++;
    this.#root = root ?? new MemDir(this.#id, new Map());
    const p =
      <A extends unknown[], R>(fn: (...a: A) => R) =>
      (...a: A): Promise<R> => {
        try {
          return Promise.resolve(fn(...a));
        } catch (err: unknown) {
          return Promise.reject(err instanceof Error ? err : new Error(String(err)));
        }
      };
    this.promises = {
      readFile: p((path: string, o: { encoding: 'utf8' }) => this.readFileSync(path, o.encoding)),
      readdir: p((path: string) => this.readdirSync(path)),
      readlink: p((path: string) => this.readlinkSync(path)),
      realpath: p((path: string) => this.realpathSync(path)),
      stat: p((path: string): SimFsStats => this.statSync(path)),
    };
  }

  /**
   * A filesystem with the same content, sharing every node until one side changes it. O(1). Both
   * this one and the clone copy shared directories before their next change.
   */
  clone(): MemoryFs {
    this.#id = nextOwner++;
    return new MemoryFs(this.#root);
  }

  // ---------------------------------------------------------------- resolution

  #components(path: string, syscall: string): string[] {
    if (!path.startsWith('/')) throw fsError('EINVAL', syscall, path, 'path must be absolute');
    return path.split('/').filter((c) => c !== '' && c !== '.');
  }

  /** Walks `path` from the root, following links (the last one only when `followLast`). */
  #resolve(path: string, followLast: boolean, syscall: string): Resolved {
    const queue = this.#components(path, syscall);
    const nodes: MemNode[] = [this.#root];
    const real: string[] = [];
    let links = 0;
    while (queue.length > 0) {
      const name = queue.shift() ?? '';
      if (name === '..') {
        if (real.length > 0) {
          real.pop();
          nodes.pop();
        }
        continue;
      }
      const cur = nodes[nodes.length - 1];
      if (!(cur instanceof MemDir)) throw fsError('ENOTDIR', syscall, path, 'not a directory');
      const child = cur.entries.get(name);
      if (child === undefined) throw fsError('ENOENT', syscall, path, 'no such file or directory');
      if (child instanceof MemLink && (queue.length > 0 || followLast)) {
        if (++links > MAX_LINKS) throw fsError('ELOOP', syscall, path, 'too many levels of symbolic links');
        const target = child.target.split('/').filter((c) => c !== '' && c !== '.');
        if (child.target.startsWith('/')) {
          real.length = 0;
          nodes.length = 1;
        }
        queue.unshift(...target);
        continue;
      }
      real.push(name);
      nodes.push(child);
    }
    const node = nodes[nodes.length - 1];
    if (node === undefined) throw fsError('ENOENT', syscall, path, 'no such file or directory');
    return { node, real };
  }

  /** The directory at `real` (no links), made owned by this filesystem (copied on first change). */
  #own(real: readonly string[]): MemDir {
    if (this.#root.owner !== this.#id)
      this.#root = new MemDir(this.#id, new Map(this.#root.entries), this.#root.mode);
    let dir = this.#root;
    for (const name of real) {
      const child = dir.entries.get(name);
      if (!(child instanceof MemDir)) throw new Error(`memory-fs: ${name} is not a directory (bug)`);
      let owned = child;
      if (child.owner !== this.#id) {
        owned = new MemDir(this.#id, new Map(child.entries), child.mode);
        dir.entries.set(name, owned);
      }
      dir = owned;
    }
    return dir;
  }

  /** The parent directory of `path` (links followed), owned, and the last component. */
  #parent(path: string, syscall: string): { dir: MemDir; name: string; real: readonly string[] } {
    const parts = this.#components(path, syscall);
    const name = parts.pop();
    if (name === undefined || name === '..') throw fsError('EINVAL', syscall, path, 'invalid path');
    const parent = this.#resolve(`/${parts.join('/')}`, true, syscall);
    if (!(parent.node instanceof MemDir)) throw fsError('ENOTDIR', syscall, path, 'not a directory');
    return { dir: this.#own(parent.real), name, real: parent.real };
  }

  #tryResolve(path: string, followLast: boolean): Resolved | undefined {
    try {
      return this.#resolve(path, followLast, 'stat');
    } catch {
      return undefined;
    }
  }

  // ---------------------------------------------------------------- SimFs

  mkdirSync(path: string, options: { recursive?: boolean } = {}): undefined {
    if (options.recursive === true) {
      const parts = this.#components(path, 'mkdir');
      for (let i = 1; i <= parts.length; i++) {
        const sub = `/${parts.slice(0, i).join('/')}`;
        const found = this.#tryResolve(sub, true);
        if (found === undefined) this.mkdirSync(sub);
        else if (!(found.node instanceof MemDir))
          throw fsError('EEXIST', 'mkdir', path, 'file already exists');
      }
      return undefined;
    }
    const { dir, name } = this.#parent(path, 'mkdir');
    if (dir.entries.has(name)) throw fsError('EEXIST', 'mkdir', path, 'file already exists');
    dir.entries.set(name, new MemDir(this.#id, new Map()));
    return undefined;
  }

  rmSync(path: string, options: { recursive?: boolean; force?: boolean } = {}): void {
    let parent;
    try {
      parent = this.#parent(path, 'rm');
    } catch (err: unknown) {
      if (options.force === true && (err as { code?: string }).code === 'ENOENT') return;
      throw err;
    }
    const node = parent.dir.entries.get(parent.name);
    if (node === undefined) {
      if (options.force === true) return;
      throw fsError('ENOENT', 'rm', path, 'no such file or directory');
    }
    if (node instanceof MemDir && options.recursive !== true)
      throw Object.assign(new Error(`Path is a directory: rm returned EISDIR (is a directory) ${path}`), {
        code: 'ERR_FS_EISDIR',
      });
    parent.dir.entries.delete(parent.name);
  }

  symlinkSync(target: string, path: string): void {
    const { dir, name } = this.#parent(path, 'symlink');
    if (dir.entries.has(name)) throw fsError('EEXIST', 'symlink', path, 'file already exists');
    dir.entries.set(name, new MemLink(target));
  }

  writeFileSync(path: string, data: string | Uint8Array): void {
    const { dir, name, real } = this.#parent(path, 'open');
    const cur = dir.entries.get(name);
    if (cur instanceof MemLink) {
      // open(2) follows a final link; a dangling one creates its target.
      const target = cur.target.startsWith('/') ? cur.target : posix.join('/', ...real, cur.target);
      this.writeFileSync(target, data);
      return;
    }
    if (cur instanceof MemDir) throw fsError('EISDIR', 'open', path, 'illegal operation on a directory');
    dir.entries.set(
      name,
      new MemFile(typeof data === 'string' ? data : Uint8Array.from(data), cur?.mode ?? 0o644),
    );
  }

  readFileSync(path: string, _encoding: 'utf8'): string {
    const { node } = this.#resolve(path, true, 'open');
    if (node instanceof MemDir) throw fsError('EISDIR', 'read', path, 'illegal operation on a directory');
    if (!(node instanceof MemFile)) throw fsError('ENOENT', 'open', path, 'no such file or directory');
    return typeof node.data === 'string' ? node.data : decoder.decode(node.data);
  }

  readdirSync(path: string): string[] {
    const { node } = this.#resolve(path, true, 'scandir');
    if (!(node instanceof MemDir)) throw fsError('ENOTDIR', 'scandir', path, 'not a directory');
    return [...node.entries.keys()];
  }

  readlinkSync(path: string): string {
    const { node } = this.#resolve(path, false, 'readlink');
    if (!(node instanceof MemLink)) throw fsError('EINVAL', 'readlink', path, 'invalid argument');
    return node.target;
  }

  realpathSync(path: string): string {
    return `/${this.#resolve(path, true, 'realpath').real.join('/')}`;
  }

  lstatSync(path: string): SimFsStats {
    return new Stats(this.#resolve(path, false, 'lstat').node);
  }

  statSync(path: string): SimFsStats {
    return new Stats(this.#resolve(path, true, 'stat').node);
  }

  chmodSync(path: string, mode: number): void {
    const { real, node } = this.#resolve(path, true, 'chmod');
    if (node instanceof MemDir) {
      this.#own(real).mode = mode;
      return;
    }
    const parent = this.#own(real.slice(0, -1));
    const name = real[real.length - 1] ?? '';
    if (node instanceof MemFile) parent.entries.set(name, new MemFile(node.data, mode));
  }

  renameSync(from: string, to: string): void {
    const src = this.#parent(from, 'rename');
    const node = src.dir.entries.get(src.name);
    if (node === undefined) throw fsError('ENOENT', 'rename', from, 'no such file or directory');
    const dst = this.#parent(to, 'rename');
    // #parent may have copied the source's directory (a shared ancestor): look it up again.
    const srcDir = this.#parent(from, 'rename').dir;
    srcDir.entries.delete(src.name);
    dst.dir.entries.set(dst.name, node);
  }

  /**
   * Every entry under `path` (not followed when a link), parents before children, with file
   * contents as stored (bytes stay bytes): what a copy to another filesystem needs.
   */
  *entries(path: string): Generator<
    | { readonly path: string; readonly kind: 'dir'; readonly mode: number }
    | {
        readonly path: string;
        readonly kind: 'file';
        readonly data: string | Uint8Array;
        readonly mode: number;
      }
    | { readonly path: string; readonly kind: 'link'; readonly target: string }
  > {
    const walk = function* (
      node: MemNode,
      at: string,
    ): Generator<
      | { readonly path: string; readonly kind: 'dir'; readonly mode: number }
      | {
          readonly path: string;
          readonly kind: 'file';
          readonly data: string | Uint8Array;
          readonly mode: number;
        }
      | { readonly path: string; readonly kind: 'link'; readonly target: string }
    > {
      if (node instanceof MemLink) yield { path: at, kind: 'link', target: node.target };
      else if (node instanceof MemFile) yield { path: at, kind: 'file', data: node.data, mode: node.mode };
      else {
        yield { path: at, kind: 'dir', mode: node.mode };
        for (const [name, child] of node.entries) yield* walk(child, `${at}/${name}`);
      }
    };
    yield* walk(this.#resolve(path, false, 'scandir').node, path.replace(/\/+$/, ''));
  }

  existsSync(path: string): boolean {
    return this.#tryResolve(path, true) !== undefined;
  }
}

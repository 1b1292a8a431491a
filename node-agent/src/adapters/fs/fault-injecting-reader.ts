import type { SysfsReader } from '../../ports/sysfs-reader.js';

/** A read fault: paths matching `path` fail with `errno` (as a real kernel attribute can). */
export interface ReadFault {
  readonly path: RegExp;
  readonly errno: string;
}

export interface ReadFaultOptions {
  readonly faults?: readonly ReadFault[];
  /** Added to every operation, to imitate a slow host. */
  readonly delayMs?: number;
}

/**
 * Wraps a reader so that chosen attributes fail to read (e.g. `gid_attrs/ndevs/<i>` answers
 * EINVAL on real IB ports), which a plain file cannot do. Failing reads are answered exactly as the
 * inner reader answers errors: "no value". `failures` counts them, for tests.
 */
export class FaultInjectingReader implements SysfsReader {
  readonly root: string;
  readonly failures: { path: string; errno: string }[] = [];

  constructor(
    private readonly inner: SysfsReader,
    private readonly opts: ReadFaultOptions,
  ) {
    this.root = inner.root;
  }

  async #gate(path: string): Promise<boolean> {
    if (this.opts.delayMs !== undefined && this.opts.delayMs > 0)
      await new Promise((r) => setTimeout(r, this.opts.delayMs));
    const fault = this.opts.faults?.find((f) => f.path.test(path));
    if (fault === undefined) return true;
    this.failures.push({ path, errno: fault.errno });
    return false;
  }

  async read(path: string): Promise<string | undefined> {
    return (await this.#gate(path)) ? this.inner.read(path) : undefined;
  }
  async readLink(path: string): Promise<string | undefined> {
    return (await this.#gate(path)) ? this.inner.readLink(path) : undefined;
  }
  async realPath(path: string): Promise<string | undefined> {
    return (await this.#gate(path)) ? this.inner.realPath(path) : undefined;
  }
  async list(path: string): Promise<string[]> {
    return (await this.#gate(path)) ? this.inner.list(path) : [];
  }
  async exists(path: string): Promise<boolean> {
    return (await this.#gate(path)) ? this.inner.exists(path) : false;
  }
}

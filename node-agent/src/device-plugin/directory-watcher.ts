/**
 * Watches the kubelet's device-plugins directory: the kubelet announces a restart by deleting the
 * plugin sockets in it and creating `kubelet.sock` again. `fs.watch` gives the events at once; a
 * slow periodic check (default every 5 s) covers filesystems where inotify events get lost and a
 * directory that does not exist yet. Listeners are called (coalesced) after every change and tick.
 */
import { watch, type FSWatcher } from 'node:fs';
import type { Logger } from 'pino';

export interface DirectoryWatcherOptions {
  readonly dir: string;
  /** Period of the fallback check (default 5000 ms; 0 = events only). */
  readonly checkIntervalMs?: number;
  /** Events within this window are delivered once (default 50 ms). */
  readonly coalesceMs?: number;
  readonly logger: Logger;
}

export class DirectoryWatcher {
  readonly #listeners = new Set<() => void>();
  #fsWatcher: FSWatcher | undefined;
  #interval: NodeJS.Timeout | undefined;
  #pending: NodeJS.Timeout | undefined;
  #running = false;

  constructor(private readonly opts: DirectoryWatcherOptions) {}

  onChange(listener: () => void): () => void {
    this.#listeners.add(listener);
    return () => this.#listeners.delete(listener);
  }

  start(): void {
    if (this.#running) return;
    this.#running = true;
    this.#watch();
    const every = this.opts.checkIntervalMs ?? 5_000;
    if (every > 0) {
      this.#interval = setInterval(() => {
        if (this.#fsWatcher === undefined) this.#watch();
        this.#fire();
      }, every);
      this.#interval.unref();
    }
  }

  stop(): void {
    this.#running = false;
    this.#fsWatcher?.close();
    this.#fsWatcher = undefined;
    clearInterval(this.#interval);
    clearTimeout(this.#pending);
    this.#interval = undefined;
    this.#pending = undefined;
  }

  #watch(): void {
    try {
      const w = watch(this.opts.dir, { persistent: false }, () => this.#schedule());
      w.on('error', (err) => {
        this.opts.logger.debug({ dir: this.opts.dir, err: err.message }, 'directory watch ended; polling');
        w.close();
        if (this.#fsWatcher === w) this.#fsWatcher = undefined;
        this.#schedule();
      });
      this.#fsWatcher = w;
    } catch (err: unknown) {
      // The directory does not exist (yet): the periodic check retries.
      this.opts.logger.debug(
        { dir: this.opts.dir, err: err instanceof Error ? err.message : String(err) },
        'cannot watch directory yet',
      );
    }
  }

  #schedule(): void {
    if (!this.#running || this.#pending !== undefined) return;
    this.#pending = setTimeout(() => {
      this.#pending = undefined;
      this.#fire();
    }, this.opts.coalesceMs ?? 50);
    this.#pending.unref();
  }

  #fire(): void {
    if (!this.#running) return;
    for (const l of [...this.#listeners]) l();
  }
}

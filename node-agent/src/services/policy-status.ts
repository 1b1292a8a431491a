/**
 * Keeps this node's entry in the status of every RdmaNodePolicy that selects it true: the PFs the
 * policy governs here, the configured VFs on them, the last error, the generation applied. An
 * entry is removed from a policy that no longer selects the node. Off the hot path: offers are
 * cheap and synchronous; writes run in the background, one at a time, and each policy is written
 * at most once per `minIntervalMs` (a later change waits for the interval, the newest wins).
 */
import type { Logger } from 'pino';
import type { EffectiveSettings } from '../core/node-policy.js';
import type { Discovery } from '../discovery/types.js';
import type { Clock } from '../ports/clock.js';
import type { PolicyNodeEntry, PolicyStatusWriter } from '../ports/policy-source.js';

export interface PolicyStatusReporterOptions {
  readonly nodeName: string;
  readonly writer: PolicyStatusWriter;
  readonly minIntervalMs: number;
  readonly clock: Clock;
  readonly logger: Logger;
}

/** The entries this node should have, by policy name (pure). */
export function desiredEntries(
  nodeName: string,
  eff: EffectiveSettings,
  d: Discovery,
  pfErrors: ReadonlyMap<string, string>,
): Map<string, PolicyNodeEntry> {
  const out = new Map<string, PolicyNodeEntry>();
  for (const p of eff.selecting) {
    const name = p.metadata.name ?? '';
    const pfs = d.pfs
      .filter((pf) => eff.pfs.get(pf.pciAddress)?.policy === name)
      .map((pf) => pf.pciAddress)
      .sort();
    const vfsReady = d.pfs
      .filter((pf) => pfs.includes(pf.pciAddress))
      .reduce((s, pf) => s + pf.vfs.filter((v) => v.configured).length, 0);
    const errors = [
      ...(eff.problems.get(name) ?? []),
      ...pfs
        .flatMap((pf) => [pfErrors.get(pf), pfErrors.get(`${pf}#mtu`)])
        .filter((e): e is string => e !== undefined),
    ];
    out.set(name, {
      nodeName,
      pfs: pfs.slice(0, 64),
      vfsReady,
      lastError: errors.join('; ').slice(0, 1024),
      observedGeneration: p.metadata.generation ?? 0,
    });
  }
  return out;
}

export class PolicyStatusReporter {
  readonly #o: PolicyStatusReporterOptions;
  /** What the API holds for us, as far as we know (null: removed). */
  readonly #written = new Map<string, string | null>();
  readonly #wanted = new Map<string, PolicyNodeEntry | null>();
  readonly #lastWriteMs = new Map<string, number>();
  #timer: NodeJS.Timeout | undefined;
  #chain: Promise<void> = Promise.resolve();
  #stopped = false;

  constructor(opts: PolicyStatusReporterOptions) {
    this.#o = opts;
  }

  /** The state now; whatever differs from what was written gets written (rate-limited). */
  offer(
    eff: EffectiveSettings,
    d: Discovery,
    pfErrors: ReadonlyMap<string, string>,
    /** Policies that do not select the node but still list it (e.g. relabelled while the agent was down). */
    staleIn: readonly string[] = [],
  ): void {
    if (eff.source === 'waiting') return; // do not remove entries before the policies are read
    const desired = desiredEntries(this.#o.nodeName, eff, d, pfErrors);
    for (const [name, entry] of desired) this.#wanted.set(name, entry);
    for (const [name, text] of this.#written)
      if (!desired.has(name) && text !== null) this.#wanted.set(name, null);
    for (const name of staleIn)
      if (!desired.has(name) && this.#written.get(name) !== null) this.#wanted.set(name, null);
    this.#schedule();
  }

  /** Resolves when every wanted write was attempted (tests, shutdown). */
  async flush(): Promise<void> {
    clearTimeout(this.#timer);
    this.#timer = undefined;
    this.#drain(true);
    await this.#chain;
  }

  async stop(): Promise<void> {
    this.#stopped = true;
    clearTimeout(this.#timer);
    await this.#chain;
  }

  #schedule(): void {
    if (this.#stopped) return;
    const now = this.#o.clock.nowMs();
    let waitMs = Infinity;
    for (const [name, entry] of this.#wanted) {
      if (this.#written.get(name) === (entry === null ? null : JSON.stringify(entry))) {
        this.#wanted.delete(name);
        continue;
      }
      waitMs = Math.min(
        waitMs,
        Math.max(0, (this.#lastWriteMs.get(name) ?? -Infinity) + this.#o.minIntervalMs - now),
      );
    }
    if (waitMs === Infinity) return;
    if (waitMs === 0) {
      this.#drain(false);
      return;
    }
    if (this.#timer !== undefined) return;
    this.#timer = setTimeout(() => {
      this.#timer = undefined;
      this.#schedule();
    }, waitMs);
    this.#timer.unref();
  }

  #drain(all: boolean): void {
    const now = this.#o.clock.nowMs();
    for (const [name, entry] of [...this.#wanted]) {
      if (!all && (this.#lastWriteMs.get(name) ?? -Infinity) + this.#o.minIntervalMs > now) continue;
      this.#wanted.delete(name);
      this.#lastWriteMs.set(name, now);
      const text = entry === null ? null : JSON.stringify(entry);
      this.#chain = this.#chain.then(async () => {
        try {
          const outcome = await this.#o.writer.write(name, this.#o.nodeName, entry);
          this.#written.set(name, outcome === 'gone' ? null : text);
          if (outcome === 'written')
            this.#o.logger.debug({ policy: name, removed: entry === null }, 'policy status entry written');
        } catch (err: unknown) {
          this.#o.logger.warn(
            { policy: name, err: err instanceof Error ? err.message : String(err) },
            'could not write the policy status; will try again',
          );
          // Try again after the interval, unless something newer is wanted meanwhile.
          if (!this.#wanted.has(name)) this.#wanted.set(name, entry);
          this.#schedule();
        }
      });
    }
    if (this.#wanted.size > 0) this.#schedule();
  }
}

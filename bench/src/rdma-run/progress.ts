/**
 * Progress of a run on stderr: a cli-progress bar on a terminal, plain lines otherwise (CI logs,
 * `2> file`), where every phase change is one line and a long wait repeats its line now and then.
 */
import { MultiBar, Presets, type SingleBar } from 'cli-progress';
import type { CommandIo } from '../rdma-local/io.js';

export interface Progress {
  /** Total perftest runs planned. */
  start(total: number): void;
  /** What is happening now (`pair 1/3 node-a -> node-b: server pod Pending (scheduling)`). */
  phase(text: string): void;
  /** Runs finished (measured or failed). */
  advance(runs: number): void;
  /** A message that must stay visible (warnings, results). */
  log(line: string): void;
  stop(): void;
}

/** Plain lines, for logs and tests: a phase is printed when it changes, or again after `repeatMs`. */
export class LineProgress implements Progress {
  private total = 0;
  private done = 0;
  private last = '';
  private lastAt = 0;

  constructor(
    private readonly io: CommandIo,
    private readonly now: () => number = () => Date.now(),
    private readonly repeatMs = 30_000,
  ) {}

  start(total: number): void {
    this.total = total;
    this.io.err(`running ${total} perftest run${total === 1 ? '' : 's'}`);
  }

  phase(text: string): void {
    const t = this.now();
    if (text === this.last && t - this.lastAt < this.repeatMs) return;
    this.last = text;
    this.lastAt = t;
    this.io.err(`[${this.done}/${this.total}] ${text}`);
  }

  advance(runs: number): void {
    this.done = Math.min(this.total, this.done + runs);
  }

  log(line: string): void {
    this.io.err(line);
  }

  stop(): void {
    this.io.err(`[${this.done}/${this.total}] finished`);
  }
}

/** A bar on a terminal; messages are printed above it. */
export class BarProgress implements Progress {
  private readonly multi: MultiBar;
  private bar: SingleBar | undefined;
  private text = '';

  constructor(stream: NodeJS.WritableStream = process.stderr) {
    this.multi = new MultiBar(
      {
        stream,
        format: ' {bar} {value}/{total} runs | {phase}',
        hideCursor: true,
        clearOnComplete: false,
        etaBuffer: 20,
      },
      Presets.shades_classic,
    );
  }

  start(total: number): void {
    this.bar = this.multi.create(total, 0, { phase: 'starting' });
  }

  phase(text: string): void {
    this.text = text;
    this.bar?.update({ phase: text });
  }

  advance(runs: number): void {
    this.bar?.increment(runs, { phase: this.text });
  }

  log(line: string): void {
    this.multi.log(`${line}\n`);
  }

  stop(): void {
    // Messages are printed with the next redraw: draw once more so none is lost.
    this.multi.update();
    this.multi.stop();
  }
}

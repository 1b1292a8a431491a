/**
 * Progress while the simulation runs: a bar per phase on a terminal (cli-progress), plain lines
 * otherwise (CI logs, pipes), never more than one line per few seconds per phase.
 */
import cliProgress from 'cli-progress';

export interface Progress {
  /** Starts a phase with `total` steps. */
  phase(name: string, total: number): void;
  update(done: number, detail?: string): void;
  /** Ends the current phase. */
  end(detail?: string): void;
  /** A line of its own (endpoints, warnings). */
  note(line: string): void;
}

export const SILENT_PROGRESS: Progress = {
  phase: () => undefined,
  update: () => undefined,
  end: () => undefined,
  note: () => undefined,
};

class BarProgress implements Progress {
  private bar: cliProgress.SingleBar | undefined;
  constructor(private readonly stream: NodeJS.WriteStream) {}
  phase(name: string, total: number): void {
    this.end();
    this.bar = new cliProgress.SingleBar(
      {
        format: `${name.padEnd(22)} [{bar}] {percentage}% {value}/{total} {detail}`,
        stream: this.stream,
        hideCursor: true,
        clearOnComplete: false,
        etaBuffer: 50,
      },
      cliProgress.Presets.shades_classic,
    );
    this.bar.start(Math.max(1, total), 0, { detail: '' });
  }
  update(done: number, detail = ''): void {
    this.bar?.update(done, { detail });
  }
  end(detail?: string): void {
    if (this.bar === undefined) return;
    if (detail !== undefined) this.bar.update({ detail });
    this.bar.stop();
    this.bar = undefined;
  }
  note(line: string): void {
    const active = this.bar;
    if (active !== undefined) {
      this.stream.write('\n');
    }
    this.stream.write(`${line}\n`);
  }
}

class LineProgress implements Progress {
  private name = '';
  private total = 1;
  private lastAt = 0;
  private lastDone = -1;
  constructor(private readonly write: (line: string) => void) {}
  phase(name: string, total: number): void {
    this.name = name;
    this.total = Math.max(1, total);
    this.lastAt = 0;
    this.lastDone = -1;
    this.write(`${name}: 0/${this.total}`);
  }
  update(done: number, detail = ''): void {
    const now = Date.now();
    if (done === this.lastDone || now - this.lastAt < 2000) return;
    this.lastAt = now;
    this.lastDone = done;
    this.write(`${this.name}: ${done}/${this.total}${detail === '' ? '' : ` ${detail}`}`);
  }
  end(detail?: string): void {
    if (this.name === '') return;
    this.write(`${this.name}: done${detail === undefined || detail === '' ? '' : ` (${detail})`}`);
    this.name = '';
  }
  note(line: string): void {
    this.write(line);
  }
}

/** A bar when `stream` is a terminal (and `plain` is not set), plain lines otherwise. */
export function createProgress(stream: NodeJS.WriteStream, plain: boolean | undefined): Progress {
  if (plain !== true && stream.isTTY === true) return new BarProgress(stream);
  return new LineProgress((line) => stream.write(`${line}\n`));
}

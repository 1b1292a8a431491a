/**
 * What the HTTP benchmarks (extender.ts, bind.ts) share: servers in child processes that say when
 * they are ready, a timed POST over a keep-alive agent, and the statistics of the samples.
 */
import { fork, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { request, type Agent } from 'node:http';
import { fileURLToPath } from 'node:url';

/** One POST: milliseconds from the request to the end of the answer, its status and its body. */
export interface PostAnswer {
  readonly ms: number;
  readonly status: number | undefined;
  readonly body: Buffer;
}

export function post(agent: Agent, url: string, body: string | Buffer): Promise<PostAnswer> {
  return new Promise((resolve, reject) => {
    const started = process.hrtime.bigint();
    const req = request(
      url,
      {
        method: 'POST',
        agent,
        headers: { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) },
      },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (chunk: Buffer) => chunks.push(chunk));
        res.on('end', () =>
          resolve({
            ms: Number(process.hrtime.bigint() - started) / 1e6,
            status: res.statusCode,
            body: Buffer.concat(chunks),
          }),
        );
        res.on('error', reject);
      },
    );
    req.on('error', reject);
    req.end(body);
  });
}

/**
 * Starts `script` (a module next to the caller) in a child process with an IPC channel and waits
 * for its first message, which says it is ready; `exitedMessage` is the error when it exits first.
 */
export async function forkReady<T>(
  script: URL,
  args: readonly string[],
  exitedMessage: string,
): Promise<{ child: ChildProcess; ready: T }> {
  const child = fork(fileURLToPath(script), [...args], { stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
  const [ready] = (await Promise.race([
    once(child, 'message'),
    once(child, 'exit').then(() => {
      throw new Error(exitedMessage);
    }),
  ])) as [T];
  return { child, ready };
}

/** The nearest-rank percentile (`q` in [0, 1]) of the samples; NaN when there are none. */
export function percentile(samples: readonly number[], q: number): number {
  const s = [...samples].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.max(0, Math.ceil(q * s.length) - 1))] ?? NaN;
}

/** Three decimals, as the figures are reported. */
export function round(v: number): number {
  return Math.round(v * 1000) / 1000;
}

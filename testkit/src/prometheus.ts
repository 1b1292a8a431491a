import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { freePort } from './free-port.js';
import { ensureExecutable } from './system-packages.js';

/** A real Prometheus server started for an end-to-end test, scraping the given targets. */
export interface PrometheusHandle {
  readonly url: string;
  /** Instant query; returns the result vector (empty when the query has no data). */
  query(promql: string): Promise<PromSample[]>;
  /** Waits until every configured target has been scraped successfully at least once. */
  waitForTargetsUp(timeoutMs?: number): Promise<void>;
  stop(): Promise<void>;
}

export interface PromSample {
  readonly metric: Record<string, string>;
  readonly value: number;
}

export interface ScrapeJob {
  readonly jobName: string;
  /** host:port of each target. */
  readonly targets: readonly string[];
  readonly metricsPath?: string;
}

export interface StartPrometheusOptions {
  readonly jobs: readonly ScrapeJob[];
  readonly scrapeIntervalSeconds?: number;
  readonly log?: (line: string) => void;
}

interface PromResponse<T> {
  status: 'success' | 'error';
  data: T;
  error?: string;
}

async function getJson<T>(url: string): Promise<T> {
  const res = await fetch(url);
  const body = (await res.json()) as PromResponse<T>;
  if (body.status !== 'success') throw new Error(`prometheus: ${body.error ?? res.statusText} (${url})`);
  return body.data;
}

function stopProcess(child: ChildProcess): Promise<void> {
  return new Promise((resolve) => {
    if (child.exitCode !== null || child.signalCode !== null) return resolve();
    const kill = setTimeout(() => child.kill('SIGKILL'), 5000);
    child.once('exit', () => {
      clearTimeout(kill);
      resolve();
    });
    child.kill('SIGTERM');
  });
}

/**
 * Starts Debian's `prometheus` (installed with apt-get when missing) on a free loopback port with
 * a throw-away TSDB, scraping `jobs` every `scrapeIntervalSeconds` (default 1).
 */
export async function startPrometheus(opts: StartPrometheusOptions): Promise<PrometheusHandle> {
  const binary = await ensureExecutable({
    executable: 'prometheus',
    debianPackage: 'prometheus',
    ...(opts.log ? { log: opts.log } : {}),
  });
  const dir = await mkdtemp(join(tmpdir(), 'rdmasched-prometheus-'));
  const port = await freePort();
  const interval = `${opts.scrapeIntervalSeconds ?? 1}s`;
  const config = [
    'global:',
    `  scrape_interval: ${interval}`,
    `  evaluation_interval: ${interval}`,
    'scrape_configs:',
    ...opts.jobs.flatMap((j) => [
      `  - job_name: ${JSON.stringify(j.jobName)}`,
      `    metrics_path: ${JSON.stringify(j.metricsPath ?? '/metrics')}`,
      '    static_configs:',
      `      - targets: ${JSON.stringify(j.targets)}`,
    ]),
    '',
  ].join('\n');
  const configPath = join(dir, 'prometheus.yml');
  await writeFile(configPath, config);
  const child = spawn(
    binary,
    [
      `--config.file=${configPath}`,
      `--storage.tsdb.path=${join(dir, 'data')}`,
      `--web.listen-address=127.0.0.1:${port}`,
      '--log.level=warn',
    ],
    { stdio: ['ignore', 'ignore', 'pipe'] },
  );
  let stderr = '';
  child.stderr?.on('data', (b: Buffer) => (stderr = (stderr + b.toString()).slice(-4000)));
  const url = `http://127.0.0.1:${port}`;
  const stop = async () => {
    await stopProcess(child);
    await rm(dir, { recursive: true, force: true });
  };
  const deadline = Date.now() + 30_000;
  for (;;) {
    if (child.exitCode !== null) {
      await stop();
      throw new Error(`prometheus exited with ${child.exitCode}: ${stderr.trim()}`);
    }
    try {
      const res = await fetch(`${url}/-/ready`);
      if (res.ok) break;
    } catch {
      // not listening yet
    }
    if (Date.now() > deadline) {
      await stop();
      throw new Error(`prometheus did not become ready within 30 s: ${stderr.trim()}`);
    }
    await new Promise((r) => setTimeout(r, 100));
  }
  return {
    url,
    async query(promql) {
      const data = await getJson<{
        resultType: string;
        result: { metric: Record<string, string>; value: [number, string] }[];
      }>(`${url}/api/v1/query?query=${encodeURIComponent(promql)}`);
      if (data.resultType !== 'vector')
        throw new Error(`expected a vector from ${promql}, got ${data.resultType}`);
      return data.result.map((r) => ({ metric: r.metric, value: Number(r.value[1]) }));
    },
    async waitForTargetsUp(timeoutMs = 30_000) {
      const end = Date.now() + timeoutMs;
      for (;;) {
        const data = await getJson<{
          activeTargets: { health: string; scrapeUrl: string; lastError: string }[];
        }>(`${url}/api/v1/targets`);
        const down = data.activeTargets.filter((t) => t.health !== 'up');
        if (data.activeTargets.length > 0 && down.length === 0) return;
        if (Date.now() > end)
          throw new Error(
            `targets not up: ${down.map((t) => `${t.scrapeUrl} (${t.lastError || t.health})`).join(', ')}`,
          );
        await new Promise((r) => setTimeout(r, 200));
      }
    },
    stop,
  };
}

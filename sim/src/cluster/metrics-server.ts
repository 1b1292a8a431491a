/**
 * The agents' metrics over HTTP. A real cluster has one agent per node, each with its own
 * `/metrics`; here they share a process, so one loopback server serves
 *   GET /metrics                every agent's metrics in one exposition, with a `node` label
 *                               (one scrape target for Prometheus and the dashboards),
 *   GET /nodes/NAME/metrics     one agent's metrics exactly as its own endpoint would serve them,
 *   GET /                       the list of nodes.
 */
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Registry } from 'prom-client';

/** Adds `node="NAME"` to every sample line of a Prometheus text exposition. */
export function labelSamples(text: string, node: string): { meta: string[]; samples: string[] } {
  const meta: string[] = [];
  const samples: string[] = [];
  const label = `node="${node.replace(/["\\\n]/g, '')}"`;
  for (const line of text.split('\n')) {
    if (line === '') continue;
    if (line.startsWith('#')) {
      meta.push(line);
      continue;
    }
    const brace = line.indexOf('{');
    const space = line.indexOf(' ');
    if (brace >= 0 && (space < 0 || brace < space)) {
      const close = line.indexOf('}', brace);
      const inner = line.slice(brace + 1, close);
      samples.push(
        `${line.slice(0, brace)}{${inner === '' ? label : `${label},${inner}`}}${line.slice(close + 1)}`,
      );
    } else if (space >= 0) {
      samples.push(`${line.slice(0, space)}{${label}}${line.slice(space)}`);
    }
  }
  return { meta, samples };
}

export class AgentMetricsServer {
  private server: Server | undefined;
  private baseUrl = '';

  constructor(private readonly registries: ReadonlyMap<string, Registry>) {}

  get url(): string {
    return this.baseUrl;
  }

  async listen(): Promise<string> {
    const server = createServer((req, res) => {
      const path = (req.url ?? '/').split('?')[0] ?? '/';
      const send = (status: number, body: string, type = 'text/plain; version=0.0.4; charset=utf-8') => {
        res.writeHead(status, { 'content-type': type });
        res.end(body);
      };
      const one = /^\/nodes\/([^/]+)\/metrics$/.exec(path);
      if (one !== null) {
        const reg = this.registries.get(decodeURIComponent(one[1] ?? ''));
        if (reg === undefined) send(404, 'no such node\n');
        else void reg.metrics().then((t) => send(200, t));
        return;
      }
      if (path === '/metrics') {
        void this.aggregate().then((t) => send(200, t));
        return;
      }
      if (path === '/') {
        send(200, [...this.registries.keys()].map((n) => `/nodes/${n}/metrics`).join('\n') + '\n');
        return;
      }
      send(404, 'not found\n');
    });
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(0, '127.0.0.1', () => resolve());
    });
    this.server = server;
    this.baseUrl = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    return this.baseUrl;
  }

  /** One exposition: each metric's HELP/TYPE once, then every agent's samples with its node label. */
  async aggregate(): Promise<string> {
    const meta = new Map<string, string[]>();
    const samples = new Map<string, string[]>();
    for (const [node, reg] of this.registries) {
      const { meta: m, samples: s } = labelSamples(await reg.metrics(), node);
      for (const line of m) {
        const name = line.split(' ')[2] ?? '';
        const list = meta.get(name) ?? [];
        if (!list.includes(line)) list.push(line);
        meta.set(name, list);
      }
      for (const line of s) {
        const name = line.slice(0, line.indexOf('{'));
        const base = name.replace(/_(bucket|sum|count)$/, '');
        const family = meta.has(name) ? name : meta.has(base) ? base : name;
        const list = samples.get(family) ?? [];
        list.push(line);
        samples.set(family, list);
      }
    }
    const out: string[] = [];
    for (const [name, lines] of meta) out.push(...lines, ...(samples.get(name) ?? []));
    for (const [name, lines] of samples) if (!meta.has(name)) out.push(...lines);
    return out.join('\n') + '\n';
  }

  async close(): Promise<void> {
    const s = this.server;
    this.server = undefined;
    if (s === undefined) return;
    s.closeAllConnections();
    await new Promise<void>((r) => s.close(() => r()));
  }
}

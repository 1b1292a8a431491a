/**
 * The agent's HTTP server: `/metrics` (Prometheus text from the injected registry), `/healthz`
 * (the process answers) and `/readyz` (recovered and the store holds the latest report).
 * `buildApp` never listens; `main` does (on 0.0.0.0, so kubelet probes reach it).
 */
import Fastify, { type FastifyInstance } from 'fastify';
import type { Registry } from 'prom-client';

export interface HealthView {
  /** Ready to be counted on: recovered, and the latest report is in Redis. */
  ready(): boolean;
  /** Details shown by /readyz. */
  details(): Record<string, unknown>;
}

export interface AppOptions {
  readonly registry: Registry;
  readonly health: HealthView;
  /** HTTPS key and certificate (PEM); plain HTTP when absent. */
  readonly https?: { readonly key: Buffer; readonly cert: Buffer };
}

export function buildApp(opts: AppOptions): FastifyInstance {
  const app: FastifyInstance = (
    opts.https === undefined
      ? Fastify({ logger: false })
      : Fastify({ logger: false, https: { key: opts.https.key, cert: opts.https.cert } })
  ) as FastifyInstance;
  app.get('/metrics', async (_req, reply) => {
    const text = await opts.registry.metrics();
    return reply.header('content-type', opts.registry.contentType).send(text);
  });
  app.get('/healthz', () => ({ status: 'ok' }));
  app.get('/readyz', (_req, reply) => {
    const ready = opts.health.ready();
    return reply
      .code(ready ? 200 : 503)
      .send({ status: ready ? 'ready' : 'not ready', ...opts.health.details() });
  });
  return app;
}

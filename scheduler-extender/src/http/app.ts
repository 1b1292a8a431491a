/**
 * `buildApp(deps)`: the extender's Fastify application. It never listens (main.ts does); tests
 * drive it with `app.inject()`.
 *
 *   POST {prefix}/filter       ExtenderArgs -> ExtenderFilterResult
 *   POST {prefix}/prioritize   ExtenderArgs -> HostPriorityList
 *   POST {prefix}/bind         ExtenderBindingArgs -> ExtenderBindingResult (reserve, provision, Binding)
 *   POST {prefix}/preempt      ExtenderPreemptionArgs -> ExtenderPreemptionResult
 *   POST /v1/explain           ExtenderArgs -> every node's decision with plan and score parts
 *   GET  /v1/nodes             every node: staleness, VFs per link type
 *   GET  /v1/nodes/:name       one node: summary, per-PF capacity, GPU distances, full report
 *   GET  /healthz, /readyz, /metrics
 *
 * Filter and prioritize read only the in-memory snapshot, the ledger mirror and the tenant
 * directory: no I/O on that path. Bind is the one verb that writes (Redis, the API).
 */
import { SpanStatusCode, trace, type Span } from '@opentelemetry/api';
import Fastify, { LogController, type FastifyError, type FastifyInstance, type FastifyReply } from 'fastify';
import type { Logger } from 'pino';
import type { Registry } from 'prom-client';
import { ExtenderError, invalidField } from '../errors.js';
import {
  rejectedRecord,
  SnapshotPhases,
  type FilterPhase,
  type PodDemand,
  type PrioritizePhase,
} from '../core/phases.js';
import { podRequestFrom, type PodIdentity, type PodRequest } from '../core/pod-request.js';
import { invalidPodRequest } from '../core/reasons.js';
import { field, isObject } from '../core/json-fields.js';
import type { TenantAdmission } from '../core/tenancy.js';
import type { BindService } from '../services/bind-service.js';
import { tenantLabel, type LedgerMetrics } from '../services/ledger-metrics.js';
import type { PreemptService } from '../services/preempt-service.js';
import { BIND_FAILURES } from '../errors.js';
import {
  decodeBindingArgs,
  decodePreemptionArgs,
  encodeBindingResult,
  encodePreemptionResult,
} from './wire-bind.js';
import type { Snapshot } from '../core/snapshot.js';
import { systemClock, type Clock } from '../ports/clock.js';
import { ExtenderMetrics, type Verb } from './metrics.js';
import { nodeDetail, nodeSummary } from './node-info.js';
import { decodeExtenderArgs, encodeFilterResult, encodeHostPriorityList, type ExtenderArgs } from './wire.js';

export const DEFAULT_BODY_LIMIT_BYTES = 16 * 1024 * 1024;
const JSON_TYPE = 'application/json; charset=utf-8';

export interface AppOptions {
  /** Prefix of the filter and prioritize paths (`/scheduler` -> `/scheduler/filter`); default none. */
  readonly urlPrefix?: string;
  /** Largest accepted body, in bytes (413 above it). Default 16 MiB. */
  readonly bodyLimitBytes?: number;
  /** Serve HTTPS with this PEM key and certificate. */
  readonly https?: { readonly key: Buffer | string; readonly cert: Buffer | string };
}

export interface AppDeps {
  readonly snapshot: Snapshot;
  readonly registry: Registry;
  readonly logger: Logger;
  readonly clock?: Clock;
  /** Defaults to SnapshotPhases over `snapshot`. */
  readonly filter?: FilterPhase;
  readonly prioritize?: PrioritizePhase;
  /** Pod-level tenancy checks (docs/adr/0017); without it every pod is admitted as before. */
  readonly tenancy?: TenantAdmission;
  /** The bind verb; without it bind answers KUBE_API_OFF. */
  readonly bind?: BindService;
  /** The preempt verb; without it the proposal is returned unchanged. */
  readonly preempt?: PreemptService;
  /** Tenancy, bind and ledger metrics (registered by the caller on the same registry). */
  readonly ledgerMetrics?: LedgerMetrics;
  /** Extra readiness (ledger mirror loaded, tenants listed): what is still missing, or undefined. */
  readonly notReady?: () => string | undefined;
  readonly options?: AppOptions;
}

interface PodContext {
  readonly args: ExtenderArgs;
  readonly demand: PodDemand;
  readonly request: PodRequest | undefined;
  readonly pod: PodIdentity | undefined;
  /** Metric label of the pod's tenant; undefined when tenancy is off or the pod asks no VFs. */
  readonly tenant: string | undefined;
}

function annotationsOf(pod: unknown): Record<string, unknown> | undefined {
  if (!isObject(pod)) return undefined;
  const metadata = field(pod, 'metadata');
  if (!isObject(metadata)) return undefined;
  const annotations = field(metadata, 'annotations');
  return isObject(annotations) ? annotations : undefined;
}

function normalisePrefix(prefix: string | undefined): string {
  const p = (prefix ?? '').trim().replace(/\/+$/, '');
  if (p === '') return '';
  return p.startsWith('/') ? p : `/${p}`;
}

export function buildApp(deps: AppDeps): FastifyInstance {
  const { snapshot, registry, logger } = deps;
  const clock = deps.clock ?? systemClock;
  const phases = new SnapshotPhases(snapshot);
  const filterPhase = deps.filter ?? phases;
  const prioritizePhase = deps.prioritize ?? phases;
  const prefix = normalisePrefix(deps.options?.urlPrefix);
  const bodyLimit = deps.options?.bodyLimitBytes ?? DEFAULT_BODY_LIMIT_BYTES;
  const metrics = new ExtenderMetrics(registry, snapshot, clock);
  const tracer = trace.getTracer('@rdmasched/scheduler-extender');

  // Per-request "incoming/completed" lines would cost more than the filter itself at 5,000 nodes;
  // the extender logs its own summary per pod at debug level instead.
  const common = {
    loggerInstance: logger,
    logController: new LogController({ disableRequestLogging: true }),
    bodyLimit,
    return503OnClosing: true,
  };
  // The HTTPS and HTTP instances differ only in their server type; the API used here is the same.
  const app = (deps.options?.https !== undefined
    ? Fastify({ ...common, https: deps.options.https })
    : Fastify(common)) as unknown as FastifyInstance;

  // kube-scheduler speaks JSON only: anything else is 415, not a string body.
  app.removeContentTypeParser('text/plain');

  const unsubscribe = snapshot.addListener({
    onReport(o) {
      if (o.kind === 'accepted') metrics.reports.inc({ outcome: 'accepted' });
      else if (o.kind === 'not-newer') metrics.reports.inc({ outcome: 'not_newer' });
      else {
        metrics.reports.inc({ outcome: 'rejected' });
        logger.warn(
          { node: o.node, errors: o.errors },
          'node report rejected: it failed validation and is not used',
        );
      }
    },
    onRemoved(node) {
      metrics.removals.inc();
      logger.info({ node }, 'node removed from the snapshot');
    },
    onReload(nodes) {
      metrics.reloads.inc();
      logger.info({ nodes }, 'snapshot loaded');
    },
  });
  app.addHook('onClose', (_app, done) => {
    unsubscribe();
    done();
  });

  const verbs = new Map<string, Verb>([
    [`${prefix}/filter`, 'filter'],
    [`${prefix}/prioritize`, 'prioritize'],
    [`${prefix}/bind`, 'bind'],
    [`${prefix}/preempt`, 'preempt'],
    ['/v1/explain', 'explain'],
    ['/v1/nodes', 'nodes'],
    ['/v1/nodes/:name', 'node'],
    ['/healthz', 'healthz'],
    ['/readyz', 'readyz'],
    ['/metrics', 'metrics'],
  ]);
  app.addHook('onResponse', (req, reply, done) => {
    const verb = verbs.get(req.routeOptions.url ?? '') ?? 'other';
    metrics.requests.inc({ verb, code: String(reply.statusCode) });
    metrics.duration.observe({ verb }, reply.elapsedTime / 1000);
    done();
  });

  app.setErrorHandler((err: FastifyError, req, reply) => {
    let e: ExtenderError;
    if (err instanceof ExtenderError) e = err;
    else if (err.code === 'FST_ERR_CTP_BODY_TOO_LARGE')
      e = new ExtenderError(
        'BODY_TOO_LARGE',
        `body exceeds the limit of ${bodyLimit} bytes (RDMASCHED_BODY_LIMIT_BYTES)`,
      );
    else if (err.code === 'FST_ERR_CTP_INVALID_JSON_BODY' || err.code === 'FST_ERR_CTP_EMPTY_JSON_BODY')
      e = new ExtenderError('INVALID_JSON', 'body is empty or not valid JSON');
    else if (err.code === 'FST_ERR_CTP_INVALID_MEDIA_TYPE')
      e = new ExtenderError(
        'UNSUPPORTED_MEDIA_TYPE',
        `content-type ${JSON.stringify(req.headers['content-type'] ?? '')} is not application/json`,
      );
    else if (err.code === 'FST_ERR_CTP_INVALID_CONTENT_LENGTH')
      e = new ExtenderError('INVALID_JSON', 'body size did not match Content-Length');
    else if (typeof err.statusCode === 'number' && err.statusCode >= 400 && err.statusCode < 500)
      e = new ExtenderError('INVALID_FIELD', err.message);
    else {
      logger.error({ err, reqId: req.id, url: req.url }, 'internal error');
      e = new ExtenderError('INTERNAL', `internal error (request id ${req.id})`, undefined, { cause: err });
    }
    if (e.code !== 'INTERNAL')
      logger.debug({ reqId: req.id, code: e.code, message: e.message }, 'bad request');
    void reply.status(e.status).type(JSON_TYPE).send(e.toJSON());
  });

  app.setNotFoundHandler((req, reply) => {
    const e = new ExtenderError('ROUTE_NOT_FOUND', `no route for ${req.method} ${req.url}`);
    void reply.status(e.status).type(JSON_TYPE).send(e.toJSON());
  });

  function podContext(body: unknown, verb: Verb): PodContext {
    const args = decodeExtenderArgs(body);
    const pod = podRequestFrom(args.pod);
    if (pod.kind === 'malformed') throw invalidField(pod.field, pod.message);
    if (pod.kind === 'invalid') {
      metrics.invalidPods.inc({ verb });
      logger.warn(
        { pod: `${pod.pod.namespace}/${pod.pod.name}`, podUid: pod.pod.uid, verb, problem: pod.message },
        'invalid pod request: every node rejected',
      );
      return {
        args,
        demand: { kind: 'invalid', reason: invalidPodRequest(pod.message) },
        request: undefined,
        pod: pod.pod,
        tenant: undefined,
      };
    }
    const request = pod.request;
    if (deps.tenancy === undefined || request.totalVfs === 0)
      return { args, demand: { kind: 'request', request }, request, pod: pod.pod, tenant: undefined };
    const admission = deps.tenancy.admit({ ...pod.pod, annotations: annotationsOf(args.pod) }, request);
    const tenant = tenantLabel(admission.tenant?.name);
    if (admission.kind === 'denied')
      return { args, demand: { kind: 'denied', reason: admission.reason }, request, pod: pod.pod, tenant };
    return { args, demand: { kind: 'request', request }, request, pod: pod.pod, tenant };
  }

  function recordTenant(ctx: PodContext, feasible: number): void {
    if (ctx.tenant === undefined || deps.ledgerMetrics === undefined) return;
    const denied = ctx.demand.kind === 'denied' ? ctx.demand.reason.code : undefined;
    deps.ledgerMetrics.tenantFilter.inc({
      tenant: ctx.tenant,
      outcome: denied !== undefined ? 'denied' : feasible > 0 ? 'feasible' : 'unschedulable',
      reason: denied ?? 'none',
    });
  }

  function startSpan(name: string, ctx: PodContext): Span {
    return tracer.startSpan(name, {
      attributes: {
        'k8s.pod.name': ctx.pod?.name ?? '',
        'k8s.namespace.name': ctx.pod?.namespace ?? '',
        'k8s.pod.uid': ctx.pod?.uid ?? '',
        'rdmasched.candidate_nodes': ctx.args.nodeNames.length,
        'rdmasched.vfs.ib': ctx.request?.vfs.ib ?? 0,
        'rdmasched.vfs.roce': ctx.request?.vfs.roce ?? 0,
        'rdmasched.gpus': ctx.request?.gpus ?? 0,
      },
    });
  }

  function traced<T>(span: Span, work: () => T): T {
    try {
      return work();
    } catch (err: unknown) {
      span.recordException(err instanceof Error ? err : String(err));
      span.setStatus({ code: SpanStatusCode.ERROR });
      throw err;
    } finally {
      span.end();
    }
  }

  function podLogger(ctx: PodContext): Logger | undefined {
    if (!logger.isLevelEnabled('debug')) return undefined;
    return logger.child({
      pod: `${ctx.pod?.namespace ?? ''}/${ctx.pod?.name ?? ''}`,
      podUid: ctx.pod?.uid ?? '',
    });
  }

  const sendJson = (reply: FastifyReply, json: Buffer) => reply.type(JSON_TYPE).send(json);

  app.post(`${prefix}/filter`, (req, reply) => {
    const ctx = podContext(req.body, 'filter');
    const span = startSpan('rdmasched.extender.filter', ctx);
    const json = traced(span, () => {
      const outcome = filterPhase.filter(ctx.demand, ctx.args.nodeNames, clock.nowMs());
      metrics.recordFilter(outcome, ctx.request);
      recordTenant(ctx, outcome.feasibleIndexes.length);
      span.setAttribute('rdmasched.feasible_nodes', outcome.feasibleIndexes.length);
      podLogger(ctx)?.debug(
        {
          candidates: ctx.args.nodeNames.length,
          feasible: outcome.feasibleIndexes.length,
          rejected: outcome.rejectedIndexes.length,
        },
        'filter',
      );
      return encodeFilterResult(ctx.args, outcome, snapshot.names);
    });
    return sendJson(reply, json);
  });

  app.post(`${prefix}/prioritize`, (req, reply) => {
    const ctx = podContext(req.body, 'prioritize');
    const span = startSpan('rdmasched.extender.prioritize', ctx);
    const json = traced(span, () => {
      const outcome = prioritizePhase.prioritize(ctx.demand, ctx.args.nodeNames, clock.nowMs());
      podLogger(ctx)?.debug({ candidates: ctx.args.nodeNames.length }, 'prioritize');
      return encodeHostPriorityList(outcome, snapshot.names);
    });
    return sendJson(reply, json);
  });

  app.post(`${prefix}/bind`, async (req, reply) => {
    const args = decodeBindingArgs(req.body);
    if (deps.bind === undefined)
      return reply.type(JSON_TYPE).send(encodeBindingResult(`KUBE_API_OFF: ${BIND_FAILURES.KUBE_API_OFF}`));
    const span = tracer.startSpan('rdmasched.extender.bind', {
      attributes: {
        'k8s.pod.name': args.podName,
        'k8s.namespace.name': args.podNamespace,
        'k8s.pod.uid': args.podUid,
        'k8s.node.name': args.node,
      },
    });
    const result = await deps.bind.bind(args);
    if (!result.ok) {
      span.setStatus({ code: SpanStatusCode.ERROR, message: result.code });
      span.setAttribute('rdmasched.bind.failure', result.code);
    }
    span.end();
    return reply
      .type(JSON_TYPE)
      .send(encodeBindingResult(result.ok ? '' : `${result.code}: ${result.message}`));
  });

  app.post(`${prefix}/preempt`, async (req, reply) => {
    const args = decodePreemptionArgs(req.body);
    const result =
      deps.preempt === undefined
        ? new Map(
            [...args.nodes].map(([n, v]) => [n, { uids: v.uids, numPdbViolations: v.numPdbViolations }]),
          )
        : await deps.preempt.preempt(args);
    return reply.type(JSON_TYPE).send(encodePreemptionResult(result));
  });

  app.post('/v1/explain', (req, reply) => {
    const ctx = podContext(req.body, 'explain');
    const now = clock.nowMs();
    const outcome = filterPhase.filter(ctx.demand, ctx.args.nodeNames, now);
    const failedNodes = rejectedRecord(outcome, false);
    const unresolvableNodes = rejectedRecord(outcome, true);
    const { scores } = prioritizePhase.prioritize(ctx.demand, ctx.args.nodeNames, now);
    const shape =
      ctx.request !== undefined && ctx.request.totalVfs > 0 ? snapshot.shapeOf(ctx.request) : undefined;
    const nodes = ctx.args.nodeNames.map((name, i) => {
      const unresolvable = unresolvableNodes[name];
      const failed = failedNodes[name];
      const view = snapshot.get(name);
      const decision = view !== undefined && shape !== undefined ? snapshot.decide(view, shape) : undefined;
      return {
        node: name,
        result: unresolvable !== undefined ? 'unresolvable' : failed !== undefined ? 'failed' : 'feasible',
        ...(unresolvable !== undefined || failed !== undefined ? { reason: unresolvable ?? failed } : {}),
        score: scores[i] ?? 0,
        ...(decision?.feasible === true
          ? { plan: decision.placement.plan, scoreParts: decision.placement.breakdown }
          : {}),
      };
    });
    return reply.type(JSON_TYPE).send({ request: ctx.request ?? null, nodes });
  });

  app.get('/v1/nodes', (_req, reply) => {
    const now = clock.nowMs();
    const nodes = [...snapshot.views()]
      .sort((a, b) => a.name.localeCompare(b.name))
      .map((v) => nodeSummary(snapshot, v, now));
    return reply.type(JSON_TYPE).send({
      loaded: snapshot.loaded,
      count: nodes.length,
      stale: nodes.filter((n) => n.stale).length,
      nodes,
    });
  });

  app.get<{ Params: { name: string } }>('/v1/nodes/:name', (req, reply) => {
    const view = snapshot.get(req.params.name);
    if (view === undefined) {
      throw new ExtenderError(
        'NODE_NOT_FOUND',
        `node ${JSON.stringify(req.params.name)} is not in the snapshot (${snapshot.size} nodes known): no valid report from its node agent`,
      );
    }
    return reply.type(JSON_TYPE).send(nodeDetail(snapshot, view, clock.nowMs()));
  });

  app.get('/healthz', (_req, reply) => reply.type(JSON_TYPE).send({ status: 'ok' }));

  app.get('/readyz', (_req, reply) => {
    const missing = !snapshot.loaded ? 'node reports are still loading' : deps.notReady?.();
    if (missing !== undefined) {
      const e = new ExtenderError('NOT_READY', missing);
      return reply.status(e.status).type(JSON_TYPE).send(e.toJSON());
    }
    return reply.type(JSON_TYPE).send({ status: 'ready', nodes: snapshot.size });
  });

  app.get('/metrics', async (_req, reply) => {
    const body = await registry.metrics();
    return reply.type(registry.contentType).send(body);
  });

  return app;
}

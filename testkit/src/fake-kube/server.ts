/**
 * An in-process fake kube-apiserver for tests: real HTTP(S) on 127.0.0.1, the Kubernetes REST
 * paths, JSON bodies, `Status` errors and chunked watch streams, so that
 * `@kubernetes/client-node` (CoreV1Api, CustomObjectsApi, Watch, makeInformer) is exercised for
 * real. Test code only; never shipped. What it implements and where it differs from a real
 * apiserver: testkit/README.md.
 */
import {
  createServer as createHttpServer,
  type IncomingMessage,
  type Server,
  type ServerResponse,
} from 'node:http';
import { createServer as createHttpsServer } from 'node:https';
import type { AddressInfo } from 'node:net';
import { KubeConfig } from '@kubernetes/client-node';
import { generate as generateCertificate } from 'selfsigned';
import { ApiError, badRequest } from './api-error.js';
import { FakeKubelet } from './kubelet.js';
import {
  apiVersionOf,
  fieldGetter,
  POD,
  RESOURCES,
  type KubeObject,
  type ResourceType,
} from './resources.js';
import { discovery } from './discovery.js';
import { parseFieldSelector, parseLabelSelector, type ObjectFilter } from './selectors.js';
import { FakeKubeStore, type WriteResult } from './store.js';

export interface FakeKubeApiServerOptions {
  /** Require `Authorization: Bearer <token>` on every API request (not /healthz, /version). */
  readonly token?: string;
  /** Serve HTTPS with a self-signed certificate for 127.0.0.1/localhost made at start. */
  readonly tls?: boolean;
  /** Watch events kept for resuming watches (older resourceVersions get 410 Gone). Default 1000. */
  readonly historySize?: number;
  /**
   * After a graceful delete of a running pod: `immediate` (default) plays a kubelet that stops the
   * containers at once and removes the pod on the next tick; `manual` leaves it terminating until
   * `kubelet.finishTermination()`.
   */
  readonly podTermination?: 'immediate' | 'manual';
  /** Bookmark period for watches with allowWatchBookmarks=true. Default 1000 ms. */
  readonly bookmarkIntervalMs?: number;
  /** How long a watch without timeoutSeconds stays open. Default 1800 s. */
  readonly watchTimeoutSeconds?: number;
}

export interface RequestLogEntry {
  readonly method: string;
  readonly path: string;
  readonly query: string;
  readonly contentType: string | undefined;
  readonly status: number;
}

export interface FaultSpec {
  /** Only requests with this method (GET, POST, ...); any when left out. */
  readonly method?: string;
  /** Exact URL path, or a pattern tested against it. */
  readonly path: string | RegExp;
  /** Answer with a Status of this code; left out, the request is only delayed and then served. */
  readonly status?: number;
  readonly message?: string;
  /** How many matching requests it applies to. Default 1. */
  readonly times?: number;
  readonly delayMs?: number;
  /** Hold matching requests until this settles (then serve or fail them): a deterministic delay. */
  readonly until?: Promise<unknown>;
}

const REASONS: Readonly<Record<number, string>> = {
  400: 'BadRequest',
  401: 'Unauthorized',
  403: 'Forbidden',
  404: 'NotFound',
  409: 'Conflict',
  410: 'Expired',
  422: 'Invalid',
  429: 'TooManyRequests',
  500: 'InternalError',
  503: 'ServiceUnavailable',
  504: 'Timeout',
};

const MAX_BODY_BYTES = 3 * 1024 * 1024;

interface Route {
  readonly resource: ResourceType;
  readonly namespace: string | undefined;
  readonly name: string | undefined;
  readonly subresource: string | undefined;
}

function parseRoute(pathname: string): Route | undefined {
  const s = pathname
    .split('/')
    .filter((p) => p !== '')
    .map(decodeURIComponent);
  let group: string;
  let version: string;
  let rest: string[];
  if (s[0] === 'api' && s.length >= 3) [group, version, rest] = ['', s[1] ?? '', s.slice(2)];
  else if (s[0] === 'apis' && s.length >= 4) [group, version, rest] = [s[1] ?? '', s[2] ?? '', s.slice(3)];
  else return undefined;
  const find = (plural: string | undefined) =>
    RESOURCES.find((r) => r.group === group && r.version === version && r.plural === plural);
  const namespaced = rest[0] === 'namespaces' && rest.length >= 3 ? find(rest[2]) : undefined;
  if (namespaced?.namespaced === true) {
    return { resource: namespaced, namespace: rest[1], name: rest[3], subresource: rest[4] };
  }
  const resource = find(rest[0]);
  if (resource === undefined || rest.length > 3) return undefined;
  // A namespaced resource without a namespace is the all-namespaces list/watch.
  if (resource.namespaced && rest[1] !== undefined) return undefined;
  return { resource, namespace: undefined, name: rest[1], subresource: rest[2] };
}

/** A running fake apiserver. */
export class FakeKubeApiServer {
  readonly store: FakeKubeStore;
  readonly kubelet: FakeKubelet;
  /** Every request served, in order (watches are logged when they start). */
  readonly requests: RequestLogEntry[] = [];
  private readonly faults: (FaultSpec & { remaining: number })[] = [];
  private readonly watches = new Set<{ bookmark: () => void; close: () => void }>();
  private server: Server | undefined;
  private caPem: string | undefined;
  private baseUrl = '';

  private constructor(private readonly opts: FakeKubeApiServerOptions) {
    this.store = new FakeKubeStore({
      ...(opts.historySize === undefined ? {} : { historySize: opts.historySize }),
      ...(opts.podTermination === undefined ? {} : { podTermination: opts.podTermination }),
    });
    this.kubelet = new FakeKubelet(this.store);
  }

  /** Starts a fake apiserver on 127.0.0.1 and a free port. */
  static async start(opts: FakeKubeApiServerOptions = {}): Promise<FakeKubeApiServer> {
    const fake = new FakeKubeApiServer(opts);
    const handler = (req: IncomingMessage, res: ServerResponse) => void fake.handle(req, res);
    let server: Server;
    if (opts.tls === true) {
      const pems = await generateCertificate([{ name: 'commonName', value: 'fake-kube-apiserver' }], {
        keyType: 'ec',
        algorithm: 'sha256',
        extensions: [
          { name: 'basicConstraints', cA: true },
          { name: 'keyUsage', digitalSignature: true, keyCertSign: true },
          { name: 'extKeyUsage', serverAuth: true },
          {
            name: 'subjectAltName',
            altNames: [
              { type: 2, value: 'localhost' },
              { type: 7, ip: '127.0.0.1' },
            ],
          },
        ],
      });
      fake.caPem = pems.cert;
      server = createHttpsServer({ key: pems.private, cert: pems.cert }, handler);
    } else {
      server = createHttpServer(handler);
    }
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(0, '127.0.0.1', () => resolve());
    });
    fake.server = server;
    const port = (server.address() as AddressInfo).port;
    fake.baseUrl = `${opts.tls === true ? 'https' : 'http'}://127.0.0.1:${port}`;
    return fake;
  }

  /** `http://127.0.0.1:PORT` or `https://...`. */
  get url(): string {
    return this.baseUrl;
  }

  /** The self-signed certificate (PEM) when started with tls, for clients that verify it. */
  get caCertificate(): string | undefined {
    return this.caPem;
  }

  /**
   * A KubeConfig for this server, as a user would write it: the server URL, the CA (when TLS),
   * and the token (the server's, unless another is given, e.g. to test a wrong one).
   */
  kubeConfig(opts: { token?: string; verifyTls?: boolean } = {}): KubeConfig {
    const kc = new KubeConfig();
    const token = opts.token ?? this.opts.token;
    const verify = opts.verifyTls ?? true;
    kc.loadFromOptions({
      clusters: [
        {
          name: 'fake',
          server: this.baseUrl,
          // client-node refuses a plain-HTTP server unless skipTLSVerify is set.
          skipTLSVerify: this.caPem === undefined || !verify,
          ...(this.caPem !== undefined && verify
            ? { caData: Buffer.from(this.caPem).toString('base64') }
            : {}),
        },
      ],
      users: [{ name: 'fake', ...(token === undefined ? {} : { token }) }],
      contexts: [{ name: 'fake', cluster: 'fake', user: 'fake' }],
      currentContext: 'fake',
    });
    return kc;
  }

  /** The next `times` requests matching `spec` fail with `status` (and/or are delayed). */
  injectFault(spec: FaultSpec): void {
    this.faults.push({ ...spec, remaining: spec.times ?? 1 });
  }

  clearFaults(): void {
    this.faults.length = 0;
  }

  /** Sends a BOOKMARK now on every watch that asked for bookmarks. */
  sendBookmarks(): void {
    for (const w of this.watches) w.bookmark();
  }

  /** Ends every open watch stream (clients see the connection close, as on an apiserver restart). */
  closeWatches(): void {
    for (const w of [...this.watches]) w.close();
  }

  /** Closes every watch and connection and stops listening. Idempotent. */
  async stop(): Promise<void> {
    this.closeWatches();
    const server = this.server;
    this.server = undefined;
    if (server === undefined) return;
    await new Promise<void>((resolve) => {
      server.close(() => resolve());
      server.closeAllConnections();
    });
  }

  private takeFault(method: string, path: string): (FaultSpec & { remaining: number }) | undefined {
    const fault = this.faults.find(
      (f) =>
        f.remaining > 0 &&
        (f.method === undefined || f.method.toUpperCase() === method) &&
        (typeof f.path === 'string' ? f.path === path : f.path.test(path)),
    );
    if (fault !== undefined) fault.remaining -= 1;
    return fault;
  }

  private send(
    req: IncomingMessage,
    res: ServerResponse,
    status: number,
    body: unknown,
    warnings: readonly string[] = [],
  ): void {
    const url = new URL(req.url ?? '/', 'http://x');
    this.requests.push({
      method: req.method ?? 'GET',
      path: url.pathname,
      query: url.search,
      contentType: req.headers['content-type'],
      status,
    });
    if (warnings.length > 0)
      res.setHeader(
        'Warning',
        warnings.map((w) => `299 - ${JSON.stringify(w)}`),
      );
    if (typeof body === 'string') {
      res.writeHead(status, { 'Content-Type': 'text/plain; charset=utf-8' });
      res.end(body);
      return;
    }
    res.writeHead(status, { 'Content-Type': 'application/json' });
    res.end(JSON.stringify(body));
  }

  private async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const method = (req.method ?? 'GET').toUpperCase();
    const url = new URL(req.url ?? '/', 'http://x');
    try {
      const fault = this.takeFault(method, url.pathname);
      if (fault?.delayMs !== undefined) await new Promise((r) => setTimeout(r, fault.delayMs));
      if (fault?.until !== undefined) await fault.until.catch(() => undefined);
      if (fault?.status !== undefined) {
        const reason = REASONS[fault.status] ?? 'InternalError';
        throw new ApiError(fault.status, reason, fault.message ?? `injected fault: ${reason}`);
      }
      const open = ['/healthz', '/readyz', '/livez', '/version'].includes(url.pathname);
      if (
        !open &&
        this.opts.token !== undefined &&
        req.headers.authorization !== `Bearer ${this.opts.token}`
      ) {
        throw new ApiError(401, 'Unauthorized', 'Unauthorized');
      }
      // DELETE may carry DeleteOptions (gracePeriodSeconds, preconditions).
      const body = method === 'GET' ? undefined : await readJson(req);
      const found = discovery(url.pathname, this.baseUrl);
      if (found !== undefined) {
        if (method !== 'GET')
          throw new ApiError(405, 'MethodNotAllowed', `${method} is not allowed on ${url.pathname}`);
        this.send(req, res, 200, found);
        return;
      }
      const bindings = /^\/api\/v1\/namespaces\/([^/]+)\/bindings$/.exec(url.pathname);
      if (bindings !== null && method === 'POST') {
        // The older bindings collection: the pod's name is in the body.
        const podName = (body as { metadata?: { name?: unknown } } | undefined)?.metadata?.name;
        if (typeof podName !== 'string' || podName === '')
          throw badRequest('a Binding needs metadata.name (the pod)');
        this.store.bind(decodeURIComponent(bindings[1] ?? ''), podName, body);
        this.send(req, res, 201, {
          kind: 'Status',
          apiVersion: 'v1',
          metadata: {},
          status: 'Success',
          code: 201,
        });
        return;
      }
      const route = parseRoute(url.pathname);
      if (route === undefined)
        throw new ApiError(404, 'NotFound', 'the server could not find the requested resource');
      this.serve(req, res, method, url.searchParams, route, body);
    } catch (err: unknown) {
      const apiError =
        err instanceof ApiError
          ? err
          : new ApiError(
              500,
              'InternalError',
              `fake apiserver bug: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}`,
            );
      if (!res.headersSent) this.send(req, res, apiError.code, apiError.toStatus());
      else res.end();
    }
  }

  private filterFrom(resource: ResourceType, query: URLSearchParams): ObjectFilter {
    const labelText = query.get('labelSelector');
    const fieldText = query.get('fieldSelector');
    const fields = fieldText === null ? [] : parseFieldSelector(fieldText);
    for (const f of fields) {
      if (fieldGetter(resource, f.field) === undefined)
        throw badRequest(`field label not supported: ${f.field}`);
    }
    return {
      labels: labelText === null || labelText === '' ? undefined : parseLabelSelector(labelText),
      fields,
    };
  }

  private serve(
    req: IncomingMessage,
    res: ServerResponse,
    method: string,
    query: URLSearchParams,
    route: Route,
    body: unknown,
  ): void {
    const { resource: r, namespace, name, subresource } = route;
    const store = this.store;
    if (
      subresource !== undefined &&
      !(subresource === 'status' && r.hasStatus) &&
      !(r === POD && (subresource === 'binding' || subresource === 'log'))
    ) {
      throw new ApiError(404, 'NotFound', 'the server could not find the requested resource');
    }
    if (query.get('dryRun') !== null) throw badRequest('dryRun is not supported by the fake apiserver');
    const strict = query.get('fieldValidation') === 'Strict';
    const write = (status: number, result: WriteResult) =>
      this.send(req, res, status, result.object, result.warnings);

    if (name === undefined) {
      if (method === 'GET' && (query.get('watch') === 'true' || query.get('watch') === '1')) {
        this.watch(req, res, r, namespace, query);
        return;
      }
      if (method === 'GET') {
        const filter = this.filterFrom(r, query);
        const cont = query.get('continue');
        if (cont !== null && cont !== '')
          throw badRequest('continue tokens are not supported by the fake apiserver (it never sets one)');
        const rv = query.get('resourceVersion');
        if (query.get('resourceVersionMatch') === 'Exact' && rv !== store.resourceVersion()) {
          throw new ApiError(410, 'Expired', 'The resourceVersion for the provided list is too old.');
        }
        // `limit` is ignored: the whole list comes back with no continue token, which the API allows.
        const items = store.list(r, namespace, filter);
        this.send(req, res, 200, {
          kind: r.listKind,
          apiVersion: apiVersionOf(r),
          metadata: { resourceVersion: store.resourceVersion() },
          items,
        });
        return;
      }
      if (method === 'POST') {
        write(201, store.create(r, namespace, body, { strict }));
        return;
      }
      throw new ApiError(
        405,
        'MethodNotAllowed',
        `${method} on a collection is not supported by the fake apiserver`,
      );
    }

    if (subresource === 'binding') {
      if (method !== 'POST')
        throw new ApiError(405, 'MethodNotAllowed', 'only POST is allowed on pods/binding');
      store.bind(namespace ?? '', name, body);
      this.send(req, res, 201, {
        kind: 'Status',
        apiVersion: 'v1',
        metadata: {},
        status: 'Success',
        code: 201,
      });
      return;
    }
    if (subresource === 'log') {
      if (method !== 'GET') throw new ApiError(405, 'MethodNotAllowed', 'only GET is allowed on pods/log');
      store.get(POD, namespace, name);
      this.send(
        req,
        res,
        200,
        this.kubelet.podLogs(namespace ?? '', name, query.get('container') ?? undefined) ?? '',
      );
      return;
    }
    const sub = subresource === 'status' ? { subresource: 'status' as const } : {};
    switch (method) {
      case 'GET':
        this.send(req, res, 200, store.get(r, namespace, name));
        return;
      case 'PUT':
        write(200, store.update(r, namespace, name, body, { ...sub, strict }));
        return;
      case 'PATCH':
        write(
          200,
          store.patch(r, namespace, name, req.headers['content-type'] ?? '', body, { ...sub, strict }),
        );
        return;
      case 'DELETE': {
        if (subresource !== undefined)
          throw new ApiError(405, 'MethodNotAllowed', 'DELETE is not allowed on a subresource');
        const options = (body ?? {}) as {
          gracePeriodSeconds?: number;
          preconditions?: { uid?: string; resourceVersion?: string };
        };
        const graceParam = query.get('gracePeriodSeconds');
        const grace = graceParam !== null ? Number(graceParam) : options.gracePeriodSeconds;
        this.send(
          req,
          res,
          200,
          store.delete(r, namespace, name, {
            ...(grace === undefined || Number.isNaN(grace) ? {} : { gracePeriodSeconds: grace }),
            ...(options.preconditions === undefined ? {} : { preconditions: options.preconditions }),
          }),
        );
        return;
      }
      default:
        throw new ApiError(405, 'MethodNotAllowed', `${method} is not supported`);
    }
  }

  /**
   * A watch stream: 200, then one JSON event per line. A resourceVersion older than the history
   * gets an ERROR event with a 410 Expired Status and the stream ends, as from the apiserver's
   * watch cache; clients then relist.
   */
  private watch(
    req: IncomingMessage,
    res: ServerResponse,
    r: ResourceType,
    namespace: string | undefined,
    query: URLSearchParams,
  ): void {
    const filter = this.filterFrom(r, query);
    const timeoutParam = query.get('timeoutSeconds');
    const timeoutSeconds =
      timeoutParam === null ? (this.opts.watchTimeoutSeconds ?? 1800) : Number(timeoutParam);
    const bookmarks = query.get('allowWatchBookmarks') === 'true';
    const url = new URL(req.url ?? '/', 'http://x');
    this.requests.push({
      method: 'GET',
      path: url.pathname,
      query: url.search,
      contentType: undefined,
      status: 200,
    });
    res.writeHead(200, { 'Content-Type': 'application/json', 'Transfer-Encoding': 'chunked' });
    // Send the headers now: a client waits for them before it reads events, and there may be none for a while.
    res.flushHeaders();
    const emit = (type: string, object: unknown) => res.write(`${JSON.stringify({ type, object })}\n`);
    let stopWatching: (() => void) | undefined;
    const timers: NodeJS.Timeout[] = [];
    const entry = {
      bookmark: () => {
        if (bookmarks)
          emit('BOOKMARK', {
            kind: r.kind,
            apiVersion: apiVersionOf(r),
            metadata: { resourceVersion: this.store.resourceVersion() },
          });
      },
      close: () => {
        stopWatching?.();
        for (const t of timers) clearTimeout(t);
        this.watches.delete(entry);
        if (!res.writableEnded) res.end();
      },
    };
    this.watches.add(entry);
    res.on('close', entry.close);
    try {
      stopWatching = this.store.watch(
        r,
        { namespace, filter, resourceVersion: query.get('resourceVersion') ?? undefined },
        (type, object: KubeObject) => emit(type, object),
      );
    } catch (err: unknown) {
      const apiError = err instanceof ApiError ? err : new ApiError(500, 'InternalError', String(err));
      emit('ERROR', apiError.toStatus());
      entry.close();
      return;
    }
    timers.push(setTimeout(entry.close, timeoutSeconds * 1000));
    if (bookmarks) timers.push(setInterval(entry.bookmark, this.opts.bookmarkIntervalMs ?? 1000));
  }
}

async function readJson(req: IncomingMessage): Promise<unknown> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req) {
    const buf = chunk as Buffer;
    size += buf.length;
    if (size > MAX_BODY_BYTES)
      throw new ApiError(413, 'RequestEntityTooLarge', 'request entity too large: limit is 3MiB');
    chunks.push(buf);
  }
  const text = Buffer.concat(chunks).toString('utf8');
  if (text.trim() === '') return undefined;
  try {
    return JSON.parse(text) as unknown;
  } catch (err: unknown) {
    throw badRequest(
      `couldn't get version/kind; json parse error: ${err instanceof Error ? err.message : String(err)}`,
    );
  }
}

/**
 * Where the runner reads what a node's agent reported (contracts NodeReport v1): the extender's
 * `GET /v1/nodes/NAME` (its `report` field), or files given with `--node-report`. Every report is
 * validated with the contracts' validator before use; an invalid or missing report leaves the
 * endpoint's fields null, never guessed.
 */
import { readFile } from 'node:fs/promises';
import { request as httpRequest } from 'node:http';
import { request as httpsRequest } from 'node:https';
import { validateNodeReport, type NodeReport } from '@rdmasched/contracts';

export type NodeReportLookup = { ok: true; report: NodeReport } | { ok: false; error: string };

export interface NodeReportSource {
  /** Never throws: an unreachable source or an unknown node is an error sentence. */
  get(node: string): Promise<NodeReportLookup>;
  /** For messages: `extender https://…`, `--node-report files`. */
  readonly description: string;
}

/** Accepts a report itself or the extender's `/v1/nodes/NAME` answer (`{ summary, pfs, gpus, report }`). */
function reportOf(value: unknown): unknown {
  if (value !== null && typeof value === 'object' && 'report' in value && !('kind' in value))
    return value.report;
  return value;
}

export class NoNodeReports implements NodeReportSource {
  readonly description = 'no node reports';
  get(): Promise<NodeReportLookup> {
    return Promise.resolve({
      ok: false,
      error: 'no node report source (--extender-url or --node-report): port rate, PF and NUMA node unknown',
    });
  }
}

export class FileNodeReports implements NodeReportSource {
  readonly description: string;

  private constructor(
    private readonly reports: ReadonlyMap<string, NodeReport>,
    files: readonly string[],
  ) {
    this.description = `--node-report ${files.join(', ')}`;
  }

  /**
   * Reads each file: one report, the extender's node answer, or a JSON array of either.
   * Returns every problem (file, index and field) instead of a source when any is bad.
   */
  static async load(
    files: readonly string[],
  ): Promise<{ ok: true; source: FileNodeReports } | { ok: false; errors: string[] }> {
    const reports = new Map<string, NodeReport>();
    const errors: string[] = [];
    for (const file of files) {
      let doc: unknown;
      try {
        doc = JSON.parse(await readFile(file, 'utf8')) as unknown;
      } catch (err: unknown) {
        errors.push(`--node-report ${file}: ${err instanceof Error ? err.message : String(err)}`);
        continue;
      }
      const items = Array.isArray(doc) ? doc : [doc];
      items.forEach((item, i) => {
        const where = Array.isArray(doc) ? `${file}[${i}]` : file;
        const v = validateNodeReport(reportOf(item));
        if (!v.ok)
          errors.push(
            `--node-report ${where}: not a valid v1 node report: ${v.errors.slice(0, 3).join('; ')}`,
          );
        else if (reports.has(v.value.nodeName))
          errors.push(`--node-report ${where}: a second report for node ${v.value.nodeName}`);
        else reports.set(v.value.nodeName, v.value);
      });
    }
    return errors.length > 0
      ? { ok: false, errors }
      : { ok: true, source: new FileNodeReports(reports, files) };
  }

  get(node: string): Promise<NodeReportLookup> {
    const report = this.reports.get(node);
    return Promise.resolve(
      report !== undefined
        ? { ok: true, report }
        : {
            ok: false,
            error: `no --node-report for node ${node} (reports given for: ${[...this.reports.keys()].join(', ') || 'none'})`,
          },
    );
  }
}

export interface ExtenderOptions {
  /** Base URL, e.g. `https://rdmasched-extender.rdmasched-system.svc:8443`. */
  readonly url: string;
  /** PEM CA bundle to verify an HTTPS extender with (else the system CAs). */
  readonly ca?: string;
  /** Bearer token (for an extender behind an authenticating proxy). Never logged. */
  readonly token?: string;
  readonly timeoutMs?: number;
}

const MAX_BODY_BYTES = 32 * 1024 * 1024;

export class ExtenderNodeReports implements NodeReportSource {
  readonly description: string;
  private readonly base: URL;

  constructor(private readonly o: ExtenderOptions) {
    this.base = new URL(o.url.endsWith('/') ? o.url : `${o.url}/`);
    this.description = `extender ${this.base.origin}`;
  }

  async get(node: string): Promise<NodeReportLookup> {
    const url = new URL(`v1/nodes/${encodeURIComponent(node)}`, this.base);
    let answer: { status: number; body: string };
    try {
      answer = await this.fetch(url);
    } catch (err: unknown) {
      return {
        ok: false,
        error: `extender ${url.href}: ${err instanceof Error ? err.message : String(err)}`,
      };
    }
    if (answer.status !== 200) {
      let message = answer.body.slice(0, 300);
      try {
        const e = JSON.parse(answer.body) as { error?: { code?: string; message?: string } };
        if (e.error?.message !== undefined) message = `${e.error.code ?? ''} ${e.error.message}`.trim();
      } catch {
        // not the extender's error shape
      }
      return { ok: false, error: `extender ${url.href}: HTTP ${answer.status}: ${message}` };
    }
    let doc: unknown;
    try {
      doc = JSON.parse(answer.body) as unknown;
    } catch {
      return { ok: false, error: `extender ${url.href}: the answer is not JSON` };
    }
    const v = validateNodeReport(reportOf(doc));
    if (!v.ok)
      return {
        ok: false,
        error: `extender ${url.href}: not a valid v1 node report: ${v.errors.slice(0, 3).join('; ')}`,
      };
    if (v.value.nodeName !== node)
      return {
        ok: false,
        error: `extender ${url.href}: the report is for node ${v.value.nodeName}, not ${node}`,
      };
    return { ok: true, report: v.value };
  }

  private fetch(url: URL): Promise<{ status: number; body: string }> {
    const https = url.protocol === 'https:';
    if (!https && url.protocol !== 'http:')
      return Promise.reject(new Error(`unsupported scheme ${url.protocol}`));
    return new Promise((resolve, reject) => {
      const req = (https ? httpsRequest : httpRequest)(
        url,
        {
          method: 'GET',
          headers: {
            accept: 'application/json',
            ...(this.o.token !== undefined ? { authorization: `Bearer ${this.o.token}` } : {}),
          },
          timeout: this.o.timeoutMs ?? 10_000,
          ...(https && this.o.ca !== undefined ? { ca: this.o.ca } : {}),
        },
        (res) => {
          const chunks: Buffer[] = [];
          let size = 0;
          res.on('data', (c: Buffer) => {
            size += c.length;
            if (size > MAX_BODY_BYTES) req.destroy(new Error(`answer larger than ${MAX_BODY_BYTES} bytes`));
            else chunks.push(c);
          });
          res.on('end', () =>
            resolve({ status: res.statusCode ?? 0, body: Buffer.concat(chunks).toString('utf8') }),
          );
          res.on('error', reject);
        },
      );
      req.on('timeout', () => req.destroy(new Error(`no answer within ${this.o.timeoutMs ?? 10_000} ms`)));
      req.on('error', reject);
      req.end();
    });
  }
}

/**
 * SubnetManager over NVIDIA UFM's REST API (the calls ib-kubernetes' UFM plugin makes, reference
 * anchors §2.5; Mellanox/ib-kubernetes pkg/sm/plugins/ufm):
 *
 *   add      POST /ufmRest/resources/pkeys
 *            {"pkey":"0x0A01","index0":true,"ip_over_ib":true,"membership":"full","guids":["0002c90300a0b0c1"]}
 *   remove   POST /ufmRest/actions/remove_guids_from_pkey   {"pkey":"0x0A01","guids":[...]}
 *   list     GET  /ufmRest/resources/pkeys/?guids_data=true
 *            -> {"0x0a01": {"guids": [{"guid": "0002C90300A0B0C1", ...}], ...}, ...}
 *   version  GET  /ufmRest/app/ufm_version                  (a connectivity check at start)
 *
 * Every call expects 200. GUIDs go as 16 hex digits without separators (UFM's form) and come back
 * the same way; the port speaks `xx:xx:...` lower case. HTTP basic auth; HTTPS verified against
 * the configured CA (or the system's). The password never appears in logs or errors.
 */
import { request as httpRequest, type IncomingMessage } from 'node:http';
import { request as httpsRequest } from 'node:https';
import type { SubnetManager } from '../../ports/subnet-manager.js';

export interface UfmOptions {
  /** `https://ufm.example.com` (port optional); `http://` only for tests. */
  readonly url: string;
  readonly username: string;
  readonly password: string;
  /** PEM CA bundle to verify UFM's certificate; default: the system's CAs. */
  readonly ca?: Buffer | string;
  /** Per-call timeout, ms (default 10,000). */
  readonly timeoutMs?: number;
}

export class SubnetManagerError extends Error {
  constructor(
    message: string,
    readonly status: number | undefined,
    options?: ErrorOptions,
  ) {
    super(message, options);
    this.name = 'SubnetManagerError';
  }
}

/** `0x0A01`, as the UFM plugin formats it (`0x%04X`). */
export function ufmPkey(pkey: number): string {
  return `0x${pkey.toString(16).toUpperCase().padStart(4, '0')}`;
}

/** `02:00:00:00:00:00:00:01` -> `0200000000000001`. */
export function ufmGuid(guid: string): string {
  return guid.replaceAll(':', '').toLowerCase();
}

/** `0200000000000001` (any case, separators tolerated) -> `02:00:00:00:00:00:00:01`; undefined if not a GUID. */
export function guidFromUfm(text: string): string | undefined {
  const hex = text.replace(/[:\-\s]/g, '').toLowerCase();
  if (!/^[0-9a-f]{16}$/.test(hex)) return undefined;
  return hex.match(/../g)?.join(':');
}

export class UfmSubnetManager implements SubnetManager {
  readonly kind = 'ufm';
  private readonly base: URL;
  private readonly auth: string;

  constructor(private readonly o: UfmOptions) {
    this.base = new URL(o.url);
    if (this.base.protocol !== 'https:' && this.base.protocol !== 'http:')
      throw new Error(`UFM URL must be https:// (or http://), not ${this.base.protocol}`);
    this.auth = `Basic ${Buffer.from(`${o.username}:${o.password}`).toString('base64')}`;
  }

  /** Where calls go, without credentials (for logs). */
  get endpoint(): string {
    return `${this.base.protocol}//${this.base.host}`;
  }

  async version(): Promise<string> {
    return (await this.call('GET', '/ufmRest/app/ufm_version')).trim();
  }

  async addGuidsToPKey(pkey: number, guids: readonly string[]): Promise<void> {
    if (guids.length === 0) return;
    await this.call('POST', '/ufmRest/resources/pkeys', {
      pkey: ufmPkey(pkey),
      index0: true,
      ip_over_ib: true,
      membership: 'full',
      guids: guids.map(ufmGuid),
    });
  }

  async removeGuidsFromPKey(pkey: number, guids: readonly string[]): Promise<void> {
    if (guids.length === 0) return;
    await this.call('POST', '/ufmRest/actions/remove_guids_from_pkey', {
      pkey: ufmPkey(pkey),
      guids: guids.map(ufmGuid),
    });
  }

  async listGuids(): Promise<ReadonlyMap<number, ReadonlySet<string>>> {
    const text = await this.call('GET', '/ufmRest/resources/pkeys/?guids_data=true');
    let body: unknown;
    try {
      body = JSON.parse(text);
    } catch (err: unknown) {
      throw new SubnetManagerError('UFM answered the PKey list with something that is not JSON', 200, {
        cause: err,
      });
    }
    if (typeof body !== 'object' || body === null || Array.isArray(body))
      throw new SubnetManagerError('UFM answered the PKey list with something that is not an object', 200);
    const out = new Map<number, Set<string>>();
    for (const [key, value] of Object.entries(body as Record<string, unknown>)) {
      if (!/^0[xX][0-9a-fA-F]{1,4}$/.test(key)) continue;
      const pkey = Number.parseInt(key.slice(2), 16) & 0x7fff;
      const set = out.get(pkey) ?? new Set<string>();
      const list = (value as { guids?: unknown } | null)?.guids;
      if (Array.isArray(list)) {
        for (const g of list) {
          const raw = typeof g === 'string' ? g : (g as { guid?: unknown } | null)?.guid;
          const guid = typeof raw === 'string' ? guidFromUfm(raw) : undefined;
          if (guid !== undefined) set.add(guid);
        }
      }
      out.set(pkey, set);
    }
    return out;
  }

  private call(method: 'GET' | 'POST', path: string, body?: unknown): Promise<string> {
    const url = new URL(path, this.base);
    const payload = body === undefined ? undefined : JSON.stringify(body);
    const doRequest = url.protocol === 'https:' ? httpsRequest : httpRequest;
    const what = `UFM ${method} ${url.pathname}`;
    return new Promise((resolve, reject) => {
      const req = doRequest(
        url,
        {
          method,
          headers: {
            authorization: this.auth,
            accept: 'application/json',
            ...(payload === undefined
              ? {}
              : { 'content-type': 'application/json', 'content-length': Buffer.byteLength(payload) }),
          },
          timeout: this.o.timeoutMs ?? 10_000,
          ...(url.protocol === 'https:' && this.o.ca !== undefined ? { ca: this.o.ca } : {}),
        },
        (res: IncomingMessage) => {
          const chunks: Buffer[] = [];
          res.on('data', (c: Buffer) => chunks.push(c));
          res.on('end', () => {
            const text = Buffer.concat(chunks).toString('utf8');
            if (res.statusCode === 200) resolve(text);
            else
              reject(
                new SubnetManagerError(
                  `${what} answered HTTP ${res.statusCode ?? '?'}: ${text.slice(0, 200)}`,
                  res.statusCode,
                ),
              );
          });
          res.on('error', (err) =>
            reject(new SubnetManagerError(`${what}: ${err.message}`, undefined, { cause: err })),
          );
        },
      );
      req.on('timeout', () => req.destroy(new Error(`timed out after ${this.o.timeoutMs ?? 10_000} ms`)));
      req.on('error', (err) =>
        reject(new SubnetManagerError(`${what}: ${err.message}`, undefined, { cause: err })),
      );
      req.end(payload);
    });
  }
}

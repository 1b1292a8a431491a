/**
 * Following a trimmed Redis stream (XADD MAXLEN ~) without losing an entry silently: shared by
 * the topology store (`{index}:events`) and the ledger mirror (`{ledger}:events`). A reader that
 * finds entries after its last id may have been trimmed away reloads everything.
 */
import type { RedisClient } from './connect.js';

/** Compares stream ids `ms-seq`; negative when a < b. */
export function compareStreamIds(a: string, b: string): number {
  const [am = '0', as = '0'] = a.split('-');
  const [bm = '0', bs = '0'] = b.split('-');
  const d = BigInt(am) - BigInt(bm);
  if (d !== 0n) return d < 0n ? -1 : 1;
  const e = BigInt(as) - BigInt(bs);
  return e === 0n ? 0 : e < 0n ? -1 : 1;
}

/**
 * True when entries after `since` may have been deleted before they were read. Trimming (XADD
 * MAXLEN ~) removes the oldest entries first, so:
 * - if the oldest entry left is newer than `since`, `since` itself was trimmed: the reader fell more
 *   than the stream's length behind and entries after it are very likely gone;
 * - if the stream is empty but ids after `since` were generated, they were all deleted;
 * - from `0-0` (the stream did not exist at load), any deletion at all lost an entry;
 * - `max-deleted-entry-id` (Redis >= 7, set by XDEL) newer than `since` lost one too.
 * A false positive only costs a reload.
 */
export async function streamTrimmedSince(client: RedisClient, key: string, since: string): Promise<boolean> {
  let raw: unknown[];
  try {
    raw = (await client.xinfo('STREAM', key)) as unknown[];
  } catch (err: unknown) {
    if (err instanceof Error && /no such key/i.test(err.message)) return false;
    throw err;
  }
  return trimmedFromInfo(raw, since);
}

/** The rule of `streamTrimmedSince` on an XINFO STREAM reply already read. Pure. */
export function trimmedFromInfo(raw: readonly unknown[], since: string): boolean {
  const info = new Map<string, unknown>();
  for (let i = 0; i + 1 < raw.length; i += 2) info.set(String(raw[i]), raw[i + 1]);
  const length = Number(info.get('length') ?? 0);
  const text = (k: string): string => {
    const v = info.get(k);
    return typeof v === 'string' ? v : '0-0';
  };
  const lastGenerated = text('last-generated-id');
  const maxDeleted = text('max-deleted-entry-id');
  const firstEntry = info.get('first-entry');
  const first = Array.isArray(firstEntry) && typeof firstEntry[0] === 'string' ? firstEntry[0] : undefined;
  if (compareStreamIds(maxDeleted, since) > 0) return true;
  if (length === 0 || first === undefined) return compareStreamIds(lastGenerated, since) > 0;
  if (since === '0-0') {
    const added = info.get('entries-added');
    return added !== undefined && Number(added) > length;
  }
  return compareStreamIds(first, since) > 0;
}

export type StreamEntry = [id: string, fields: string[]];

/**
 * XREAD BLOCK after `since` and XINFO STREAM, pipelined on the (dedicated, blocking) connection:
 * Redis runs the XINFO right after the XREAD returns, so the trim check sees the stream as the
 * read left it, at the cost of no extra round trip. `trimmed`: entries after `since` may have been
 * lost (reload everything). Throws when the read fails.
 */
export async function readStream(
  blocking: RedisClient,
  key: string,
  since: string,
  opts: { readonly count: number; readonly blockMs: number },
): Promise<{ entries: StreamEntry[]; trimmed: boolean }> {
  const replies = await blocking
    .pipeline()
    .xread('COUNT', opts.count, 'BLOCK', opts.blockMs, 'STREAMS', key, since)
    .xinfo('STREAM', key)
    .exec();
  const [read, info] = replies ?? [];
  if (read === undefined || read[0] !== null) throw read?.[0] ?? new Error('XREAD returned nothing');
  const entries = (read[1] as [string, StreamEntry[]][] | null)?.[0]?.[1] ?? [];
  let trimmed = false;
  if (info !== undefined) {
    const [err, raw] = info;
    if (err === null) trimmed = trimmedFromInfo(raw as unknown[], since);
    else if (!/no such key/i.test(err.message)) throw err;
  }
  return { entries, trimmed };
}

/** The id of a stream's last entry, or `0-0` when it is empty or missing. */
export async function lastStreamId(client: RedisClient, key: string): Promise<string> {
  const last = (await client.xrevrange(key, '+', '-', 'COUNT', 1)) as [string, string[]][];
  return last[0]?.[0] ?? '0-0';
}

/** The value of `name` in a stream entry's flat field list. */
export function streamField(fields: readonly string[], name: string): string | undefined {
  for (let i = 0; i + 1 < fields.length; i += 2) if (fields[i] === name) return fields[i + 1];
  return undefined;
}

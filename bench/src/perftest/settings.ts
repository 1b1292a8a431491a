/** Builds `PerftestSettings` from header values and result rows (shared by the text and JSON parsers). */
import type { TestTitle } from './header.js';
import type { BandwidthRow, LatencyRow, PerftestSettings } from './types.js';

/** The settings a header can carry; null when it did not print them. */
export interface HeaderSettings {
  device: string | null;
  linkType: string | null;
  transportType: string | null;
  connectionType: string | null;
  qps: number | null;
  mtuBytes: number | null;
  txDepth: number | null;
  cqModeration: number | null;
  gidIndex: number | null;
  maxInlineBytes: number | null;
  outstandingReads: number | null;
  rdmaCmQps: boolean | null;
  dataExchange: string | null;
  tos: number | null;
}

export function emptyHeaderSettings(): HeaderSettings {
  return {
    device: null,
    linkType: null,
    transportType: null,
    connectionType: null,
    qps: null,
    mtuBytes: null,
    txDepth: null,
    cqModeration: null,
    gidIndex: null,
    maxInlineBytes: null,
    outstandingReads: null,
    rdmaCmQps: null,
    dataExchange: null,
    tos: null,
  };
}

type Kind = 'string' | 'int' | 'bytes' | 'onoff';

/** Header keys (lower case, single spaces) and where they go. */
const TEXT_KEYS: Readonly<Record<string, { field: keyof HeaderSettings; kind: Kind }>> = {
  device: { field: 'device', kind: 'string' },
  'link type': { field: 'linkType', kind: 'string' },
  'transport type': { field: 'transportType', kind: 'string' },
  'connection type': { field: 'connectionType', kind: 'string' },
  'number of qps': { field: 'qps', kind: 'int' },
  mtu: { field: 'mtuBytes', kind: 'bytes' },
  'tx depth': { field: 'txDepth', kind: 'int' },
  'cq moderation': { field: 'cqModeration', kind: 'int' },
  'gid index': { field: 'gidIndex', kind: 'int' },
  'max inline data': { field: 'maxInlineBytes', kind: 'bytes' },
  'outstand reads': { field: 'outstandingReads', kind: 'int' },
  'rdma_cm qps': { field: 'rdmaCmQps', kind: 'onoff' },
  'data ex. method': { field: 'dataExchange', kind: 'string' },
  tos: { field: 'tos', kind: 'int' },
};

/** JSON `test_info` keys (see perftest.md §6) and where they go. */
export const JSON_KEYS: Readonly<Record<string, { field: keyof HeaderSettings; kind: Kind }>> = {
  Device: { field: 'device', kind: 'string' },
  Link_type: { field: 'linkType', kind: 'string' },
  Transport_type: { field: 'transportType', kind: 'string' },
  Connection_type: { field: 'connectionType', kind: 'string' },
  Number_of_qps: { field: 'qps', kind: 'int' },
  Mtu: { field: 'mtuBytes', kind: 'int' },
  TX_depth: { field: 'txDepth', kind: 'int' },
  CQ_Moderation: { field: 'cqModeration', kind: 'int' },
  GID_index: { field: 'gidIndex', kind: 'int' },
  Max_inline_data: { field: 'maxInlineBytes', kind: 'int' },
  Outstand_reads: { field: 'outstandingReads', kind: 'int' },
  rdma_cm_QPs: { field: 'rdmaCmQps', kind: 'onoff' },
  Data_ex_method: { field: 'dataExchange', kind: 'string' },
  TOS: { field: 'tos', kind: 'int' },
};

/**
 * Applies one printed header value. Returns an error sentence when a known key has a value perftest
 * would never print (so a garbled header cannot turn into a wrong setting).
 */
export function applyTextHeader(target: HeaderSettings, key: string, value: string): string | undefined {
  const spec = TEXT_KEYS[key.toLowerCase().replace(/\s+/g, ' ')];
  if (spec === undefined) return undefined;
  return applyValue(target, spec.field, spec.kind, value, key);
}

export function applyValue(
  target: HeaderSettings,
  field: keyof HeaderSettings,
  kind: Kind,
  value: string | number | boolean,
  key: string,
): string | undefined {
  const text = String(value);
  switch (kind) {
    case 'string':
      (target as unknown as Record<string, unknown>)[field] = text;
      return undefined;
    case 'int':
    case 'bytes': {
      const m = (kind === 'bytes' ? /^(\d+)(\[B\])?$/ : /^(\d+)$/).exec(text);
      if (m === null)
        return `${key} should be a whole number${kind === 'bytes' ? ' of bytes' : ''}, got ${JSON.stringify(text)}`;
      (target as unknown as Record<string, unknown>)[field] = Number(m[1]);
      return undefined;
    }
    case 'onoff':
      if (text !== 'ON' && text !== 'OFF') return `${key} should be ON or OFF, got ${JSON.stringify(text)}`;
      (target as unknown as Record<string, unknown>)[field] = text === 'ON';
      return undefined;
  }
}

export function buildSettings(input: {
  title: TestTitle;
  header: HeaderSettings;
  rawHeader: Record<string, string>;
  rows: readonly (BandwidthRow | LatencyRow)[];
  peakMeasured: boolean | null;
  durationMode: boolean;
  addressLines: { local: number; remote: number };
  unitLabel: string | null;
}): PerftestSettings {
  const sizes: number[] = [];
  let repeated = false;
  for (const r of input.rows) {
    if (r.messageSizeBytes === null) continue;
    if (sizes.includes(r.messageSizeBytes)) repeated = true;
    else sizes.push(r.messageSizeBytes);
  }
  return {
    testName: input.title.testName,
    verb: input.title.verb,
    kind: input.title.kind,
    bidirectional: input.title.bidirectional,
    ...input.header,
    messageSizesBytes: sizes,
    iterations: input.rows[0]?.iterations ?? null,
    peakMeasured: input.peakMeasured,
    durationMode: input.durationMode,
    timeSeries: repeated,
    addressLines: input.addressLines,
    unitLabel: input.unitLabel,
    header: input.rawHeader,
  };
}

/**
 * The header block perftest prints before its results (`ctx_print_test_info`): a title line,
 * then `Key : value` settings, one or two per line separated by tabs or spaces:
 *
 *   `                    RDMA_Write Bidirectional BW Test`
 *   ` Dual-port       : OFF\t\tDevice         : mlx5_0`
 *   ` Mtu             : 4096[B]`
 *   ` Data ex. method : rdma_cm \tTOS    : 106`
 */
import type { PerftestKind, PerftestVerb } from './types.js';

export interface TestTitle {
  readonly testName: string;
  readonly verb: PerftestVerb;
  readonly kind: PerftestKind;
  readonly bidirectional: boolean;
}

const VERBS: Readonly<Record<string, PerftestVerb>> = {
  Send: 'send',
  Send_imm: 'send_imm',
  RDMA_Write: 'write',
  RDMA_Write_imm: 'write_imm',
  RDMA_Read: 'read',
  Atomic: 'atomic',
};

const TITLE_RE =
  /^\s*(Send|Send_imm|RDMA_Write|RDMA_Write_imm|RDMA_Read|Atomic(?: CMP_AND_SWAP| FETCH_AND_ADD)?)\s+(Bidirectional\s+)?(Post List\s+)?(BW|Latency)\s+(forwarding\s+)?(Multicast\s+)?Test\s*$/;

/** Parses a title line such as `RDMA_Write BW Test`; undefined when the line is not one. */
export function parseTitle(line: string): TestTitle | undefined {
  const m = TITLE_RE.exec(line);
  if (m === null) return undefined;
  const verbWord = (m[1] ?? '').split(' ')[0] ?? '';
  const verb = VERBS[verbWord];
  if (verb === undefined) return undefined;
  return {
    testName: line.trim().replace(/\s+/g, ' '),
    verb,
    kind: m[4] === 'BW' ? 'bandwidth' : 'latency',
    bidirectional: m[2] !== undefined,
  };
}

const JSON_TITLE_RE =
  /^(Send|Send_imm|RDMA_Write|RDMA_Write_imm|RDMA_Read|Atomic(?:_CMP_AND_SWAP|_FETCH_AND_ADD)?)_(Bidirectional_)?(Post_List_)?(BW|Latency)_(forwarding_)?(Multicast_)?Test$/;

/** Parses the JSON `test` field (`RDMA_Write_BW_Test`, `RDMA_Write_Bidirectional_BW_Test`). */
export function parseJsonTitle(test: string): TestTitle | undefined {
  const m = JSON_TITLE_RE.exec(test);
  if (m === null) return undefined;
  const verbWord = (m[1] ?? '').replace(/_(CMP_AND_SWAP|FETCH_AND_ADD)$/, '');
  const verb = VERBS[verbWord];
  if (verb === undefined) return undefined;
  // Back to the text spelling, so text and JSON results name the test the same way.
  const words = [
    (m[1] ?? '').replace(/^Atomic_/, 'Atomic '),
    m[2] !== undefined ? 'Bidirectional' : null,
    m[3] !== undefined ? 'Post List' : null,
    m[4],
    m[5] !== undefined ? 'forwarding' : null,
    m[6] !== undefined ? 'Multicast' : null,
    'Test',
  ].filter((w): w is string => w !== null && w !== undefined);
  return {
    testName: words.join(' '),
    verb,
    kind: m[4] === 'BW' ? 'bandwidth' : 'latency',
    bidirectional: m[2] !== undefined,
  };
}

/** `ib_write_bw`, `ib_read_lat`, ... on a command line: the test when no title was printed. */
export function titleFromCommand(commandLine: string): TestTitle | undefined {
  const m = /\bib_(write|read|send|atomic)_(bw|lat)\b/.exec(commandLine);
  if (m === null) return undefined;
  const verb = m[1] as 'write' | 'read' | 'send' | 'atomic';
  const kind: PerftestKind = m[2] === 'bw' ? 'bandwidth' : 'latency';
  const bidirectional = kind === 'bandwidth' && /\s(-b|--bidirectional)(\s|$)/.test(commandLine);
  const verbName = { write: 'RDMA_Write', read: 'RDMA_Read', send: 'Send', atomic: 'Atomic' }[verb];
  const testName = `${verbName} ${bidirectional ? 'Bidirectional ' : ''}${kind === 'bandwidth' ? 'BW' : 'Latency'} Test`;
  return { testName, verb, kind, bidirectional };
}

/** True for a line that starts with a shell prompt and runs a perftest tool. */
export function isCommandLine(line: string): boolean {
  return (
    /^\s*(\[[^\]]*\]\s*)?[^\s#$>]*[#$>]\s+.*\bib_(write|read|send|atomic)_(bw|lat)\b/.test(line) ||
    /^\s*(sudo\s+)?(\S*\/)?ib_(write|read|send|atomic)_(bw|lat)(\s|$)/.test(line)
  );
}

const PAIR_RE = /([A-Za-z][A-Za-z0-9_.*\-/ ]*?)\s*:\s*(\S+)/gy;

/**
 * Splits a header line into its `key : value` pairs. Returns undefined unless the whole line is
 * made of such pairs (so a sentence with a colon is not mistaken for a setting).
 */
export function parseHeaderPairs(line: string): { key: string; value: string }[] | undefined {
  const pairs: { key: string; value: string }[] = [];
  const text = line.replace(/\s+$/, '');
  let pos = text.length - text.trimStart().length;
  while (pos < text.length) {
    PAIR_RE.lastIndex = pos;
    const m = PAIR_RE.exec(text);
    if (m === null) return undefined;
    pairs.push({ key: (m[1] ?? '').replace(/\s+/g, ' ').trim(), value: m[2] ?? '' });
    pos = PAIR_RE.lastIndex;
    while (pos < text.length && /\s/.test(text[pos] ?? '')) pos++;
  }
  return pairs.length > 0 ? pairs : undefined;
}

export interface AddressLine {
  readonly side: 'local' | 'remote';
  /** `LID`, `QPN`, `PSN`, `RKey`, `VAddr` as printed (rdma_cm mode has no RKey/VAddr). */
  readonly fields: Readonly<Record<string, string>>;
}

const ADDRESS_RE = /^\s*(local|remote) address:\s*(.*)$/;

export function parseAddressLine(line: string): AddressLine | undefined {
  const m = ADDRESS_RE.exec(line);
  if (m === null) return undefined;
  const fields: Record<string, string> = {};
  const tokens = (m[2] ?? '').trim().split(/\s+/);
  for (let i = 0; i + 1 < tokens.length; i += 2) fields[tokens[i] ?? ''] = tokens[i + 1] ?? '';
  return { side: m[1] === 'local' ? 'local' : 'remote', fields };
}

/** RoCE address lines are followed by ` GID: 00:00:...:255:255:10:0:0:1`. */
export function isGidLine(line: string): boolean {
  return /^\s*\[?\s*GID:\s*[0-9a-fA-F:.]+\s*\]?\s*$/.test(line);
}

/**
 * Why perftest output could not be parsed. Codes are stable (scripts may match on them); the
 * message names the line and quotes it. The parser returns these as data, never a partial
 * result: a number it is not sure of is an error, not a guess.
 */

export const PERFTEST_ERROR_CODES = {
  EMPTY_INPUT: 'the input is empty',
  NO_TEST_TITLE: 'no test title line (e.g. "RDMA_Write BW Test") and no ib_* command line',
  MULTIPLE_TESTS: 'a second test title: one input must hold one test',
  KIND_MISMATCH: 'the result columns do not belong to the test in the title',
  UNKNOWN_COLUMNS: 'a result column header with a column the parser does not know',
  INCOMPLETE_COLUMNS: 'a result column header without the columns its test always prints',
  MIXED_COLUMNS: 'a second, different result column header',
  VALUE_BEFORE_COLUMNS: 'a result value before any result column header',
  BAD_ROW: 'a result row that does not match its column header',
  BAD_HEADER_VALUE: 'a header setting whose value is not what perftest prints',
  CYCLES_NOT_USEC: 'latency reported in CPU cycles (-C), not microseconds',
  NO_RESULT_ROWS: 'no result rows',
  BAD_JSON: 'an --out_json file that is not JSON even after the known repairs',
  JSON_SHAPE: 'an --out_json file without the fields perftest writes',
  JSON_UNIT_REQUIRED: 'an --out_json bandwidth file needs its unit from the caller',
  JSON_TEXT_MISMATCH: 'the --out_json figures contradict the text output of the same run',
} as const;

export type PerftestErrorCode = keyof typeof PERFTEST_ERROR_CODES;

export interface PerftestParseError {
  readonly code: PerftestErrorCode;
  /** One sentence naming what was wrong, the line number and its content. */
  readonly message: string;
  /** 1-based; null when the problem is not on one line (empty input, no rows). */
  readonly lineNumber: number | null;
  /** The offending line as it was in the input. */
  readonly line: string | null;
}

export type ParseOutcome<T> =
  { readonly ok: true; readonly value: T } | { readonly ok: false; readonly error: PerftestParseError };

/** Builds an error whose message starts with `line N: "<content>"` when a line is given. */
export function parseError(
  code: PerftestErrorCode,
  detail: string,
  where?: { lineNumber: number; line: string },
): { ok: false; error: PerftestParseError } {
  const message =
    where === undefined ? detail : `line ${where.lineNumber}: ${JSON.stringify(where.line)}: ${detail}`;
  return {
    ok: false,
    error: { code, message, lineNumber: where?.lineNumber ?? null, line: where?.line ?? null },
  };
}

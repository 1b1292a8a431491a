/**
 * What the perftest parser returns. Every figure is normalised (bytes/s and Gb/s for bandwidth,
 * µs for latency, Mpps for message rate) and keeps the text perftest printed, so a report can
 * always show where a number came from.
 */
import type { BandwidthFigure, BandwidthUnit } from './units.js';

/** The verb of the test (`testsStr[]` in perftest): `Send`, `RDMA_Write`, `RDMA_Read`, ... */
export type PerftestVerb = 'send' | 'send_imm' | 'write' | 'write_imm' | 'read' | 'atomic';
export type PerftestKind = 'bandwidth' | 'latency';

/** A bandwidth figure with what perftest printed for it. */
export interface Bandwidth extends BandwidthFigure {
  readonly printed: {
    readonly value: number;
    readonly unit: BandwidthUnit;
    /** The token exactly as printed (`111.71`, `0.042185`); null for `--out_json` numbers. */
    readonly text: string | null;
  };
}

/** Test settings from the header block (`ctx_print_test_info`) or from JSON `test_info`. */
export interface PerftestSettings {
  /** Title as printed, e.g. `RDMA_Write BW Test`, `RDMA_Read Latency Test`. */
  readonly testName: string;
  readonly verb: PerftestVerb;
  readonly kind: PerftestKind;
  /** `-b`: the title says `Bidirectional`; the printed bandwidth is the sum of both directions. */
  readonly bidirectional: boolean;
  /** `Device` (`-d`). */
  readonly device: string | null;
  /** `Link type`: `IB` or `Ethernet` (RoCE). */
  readonly linkType: string | null;
  /** `Transport type`, e.g. `IB`. */
  readonly transportType: string | null;
  /** `Connection type`: RC, UC, UD, XRC, DC, SRD. */
  readonly connectionType: string | null;
  /** `Number of qps` (`-q`). */
  readonly qps: number | null;
  /** `Mtu` in bytes. */
  readonly mtuBytes: number | null;
  /** `TX depth` (`-t`); printed by the client or a bidirectional side only. */
  readonly txDepth: number | null;
  /** `CQ Moderation` (`-Q`), bandwidth tests. */
  readonly cqModeration: number | null;
  /** `GID index` (`-x`); printed only when set or selected (RoCE). */
  readonly gidIndex: number | null;
  /** `Max inline data` in bytes (write/send). */
  readonly maxInlineBytes: number | null;
  /** `Outstand reads` (read/atomic). */
  readonly outstandingReads: number | null;
  /** `rdma_cm QPs` (`-R`). */
  readonly rdmaCmQps: boolean | null;
  /** `Data ex. method`: `Ethernet` (TCP socket) or `rdma_cm`. */
  readonly dataExchange: string | null;
  /** `TOS` appended to the data exchange line with `-R -T`. */
  readonly tos: number | null;
  /** Message sizes of the result rows, in order of first appearance (several with `-a`). */
  readonly messageSizesBytes: readonly number[];
  /** Iterations printed in the first result row. */
  readonly iterations: number | null;
  /**
   * Bandwidth tests: false when every row prints peak 0.00 (duration mode `-D`,
   * `--run_infinitely`, `-N`); null for latency tests.
   */
  readonly peakMeasured: boolean | null;
  /** Latency tests in duration mode (`-D`) print only `t_avg` and `tps average`. */
  readonly durationMode: boolean;
  /** Several rows for one message size: `--run_infinitely` prints a row every duration. */
  readonly timeSeries: boolean;
  /** `local address:` / `remote address:` lines (one per QP); 0 for `--out_json` input. */
  readonly addressLines: { readonly local: number; readonly remote: number };
  /** The bandwidth unit label as printed (`MiB/sec`, `MB/sec`, `Gb/sec`); null for latency or JSON. */
  readonly unitLabel: string | null;
  /** Every header key and value as printed (keys with runs of spaces collapsed). */
  readonly header: Readonly<Record<string, string>>;
}

export interface PortFigures {
  readonly bandwidth: Bandwidth;
  readonly msgRateMpps: number;
}

/** One result row of a bandwidth test (`REPORT_FMT`, `REPORT_FMT_EXT`, per-port or QoS). */
export interface BandwidthRow {
  /** 1-based line in the input; null for `--out_json`. */
  readonly lineNumber: number | null;
  /** Null only for `--out_json` written with `--output=bandwidth` (it holds just `bw_avg`). */
  readonly messageSizeBytes: number | null;
  readonly iterations: number | null;
  /** Null when perftest did not measure the peak (it prints 0.00 then). */
  readonly peak: Bandwidth | null;
  readonly average: Bandwidth;
  /** Null only for `--output=bandwidth` JSON. */
  readonly msgRateMpps: number | null;
  /** `--cpu_util` column (duration mode only). */
  readonly cpuUtilPercent: number | null;
  /** `--report-per-port` (dual-port) columns: port 1, port 2. */
  readonly ports: readonly PortFigures[];
  /** QoS variant (`#sl` column). */
  readonly serviceLevel: number | null;
}

/** One result row of a latency test, in µs (`RESULT_FMT_LAT` or, with `-D`, `RESULT_FMT_LAT_DUR`). */
export interface LatencyRow {
  readonly lineNumber: number | null;
  readonly messageSizeBytes: number | null;
  readonly iterations: number | null;
  readonly minUs: number | null;
  /** perftest excludes the 2 largest samples from t_max. */
  readonly maxUs: number | null;
  /** `t_typical` is the median. */
  readonly typicalUs: number | null;
  /** `t_avg`: what the verdict judges. Half a round trip for write/send, a full one for read/atomic. */
  readonly avgUs: number;
  readonly stdevUs: number | null;
  readonly p99Us: number | null;
  readonly p999Us: number | null;
  /** `tps average`, duration mode only. */
  readonly tpsAverage: number | null;
  readonly cpuUtilPercent: number | null;
}

export type WarningKind =
  /** A known interleaved line (CPU frequency, libibverbs, CUDA, peak disabled, server waiting). */
  | 'noise'
  /** A line the parser does not know; it carried no figure. */
  | 'unrecognised'
  /** A line where perftest or a driver reported an error. */
  | 'tool-error'
  /** The input contradicts itself (QP count vs address lines). */
  | 'inconsistent'
  /** `--out_json` had to be repaired (trailing comma, unquoted key) before it parsed. */
  | 'json-repair';

export interface PerftestWarning {
  readonly kind: WarningKind;
  /** Short stable name of the noise or repair, e.g. `cpu-frequency`, `trailing-comma`. */
  readonly code: string;
  readonly lineNumber: number | null;
  readonly line: string | null;
  readonly message: string;
}

interface ResultBase {
  /** `text`: tool output (stdout/stderr); `json`: an `--out_json` file. */
  readonly source: 'text' | 'json';
  readonly settings: PerftestSettings;
  readonly warnings: readonly PerftestWarning[];
  /** The shell command line when the input starts with one (`[root@node3 bin]# ib_write_bw -a ...`). */
  readonly commandLine: string | null;
}

export interface BandwidthResult extends ResultBase {
  readonly kind: 'bandwidth';
  /** The unit perftest printed the bandwidth columns in. */
  readonly unit: BandwidthUnit;
  readonly rows: readonly BandwidthRow[];
}

export interface LatencyResult extends ResultBase {
  readonly kind: 'latency';
  readonly rows: readonly LatencyRow[];
}

export type PerftestResult = BandwidthResult | LatencyResult;

/**
 * The perftest command lines `rdma local` runs. Server and client get the same options
 * ("The SAME OPTIONS must be passed to both server and client", perftest README); the client adds
 * the server's address. Each test gets its own TCP port (base + index) so a slow server of one
 * test can never answer the client of the next.
 */
import type { PerftestKind, PerftestVerb } from '../perftest/types.js';

export type LocalVerb = Extract<PerftestVerb, 'write' | 'read' | 'send'>;
export const LOCAL_VERBS: readonly LocalVerb[] = ['write', 'read', 'send'];

export interface PlanOptions {
  readonly verbs: readonly LocalVerb[];
  readonly kinds: readonly PerftestKind[];
  /** `-i`: the port of the device. */
  readonly ibPort: number;
  /** `-p` of the first test; test i uses tcpPort + i. */
  readonly tcpPort: number;
  /** `-s`; perftest's defaults (65536 for BW, 2 for latency) when absent. */
  readonly bwMessageSizeBytes?: number;
  readonly latMessageSizeBytes?: number;
  /** `-q`, bandwidth tests. */
  readonly qps?: number;
  /** `-D`: seconds per test instead of an iteration count. */
  readonly durationS?: number;
  /** `-b`, bandwidth tests. */
  readonly bidirectional: boolean;
  /** `-x`: GID index (RoCE). */
  readonly gidIndex?: number;
  /** `-R`: connect QPs with rdma_cm. */
  readonly rdmaCm: boolean;
}

export interface PlannedTest {
  /** `write bw`, `read lat`. */
  readonly name: string;
  readonly verb: LocalVerb;
  readonly kind: PerftestKind;
  /** `ib_write_bw`, ... */
  readonly tool: string;
  readonly tcpPort: number;
  /** Options shared by both sides, without `-d` and the server address. */
  readonly args: readonly string[];
  readonly messageSizeBytes: number | null;
}

export function toolName(verb: LocalVerb, kind: PerftestKind): string {
  return `ib_${verb}_${kind === 'bandwidth' ? 'bw' : 'lat'}`;
}

export function planTests(o: PlanOptions): PlannedTest[] {
  const tests: PlannedTest[] = [];
  for (const verb of o.verbs)
    for (const kind of o.kinds) {
      const tcpPort = o.tcpPort + tests.length;
      const size = kind === 'bandwidth' ? o.bwMessageSizeBytes : o.latMessageSizeBytes;
      const args = ['-i', String(o.ibPort), '-p', String(tcpPort)];
      if (size !== undefined) args.push('-s', String(size));
      if (o.durationS !== undefined) args.push('-D', String(o.durationS));
      if (o.gidIndex !== undefined) args.push('-x', String(o.gidIndex));
      if (o.rdmaCm) args.push('-R');
      if (kind === 'bandwidth') {
        // Gb/s output: the unit port rates use; the parser reads either unit anyway.
        args.push('--report_gbits');
        if (o.qps !== undefined) args.push('-q', String(o.qps));
        if (o.bidirectional) args.push('-b');
      }
      tests.push({
        name: `${verb} ${kind === 'bandwidth' ? 'bw' : 'lat'}`,
        verb,
        kind,
        tool: toolName(verb, kind),
        tcpPort,
        args,
        messageSizeBytes: size ?? (kind === 'bandwidth' ? 65536 : 2),
      });
    }
  return tests;
}

/** Server command line: `ib_write_bw -d mlx5_0 <args>`. */
export function serverArgs(test: PlannedTest, device: string): string[] {
  return ['-d', device, ...test.args];
}

/** Client command line: `ib_write_bw -d mlx5_1 <args> <server address>`. */
export function clientArgs(test: PlannedTest, device: string, serverAddress: string): string[] {
  return ['-d', device, ...test.args, serverAddress];
}

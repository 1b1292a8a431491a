/** `rdmasched-bench rdma local`: command-line options for `runLocal`. */
import { hostname } from 'node:os';
import { isRdmaDeviceName } from '@rdmasched/contracts';
import type { Command } from '../command.js';
import {
  onProcessInterrupt,
  parseCommandArgs,
  portRateGbpsOption,
  RDMA_REPORT_OPTIONS,
  thresholdOptions,
  wholeNumberOptions,
} from '../command-options.js';
import type { PerftestKind } from '../perftest/types.js';
import { renderJson } from '../report/report.js';
import { EXIT } from './exit-codes.js';
import { processIo, type CommandIo } from './io.js';
import { LOCAL_VERBS, type LocalVerb } from './plan.js';
import { defaultOutDir, runLocal, type LocalRunOptions } from './run-local.js';

const USAGE = `usage: rdmasched-bench rdma local [options]

Runs perftest on this host without Kubernetes and judges it like the cluster runner:
  default     server on one local RDMA device, client on another (the same one when there is only
              one), exchanging over loopback TCP; the traffic goes through the NIC(s)
  --peer HOST client here, server on HOST, where "rdmasched-bench rdma local --serve" runs with
              the same test options
  --serve     servers only, one per test, for a peer's --peer run
Writes report.md, report.json, bandwidth.svg and latency.svg to --out.

options:
  --device DEV           server device (in --peer mode: the client's); default the first ACTIVE one
  --client-device DEV    client device; default the second ACTIVE device, else the first
  --tests LIST           write,read,send (default write)
  --kind LIST            bw,lat (default bw,lat)
  --size BYTES           bandwidth message size (perftest default 65536)
  --lat-size BYTES       latency message size (perftest default 2)
  --qps N                QPs for bandwidth tests (-q)
  --duration S           run each test for S seconds (-D) instead of an iteration count
  --bidirectional        bandwidth both ways (-b); the line rate doubles
  --gid-index N          GID index (-x), RoCE
  --rdma-cm              connect QPs with rdma_cm (-R)
  --ib-port N            device port (-i, default 1)
  --tcp-port N           first out-of-band TCP port (-p, default 18515; test i uses N+i)
  --sys-root DIR         sysfs root to find devices and port rates (default /sys)
  --perftest-dir DIR     folder with ib_write_bw & co. when they are not on PATH
  --timeout S            limit per test (default 120, or duration + 60)
  --port-rate-gbps N     judge against N Gb/s instead of the sysfs port rate
  --min-bw-fraction F    default 0.9
  --max-write-lat-us N   default 2.5
  --max-read-lat-us N    default 4.5
  --out DIR              report folder (default ./rdma-local-<time>)
  --json                 also print report.json to stdout
  --dry-run              print the perftest commands and stop

exit codes: 0 all passed; 1 a verdict failed; 2 usage; 3 perftest not found; 4 no usable RDMA
            device; 5 a run failed, timed out or gave no verdict; 130 interrupted (partial report)`;

const HOST_RE = /^(?!-)[A-Za-z0-9.:%_-]{1,253}$/;

export interface LocalCommandDeps {
  readonly io: CommandIo;
  readonly env: NodeJS.ProcessEnv;
  readonly cwd: () => string;
  readonly hostname: () => string;
  readonly now: () => Date;
  /** Installs Ctrl-C handling; returns the uninstaller. */
  readonly onInterrupt: (handler: () => void) => () => void;
}

const processDeps: LocalCommandDeps = {
  io: processIo,
  env: process.env,
  cwd: () => process.cwd(),
  hostname,
  now: () => new Date(),
  onInterrupt: onProcessInterrupt,
};

export function createLocalCommand(deps: LocalCommandDeps = processDeps): Command {
  const { io } = deps;
  return {
    name: 'local',
    summary: 'perftest between local RDMA devices or to a peer host (bare metal, no Kubernetes)',
    async run(argv) {
      const parsed = parseCommandArgs(
        {
          args: [...argv],
          options: {
            device: { type: 'string' },
            'client-device': { type: 'string' },
            peer: { type: 'string' },
            serve: { type: 'boolean', default: false },
            tests: { type: 'string', default: 'write' },
            kind: { type: 'string', default: 'bw,lat' },
            size: { type: 'string' },
            'lat-size': { type: 'string' },
            qps: { type: 'string' },
            duration: { type: 'string' },
            bidirectional: { type: 'boolean', default: false },
            'gid-index': { type: 'string' },
            'rdma-cm': { type: 'boolean', default: false },
            'ib-port': { type: 'string', default: '1' },
            'tcp-port': { type: 'string', default: '18515' },
            'sys-root': { type: 'string', default: '/sys' },
            'perftest-dir': { type: 'string' },
            timeout: { type: 'string' },
            ...RDMA_REPORT_OPTIONS,
          },
        },
        io,
        USAGE,
      );
      if ('exit' in parsed) return parsed.exit;
      const v = parsed.values;

      // Every problem at once, each naming its option.
      const problems: string[] = [];
      const int = wholeNumberOptions(problems);
      const list = <T extends string>(name: string, text: string, allowed: Record<string, T>): T[] => {
        const items = text
          .split(',')
          .map((s) => s.trim())
          .filter((s) => s !== '');
        const bad = items.filter((s) => allowed[s] === undefined);
        if (bad.length > 0 || items.length === 0)
          problems.push(
            `--${name} takes a comma-separated list of ${Object.keys(allowed).join(', ')}; got ${JSON.stringify(text)}`,
          );
        return [...new Set(items.map((s) => allowed[s]).filter((x): x is T => x !== undefined))];
      };
      const device = (name: string, text: string | undefined) => {
        if (text !== undefined && !isRdmaDeviceName(text))
          problems.push(`--${name} ${JSON.stringify(text)} is not an RDMA device name (like mlx5_0)`);
        return text;
      };

      const verbs = list<LocalVerb>('tests', v.tests, Object.fromEntries(LOCAL_VERBS.map((x) => [x, x])));
      const kinds = list<PerftestKind>('kind', v.kind, { bw: 'bandwidth', lat: 'latency' });
      const size = int('size', v.size, 1, 2 ** 31);
      const latSize = int('lat-size', v['lat-size'], 1, 2 ** 31);
      const qps = int('qps', v.qps, 1, 16384);
      const durationS = int('duration', v.duration, 1, 86400);
      const gidIndex = int('gid-index', v['gid-index'], 0, 255);
      const ibPort = int('ib-port', v['ib-port'], 1, 255) ?? 1;
      const tcpPort = int('tcp-port', v['tcp-port'], 1, 65535 - 64) ?? 18515;
      const timeoutS =
        int('timeout', v.timeout, 1, 86400) ?? (durationS !== undefined ? durationS + 60 : 120);
      const serverDevice = device('device', v.device);
      const clientDevice = device('client-device', v['client-device']);
      const portRateGbps = portRateGbpsOption(v['port-rate-gbps'], problems);
      if (v.peer !== undefined && !HOST_RE.test(v.peer))
        problems.push(`--peer ${JSON.stringify(v.peer)} is not a host name or address`);
      if (v.peer !== undefined && v.serve)
        problems.push('--peer and --serve exclude each other: one host serves, the other connects');
      if (v.peer !== undefined && clientDevice !== undefined && serverDevice !== undefined)
        problems.push("with --peer only this host's client runs: give --device or --client-device, not both");
      if (v.serve && clientDevice !== undefined)
        problems.push('--serve runs servers only: --client-device does not apply');
      const thresholds = thresholdOptions(v, problems);
      if (problems.length > 0 || !thresholds.ok) {
        io.err(`${problems.join('\n')}\n\n(rdmasched-bench rdma local --help for the options)`);
        return EXIT.usage;
      }

      const mode = v.serve ? 'server' : v.peer !== undefined ? 'client' : 'pair';
      const options: LocalRunOptions = {
        mode,
        serverAddress: v.peer ?? '127.0.0.1',
        ...(serverDevice !== undefined ? { serverDevice } : {}),
        ...(clientDevice !== undefined ? { clientDevice } : {}),
        plan: {
          verbs,
          kinds,
          ibPort,
          tcpPort,
          bidirectional: v.bidirectional,
          rdmaCm: v['rdma-cm'],
          ...(size !== undefined ? { bwMessageSizeBytes: size } : {}),
          ...(latSize !== undefined ? { latMessageSizeBytes: latSize } : {}),
          ...(qps !== undefined ? { qps } : {}),
          ...(durationS !== undefined ? { durationS } : {}),
          ...(gidIndex !== undefined ? { gidIndex } : {}),
        },
        sysRoot: v['sys-root'],
        ...(v['perftest-dir'] !== undefined ? { perftestDir: v['perftest-dir'] } : {}),
        timeoutS,
        connectAttempts: mode === 'client' ? 30 : 5,
        retryDelayMs: 1000,
        serverStartDelayMs: 500,
        serverExitGraceMs: 10_000,
        thresholds: thresholds.value,
        ...(portRateGbps !== undefined ? { portRateGbps } : {}),
        outDir: v.out ?? defaultOutDir(deps.cwd(), deps.now()),
        dryRun: v['dry-run'],
      };

      const abort = new AbortController();
      const uninstall = deps.onInterrupt(() => {
        if (!abort.signal.aborted) io.err('interrupted: stopping perftest and writing what was measured');
        abort.abort();
      });
      try {
        const outcome = await runLocal(options, {
          env: deps.env,
          io,
          signal: abort.signal,
          hostname: deps.hostname(),
          now: deps.now,
        });
        if (v.json && outcome.report !== null) io.out(renderJson(outcome.report).trimEnd());
        return outcome.exitCode;
      } finally {
        uninstall();
      }
    },
  };
}

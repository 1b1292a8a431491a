/** `rdmasched-bench rdma run`: command-line options for `runCluster`. */
import { randomBytes } from 'node:crypto';
import { existsSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { homedir } from 'node:os';
import { join } from 'node:path';
import { KubeConfig } from '@kubernetes/client-node';
import { parse as parseYaml, stringify as stringifyYaml } from 'yaml';
import { isNodeName, SCHEDULER_NAME } from '@rdmasched/contracts';
import type { Command } from '../command.js';
import {
  onProcessInterrupt,
  parseCommandArgs,
  portRateGbpsOption,
  RDMA_REPORT_OPTIONS,
  thresholdOptions,
  wholeNumberOptions,
} from '../command-options.js';
import { processIo, type CommandIo } from '../rdma-local/io.js';
import { renderJson } from '../report/report.js';
import { DEFAULT_RETRY, KubeClusterApi, type ClusterApi, type RetryPolicy } from './cluster-api.js';
import { buildMatrix, MATRIX_FIELDS, rawFromDocument, type MatrixField, type RawMatrix } from './matrix.js';
import {
  ExtenderNodeReports,
  FileNodeReports,
  NoNodeReports,
  type NodeReportSource,
} from './node-reports.js';
import { perRunTimeoutS, planRuns } from './plan.js';
import { BarProgress, LineProgress, type Progress } from './progress.js';
import { pairPod, RUN_EXIT, runCluster, type ClusterRunOptions } from './run-cluster.js';
import { parseAnnotation, parseQuantity, parseToleration } from './options.js';

/**
 * The default perftest image: the test image of NVIDIA's network-operator and
 * k8s-rdma-shared-dev-plugin examples (rdma-core user space and perftest). Pin a digest, or your
 * own image, with --image for production checks; --use-cuda needs a CUDA-enabled perftest build.
 */
export const DEFAULT_IMAGE = 'docker.io/mellanox/rping-test:latest';

const USAGE = `usage: rdmasched-bench rdma run --pairs SERVER:CLIENT[,...] [options]
       rdmasched-bench rdma run --matrix FILE [options]

Runs perftest between pod pairs placed by the rdma-scheduler, through the Kubernetes API:
for each pair a server pod, then a client pod connecting to the server pod's IP, each with one
VF (and GPUs with --gpus); reads the logs, judges each run against the node report's port rate
and writes report.md, report.json, bandwidth.svg and latency.svg to --out. Every pod it creates
is deleted at the end (also on failure, timeout and Ctrl-C) unless --keep.

test matrix (flags override the --matrix file's fields):
  --matrix FILE          YAML or JSON with the fields below (pairs, tests, sizes, latSizes, ...)
  --pairs LIST           SERVER:CLIENT node pairs; "any" lets the scheduler choose, e.g.
                         node-a:node-b,any:any (repeatable)
  --tests LIST           write-bw,read-bw,send-bw,write-lat,read-lat,send-lat (default write-bw,write-lat)
  --sizes LIST           bandwidth message sizes in bytes, or "all" for -a (default 65536)
  --lat-sizes LIST       latency message sizes in bytes (default 2)
  --qps LIST             QPs of bandwidth runs (default 1)
  --duration S           seconds per run (-D) instead of an iteration count
  --iterations N         iterations per run (-n)
  --bidirectional        bandwidth both ways (-b); the line rate doubles
  --link-type ib|roce    VF resource rdmasched.io/ib-vf or rdmasched.io/roce-vf (default ib)
  --gpus N               nvidia.com/gpu per pod (default 0)
  --use-cuda             GPUDirect RDMA (--use_cuda) for bandwidth runs; needs --gpus
  --same-node            both pods on one node (default: anti-affinity keeps them apart)
  --gid-index N          GID index (-x), RoCE
  --rdma-cm              connect QPs with rdma_cm (-R)
  --tcp-port N           first perftest TCP port (-p, default 18515; run i uses N+i)

cluster:
  --kubeconfig FILE      default $KUBECONFIG, ~/.kube/config, or the in-cluster service account
  --context NAME         kubeconfig context
  -n, --namespace NS     must exist (default: the context's namespace, else "default")
  --create-namespace     create NS when missing, and delete it afterwards
  --scheduler-name NAME  default ${SCHEDULER_NAME}
  --image IMAGE          perftest image (default ${DEFAULT_IMAGE})
  --image-pull-policy P  Always, IfNotPresent or Never (default IfNotPresent)
  --image-pull-secret S  (repeatable)
  --annotation K=V       pod annotation, e.g. k8s.v1.cni.cncf.io/networks=roce-net (repeatable)
  --toleration T         KEY[=VALUE][:EFFECT], e.g. nvidia.com/gpu:NoSchedule (repeatable)
  --cpu Q, --memory Q    requests = limits for a Guaranteed pod (default none)
  --schedule-timeout S   created -> scheduled (default 120)
  --start-timeout S      scheduled -> running: image pull, container start (default 300)
  --run-timeout S        one perftest run (default 120, or duration + 60)
  --cleanup-timeout S    deleting the pods (default 120)
  --keep                 keep the pods for debugging (they stop after activeDeadlineSeconds)

judging and reports:
  --extender-url URL     read node reports from the extender (GET URL/v1/nodes/NODE)
  --extender-ca FILE     CA bundle for an HTTPS extender
  --extender-token-file FILE  bearer token for the extender (e.g. behind kube-rbac-proxy)
  --node-report FILE     node report JSON (or the extender's /v1/nodes/NODE answer, or an
                         array of them) instead of --extender-url (repeatable)
  --port-rate-gbps N     judge against N Gb/s instead of the node reports' port rates
  --min-bw-fraction F    default 0.9
  --max-write-lat-us N   default 2.5
  --max-read-lat-us N    default 4.5
  --out DIR              report folder (default ./rdma-run-<run id>)
  --json                 also print report.json to stdout
  --dry-run              print the pod manifests and stop (no cluster needed)

exit codes: 0 all passed; 1 a verdict failed; 2 usage; 5 a run failed, timed out or gave no
            verdict; 6 the cluster could not be used (kubeconfig, credentials, RBAC, namespace);
            7 some pods could not be deleted; 130 interrupted (pods deleted, partial report)`;

const NAMESPACE_RE = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/;
const IMAGE_RE = /^[^\s]{1,512}$/;

/** Knobs tests turn down (polling, retry pauses); a person never needs them. */
export interface RunTuning {
  readonly pollIntervalMs: number;
  readonly retry: RetryPolicy;
  readonly connectAttempts: number;
  readonly connectRetryDelayS: number;
}

export const DEFAULT_TUNING: RunTuning = {
  pollIntervalMs: 1000,
  retry: DEFAULT_RETRY,
  connectAttempts: 60,
  connectRetryDelayS: 1,
};

export interface RunCommandDeps {
  readonly io: CommandIo;
  readonly env: NodeJS.ProcessEnv;
  readonly cwd: () => string;
  readonly now: () => Date;
  readonly onInterrupt: (handler: () => void) => () => void;
  /** Whether stderr is a terminal (a progress bar) or not (plain lines). */
  readonly stderrIsTTY: boolean;
  readonly tuning: RunTuning;
  readonly newRunId: (now: Date) => string;
  readonly makeApi: (kc: KubeConfig, retry: RetryPolicy) => ClusterApi;
}

/** `20261126-101500-k3f9`: sortable, unique enough, valid in names and label values. */
export function newRunId(now: Date): string {
  const stamp = now.toISOString().replace(/[-:]/g, '').replace('T', '-').slice(0, 15);
  return `${stamp}-${randomBytes(3).toString('hex').slice(0, 4)}`;
}

const processDeps: RunCommandDeps = {
  io: processIo,
  env: process.env,
  cwd: () => process.cwd(),
  now: () => new Date(),
  onInterrupt: onProcessInterrupt,
  stderrIsTTY: process.stderr.isTTY,
  tuning: DEFAULT_TUNING,
  newRunId,
  makeApi: (kc, retry) => new KubeClusterApi(kc, retry),
};

/** Loads the kubeconfig as kubectl would; an error sentence when there is none. */
function loadKubeConfig(
  file: string | undefined,
  context: string | undefined,
  env: NodeJS.ProcessEnv,
): KubeConfig | string {
  const kc = new KubeConfig();
  try {
    if (file !== undefined) kc.loadFromFile(file);
    else {
      const envFile = env['KUBECONFIG'];
      const home = join(homedir(), '.kube', 'config');
      const inCluster = env['KUBERNETES_SERVICE_HOST'] !== undefined;
      if ((envFile === undefined || envFile === '') && !existsSync(home) && !inCluster)
        return `no kubeconfig: give --kubeconfig, set KUBECONFIG, create ${home}, or run in a pod with a service account`;
      kc.loadFromDefault();
    }
  } catch (err: unknown) {
    return `cannot load the kubeconfig${file !== undefined ? ` ${file}` : ''}: ${err instanceof Error ? err.message : String(err)}`;
  }
  if (context !== undefined) {
    if (!kc.getContexts().some((c) => c.name === context))
      return `no context ${JSON.stringify(context)} in the kubeconfig (contexts: ${
        kc
          .getContexts()
          .map((c) => c.name)
          .join(', ') || 'none'
      })`;
    kc.setCurrentContext(context);
  }
  if (kc.getCurrentCluster() === null)
    return 'the kubeconfig has no current cluster (kubectl config use-context NAME)';
  return kc;
}

export function createRunCommand(deps: RunCommandDeps = processDeps): Command {
  const { io } = deps;
  return {
    name: 'run',
    summary: 'perftest between pod pairs scheduled by rdma-scheduler (Kubernetes), with reports',
    async run(argv) {
      const parsed = parseCommandArgs(
        {
          args: [...argv],
          options: {
            matrix: { type: 'string' },
            pairs: { type: 'string', multiple: true },
            tests: { type: 'string' },
            sizes: { type: 'string' },
            'lat-sizes': { type: 'string' },
            qps: { type: 'string' },
            duration: { type: 'string' },
            iterations: { type: 'string' },
            bidirectional: { type: 'boolean' },
            'link-type': { type: 'string' },
            gpus: { type: 'string' },
            'use-cuda': { type: 'boolean' },
            'same-node': { type: 'boolean' },
            'gid-index': { type: 'string' },
            'rdma-cm': { type: 'boolean' },
            'tcp-port': { type: 'string' },
            kubeconfig: { type: 'string' },
            context: { type: 'string' },
            namespace: { type: 'string', short: 'n' },
            'create-namespace': { type: 'boolean', default: false },
            'scheduler-name': { type: 'string', default: SCHEDULER_NAME },
            image: { type: 'string', default: DEFAULT_IMAGE },
            'image-pull-policy': { type: 'string', default: 'IfNotPresent' },
            'image-pull-secret': { type: 'string', multiple: true },
            annotation: { type: 'string', multiple: true },
            toleration: { type: 'string', multiple: true },
            cpu: { type: 'string' },
            memory: { type: 'string' },
            'schedule-timeout': { type: 'string', default: '120' },
            'start-timeout': { type: 'string', default: '300' },
            'run-timeout': { type: 'string' },
            'cleanup-timeout': { type: 'string', default: '120' },
            keep: { type: 'boolean', default: false },
            'extender-url': { type: 'string' },
            'extender-ca': { type: 'string' },
            'extender-token-file': { type: 'string' },
            'node-report': { type: 'string', multiple: true },
            ...RDMA_REPORT_OPTIONS,
          },
        },
        io,
        USAGE,
      );
      if ('exit' in parsed) return parsed.exit;
      const v = parsed.values;
      const problems: string[] = [];

      // The matrix: the file first, then every flag given over it.
      let raw: RawMatrix = {};
      if (v.matrix !== undefined) {
        try {
          const text = await readFile(v.matrix, 'utf8');
          const doc: unknown = parseYaml(text); // JSON is YAML
          const r = rawFromDocument(doc, v.matrix);
          raw = r.raw;
          problems.push(...r.errors);
        } catch (err: unknown) {
          problems.push(`--matrix ${v.matrix}: ${err instanceof Error ? err.message : String(err)}`);
        }
      }
      const flagValues: Partial<Record<MatrixField, unknown>> = {
        pairs: v.pairs?.join(','),
        tests: v.tests,
        sizes: v.sizes,
        latSizes: v['lat-sizes'],
        qps: v.qps,
        duration: v.duration,
        iterations: v.iterations,
        bidirectional: v.bidirectional,
        linkType: v['link-type'],
        gpus: v.gpus,
        useCuda: v['use-cuda'],
        sameNode: v['same-node'],
        gidIndex: v['gid-index'],
        rdmaCm: v['rdma-cm'],
        tcpPort: v['tcp-port'],
      };
      for (const f of MATRIX_FIELDS)
        if (flagValues[f] !== undefined) raw = { ...raw, [f]: { value: flagValues[f], origin: 'flag' } };
      const matrix = buildMatrix(raw);
      if (!matrix.ok) problems.push(...matrix.errors);

      const int = wholeNumberOptions(problems);
      const scheduleS = int('schedule-timeout', v['schedule-timeout'], 1, 86_400) ?? 120;
      const startS = int('start-timeout', v['start-timeout'], 1, 86_400) ?? 300;
      const perRunS = int('run-timeout', v['run-timeout'], 1, 604_800);
      const cleanupS = int('cleanup-timeout', v['cleanup-timeout'], 1, 3600) ?? 120;
      if (v.namespace !== undefined && (!NAMESPACE_RE.test(v.namespace) || v.namespace.length > 63))
        problems.push(
          `--namespace ${JSON.stringify(v.namespace)} is not a namespace name (DNS-1123 label, at most 63 characters)`,
        );
      if (!isNodeName(v['scheduler-name']))
        problems.push(
          `--scheduler-name ${JSON.stringify(v['scheduler-name'])} is not a valid scheduler name`,
        );
      if (!IMAGE_RE.test(v.image))
        problems.push(`--image ${JSON.stringify(v.image)} is not an image reference`);
      const policy = v['image-pull-policy'];
      if (policy !== 'Always' && policy !== 'IfNotPresent' && policy !== 'Never')
        problems.push(
          `--image-pull-policy must be Always, IfNotPresent or Never, got ${JSON.stringify(policy)}`,
        );
      const pullSecrets = v['image-pull-secret'] ?? [];
      for (const s of pullSecrets)
        if (!isNodeName(s)) problems.push(`--image-pull-secret ${JSON.stringify(s)} is not a Secret name`);
      const annotations: Record<string, string> = {};
      for (const a of v.annotation ?? []) {
        const r = parseAnnotation(a);
        if (typeof r === 'string') problems.push(`--annotation ${JSON.stringify(a)}: ${r}`);
        else annotations[r.key] = r.value;
      }
      const tolerations = (v.toleration ?? []).flatMap((t) => {
        const r = parseToleration(t);
        if (typeof r === 'string') {
          problems.push(`--toleration ${JSON.stringify(t)}: ${r}`);
          return [];
        }
        return [r];
      });
      for (const [name, q] of [
        ['cpu', v.cpu],
        ['memory', v.memory],
      ] as const)
        if (q !== undefined && parseQuantity(q) === undefined)
          problems.push(`--${name} ${JSON.stringify(q)} is not a Kubernetes quantity (like 4, 500m, 8Gi)`);
      const portRateGbps = portRateGbpsOption(v['port-rate-gbps'], problems);
      const thresholds = thresholdOptions(v, problems);
      if (v['extender-url'] !== undefined && v['node-report'] !== undefined)
        problems.push('--extender-url and --node-report exclude each other: one source of node reports');
      let extenderUrl: URL | undefined;
      if (v['extender-url'] !== undefined) {
        try {
          extenderUrl = new URL(v['extender-url']);
          if (extenderUrl.protocol !== 'http:' && extenderUrl.protocol !== 'https:')
            throw new Error('not http(s)');
        } catch {
          problems.push(`--extender-url ${JSON.stringify(v['extender-url'])} is not an http(s) URL`);
        }
      }
      if (v['extender-ca'] !== undefined && v['extender-url'] === undefined)
        problems.push('--extender-ca needs --extender-url');
      if (problems.length > 0 || !matrix.ok || !thresholds.ok) {
        io.err(`${problems.join('\n')}\n\n(rdmasched-bench rdma run --help for the options)`);
        return RUN_EXIT.usage;
      }
      const m = matrix.value;

      // The kubeconfig gives the default namespace; --dry-run works without one.
      const kc = loadKubeConfig(v.kubeconfig, v.context, deps.env);
      if (typeof kc === 'string' && !v['dry-run']) {
        io.err(`error: ${kc}`);
        return RUN_EXIT.cluster;
      }
      const contextNs =
        typeof kc === 'string' ? undefined : kc.getContextObject(kc.getCurrentContext())?.namespace;
      const namespace = v.namespace ?? (contextNs !== undefined && contextNs !== '' ? contextNs : 'default');
      const now = deps.now();
      const runId = deps.newRunId(now);
      const options: ClusterRunOptions = {
        runId,
        namespace,
        createNamespace: v['create-namespace'],
        matrix: m,
        image: v.image,
        imagePullPolicy: policy as ClusterRunOptions['imagePullPolicy'],
        schedulerName: v['scheduler-name'],
        annotations,
        tolerations,
        imagePullSecrets: pullSecrets,
        ...(v.cpu !== undefined ? { cpu: v.cpu } : {}),
        ...(v.memory !== undefined ? { memory: v.memory } : {}),
        timeouts: { scheduleS, startS, cleanupS, ...(perRunS !== undefined ? { perRunS } : {}) },
        pollIntervalMs: deps.tuning.pollIntervalMs,
        connectAttempts: deps.tuning.connectAttempts,
        connectRetryDelayS: deps.tuning.connectRetryDelayS,
        thresholds: thresholds.value,
        ...(portRateGbps !== undefined ? { portRateGbps } : {}),
        keep: v.keep,
        outDir: v.out ?? join(deps.cwd(), `rdma-run-${runId}`),
        logLimitBytes: 8 * 1024 * 1024,
      };

      if (v['dry-run']) {
        io.out(dryRunManifests(options));
        return RUN_EXIT.ok;
      }

      let reports: NodeReportSource = new NoNodeReports();
      try {
        if (v['node-report'] !== undefined) {
          const loaded = await FileNodeReports.load(v['node-report']);
          if (!loaded.ok) {
            io.err(loaded.errors.join('\n'));
            return RUN_EXIT.usage;
          }
          reports = loaded.source;
        } else if (extenderUrl !== undefined) {
          const ca = v['extender-ca'] !== undefined ? await readFile(v['extender-ca'], 'utf8') : undefined;
          const token =
            v['extender-token-file'] !== undefined
              ? (await readFile(v['extender-token-file'], 'utf8')).trim()
              : undefined;
          reports = new ExtenderNodeReports({
            url: extenderUrl.href,
            ...(ca !== undefined ? { ca } : {}),
            ...(token !== undefined ? { token } : {}),
          });
        }
      } catch (err: unknown) {
        io.err(err instanceof Error ? err.message : String(err));
        return RUN_EXIT.usage;
      }
      if (reports instanceof NoNodeReports)
        io.err(
          'note: no --extender-url or --node-report: verdicts need a port rate, so bandwidth gets NO VERDICT (or give --port-rate-gbps)',
        );

      const progress: Progress = deps.stderrIsTTY ? new BarProgress() : new LineProgress(io);
      const abort = new AbortController();
      let interrupts = 0;
      const uninstall = deps.onInterrupt(() => {
        interrupts++;
        if (interrupts === 1)
          progress.log('interrupted: stopping, deleting the pods and writing what was measured');
        else progress.log('still cleaning up; the pods are being deleted (they also stop by themselves)');
        abort.abort();
      });
      try {
        const outcome = await runCluster(options, {
          api: deps.makeApi(kc as KubeConfig, deps.tuning.retry),
          reports,
          io,
          progress,
          signal: abort.signal,
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

/** The manifests `rdma run` would create, as YAML (each client with a placeholder server IP). */
export function dryRunManifests(o: ClusterRunOptions): string {
  const runs = planRuns(o.matrix);
  const perRunS = perRunTimeoutS(o.matrix, o.timeouts.perRunS);
  const docs: string[] = [];
  o.matrix.pairs.forEach((pair, i) => {
    for (const role of ['server', 'client'] as const) {
      const pod = pairPod(
        o,
        runs,
        perRunS,
        i + 1,
        pair,
        role,
        role === 'client' ? '<server pod IP>' : undefined,
      );
      docs.push(`# pair ${i + 1} ${role}\n${stringifyYaml(pod, { lineWidth: 0 })}`);
    }
  });
  return docs.join('---\n').trimEnd();
}

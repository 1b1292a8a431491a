/**
 * The server and client pods of one pair. They are placed by the rdma-scheduler (never by
 * `nodeName`): a required node affinity on `metadata.name` pins a side to the node the matrix
 * names (the way the DaemonSet controller pins pods), and pod (anti-)affinity keeps the two on
 * different nodes, or on one with --same-node. Labels mark them as the run's, so cleanup finds
 * every pod it made even when an answer was lost. `activeDeadlineSeconds` makes a pod stop by
 * itself if the runner dies, so VFs and GPUs are never held for long. Pure.
 */
import type { V1Affinity, V1Pod, V1Toleration } from '@kubernetes/client-node';
import { GPU_RESOURCE, VF_RESOURCE, type LinkType } from '@rdmasched/contracts';
import { SERVER_ENV } from './script.js';

export const LABELS = {
  run: 'rdmasched.io/bench-run',
  pair: 'rdmasched.io/bench-pair',
  role: 'rdmasched.io/bench-role',
} as const;

export const CONTAINER_NAME = 'perftest';
/** Graceful deletion: the container gets SIGTERM and this long before SIGKILL. */
export const POD_GRACE_SECONDS = 5;

export type Role = 'server' | 'client';

/** What every pod of a run gets alike, as `rdma run` was told (ClusterRunOptions). */
export interface PodTemplateOptions {
  readonly image: string;
  readonly imagePullPolicy: 'Always' | 'IfNotPresent' | 'Never';
  readonly schedulerName: string;
  readonly annotations: Readonly<Record<string, string>>;
  readonly tolerations: readonly V1Toleration[];
  readonly imagePullSecrets: readonly string[];
  /** cpu and memory requests (= limits) for a Guaranteed pod; none when absent. */
  readonly cpu?: string;
  readonly memory?: string;
}

export interface PodSpecOptions extends PodTemplateOptions {
  readonly runId: string;
  readonly namespace: string;
  /** 1-based pair number within the run. */
  readonly pairNumber: number;
  readonly role: Role;
  /** Node this side must run on; null = anywhere the scheduler likes. */
  readonly node: string | null;
  readonly sameNode: boolean;
  readonly linkType: LinkType;
  readonly gpus: number;
  readonly script: string;
  /** The client's server address (the server pod's IP). */
  readonly serverIp?: string;
  readonly activeDeadlineSeconds: number;
}

export function podName(runId: string, pairNumber: number, role: Role): string {
  return `rdma-bench-${runId}-p${pairNumber}-${role}`;
}

export function pairLabel(runId: string, pairNumber: number): string {
  return `${runId}-p${pairNumber}`;
}

function affinityOf(o: PodSpecOptions): V1Affinity | undefined {
  const affinity: V1Affinity = {};
  if (o.node !== null)
    affinity.nodeAffinity = {
      requiredDuringSchedulingIgnoredDuringExecution: {
        nodeSelectorTerms: [{ matchFields: [{ key: 'metadata.name', operator: 'In', values: [o.node] }] }],
      },
    };
  const other: Role = o.role === 'server' ? 'client' : 'server';
  const term = {
    labelSelector: { matchLabels: { [LABELS.pair]: pairLabel(o.runId, o.pairNumber), [LABELS.role]: other } },
    topologyKey: 'kubernetes.io/hostname',
  };
  if (!o.sameNode) affinity.podAntiAffinity = { requiredDuringSchedulingIgnoredDuringExecution: [term] };
  // The server is placed first; with --same-node the client follows it.
  else if (o.role === 'client')
    affinity.podAffinity = { requiredDuringSchedulingIgnoredDuringExecution: [term] };
  return Object.keys(affinity).length > 0 ? affinity : undefined;
}

export function buildPod(o: PodSpecOptions): V1Pod {
  const amounts: Record<string, string> = { [VF_RESOURCE[o.linkType]]: '1' };
  if (o.gpus > 0) amounts[GPU_RESOURCE] = String(o.gpus);
  if (o.cpu !== undefined) amounts['cpu'] = o.cpu;
  if (o.memory !== undefined) amounts['memory'] = o.memory;
  const env = [
    ...(o.serverIp !== undefined ? [{ name: SERVER_ENV, value: o.serverIp }] : []),
    // CUDA device 0 is then the allocated GPU with the lowest PCI address (nvidia-smi's first line).
    ...(o.gpus > 0 ? [{ name: 'CUDA_DEVICE_ORDER', value: 'PCI_BUS_ID' }] : []),
  ];
  const affinity = affinityOf(o);
  return {
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: {
      name: podName(o.runId, o.pairNumber, o.role),
      namespace: o.namespace,
      labels: {
        'app.kubernetes.io/name': 'rdmasched-bench',
        'app.kubernetes.io/component': `perftest-${o.role}`,
        [LABELS.run]: o.runId,
        [LABELS.pair]: pairLabel(o.runId, o.pairNumber),
        [LABELS.role]: o.role,
      },
      ...(Object.keys(o.annotations).length > 0 ? { annotations: { ...o.annotations } } : {}),
    },
    spec: {
      schedulerName: o.schedulerName,
      restartPolicy: 'Never',
      terminationGracePeriodSeconds: POD_GRACE_SECONDS,
      activeDeadlineSeconds: o.activeDeadlineSeconds,
      automountServiceAccountToken: false,
      enableServiceLinks: false,
      ...(affinity !== undefined ? { affinity } : {}),
      ...(o.tolerations.length > 0 ? { tolerations: o.tolerations.map((t) => ({ ...t })) } : {}),
      ...(o.imagePullSecrets.length > 0
        ? { imagePullSecrets: o.imagePullSecrets.map((name) => ({ name })) }
        : {}),
      containers: [
        {
          name: CONTAINER_NAME,
          image: o.image,
          imagePullPolicy: o.imagePullPolicy,
          command: ['/bin/sh', '-c', o.script],
          ...(env.length > 0 ? { env } : {}),
          resources: { requests: { ...amounts }, limits: { ...amounts } },
          // perftest registers (pins) memory for RDMA: it needs to lock pages.
          securityContext: { capabilities: { add: ['IPC_LOCK'] } },
        },
      ],
    },
  };
}

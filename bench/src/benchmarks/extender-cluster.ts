/**
 * A synthetic cluster for the extender benchmark: node reports of a few realistic shapes, in a
 * fixed mix, generated deterministically (same seed, same cluster), and the pod the scheduler
 * asks about. Most nodes can host the pod, as in a healthy cluster.
 *
 *   40% HGX-like: 8 GPUs on 4 PCIe switches, one 400G IB PF per switch, a 200G RoCE PF
 *   30% 4-GPU, two sockets: one IB and one RoCE PF (the reference example host's shape)
 *   10% 2-GPU with an idle 200G IB PF (VFs need provisioning)
 *   20% CPU-only RoCE nodes (no IB: unresolvable for the pod)
 */
import { makePod, makeReport, type ReportBuilder } from '@rdmasched/scheduler-extender';
import type { NodeReport } from '@rdmasched/contracts';

/** Mulberry32: small, fast, deterministic. */
function rng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

export function nodeName(i: number): string {
  return `rdma-node-${String(i).padStart(5, '0')}`;
}

function hgx(b: ReportBuilder, r: () => number): ReportBuilder {
  for (let s = 0; s < 4; s++) {
    const sw = { numa: s < 2 ? 0 : 1, switch: `sw${s}` };
    b.gpus(2, sw, r() < 0.3 ? 1 : 0);
    b.pf({ linkType: 'ib', rateGbps: 400, numVfs: 8, configured: 8, inUse: Math.floor(r() * 4), at: sw });
  }
  return b.pf({ linkType: 'roce', rateGbps: 200, numVfs: 4, configured: 4, at: { numa: 0, switch: 'sw0' } });
}

function twoSocket(b: ReportBuilder, r: () => number): ReportBuilder {
  return b
    .gpus(2, { numa: 0, switch: 'a' }, r() < 0.25 ? 1 : 0)
    .gpus(2, { numa: 1, switch: 'b' })
    .pf({
      linkType: 'ib',
      rateGbps: 400,
      numVfs: 8,
      configured: 6,
      inUse: Math.floor(r() * 3),
      at: { numa: 0, switch: 'a' },
    })
    .pf({ linkType: 'roce', rateGbps: 400, numVfs: 8, configured: 8, at: { numa: 1, switch: 'b' } });
}

function provisioning(b: ReportBuilder): ReportBuilder {
  return b
    .gpus(2, { numa: 0, switch: 'a' })
    .pf({ linkType: 'ib', rateGbps: 200, numVfs: 0, maxVfs: 16, at: { numa: 0, switch: 'a' } });
}

function cpuRoce(b: ReportBuilder): ReportBuilder {
  return b
    .pf({ linkType: 'roce', rateGbps: 100, numVfs: 8, configured: 8, at: { numa: 0 } })
    .pf({ linkType: 'roce', rateGbps: 200, numVfs: 8, configured: 8, at: { numa: 1 } });
}

/** `count` node reports; heartbeats are the caller's business. */
export function syntheticCluster(count: number, seed = 42, nowMs = Date.now()): NodeReport[] {
  const r = rng(seed);
  const reports: NodeReport[] = [];
  for (let i = 0; i < count; i++) {
    const b = makeReport(nodeName(i)).generation(1).reportedAtMs(nowMs).heartbeatIntervalMs(5000);
    const x = r();
    if (x < 0.4) hgx(b, r);
    else if (x < 0.7) twoSocket(b, r);
    else if (x < 0.8) provisioning(b);
    else cpuRoce(b);
    reports.push(b.build());
  }
  return reports;
}

/** The benchmark's pod: a realistic v1.Pod asking 2 IB VFs and 2 GPUs, locality preferred. */
export function benchmarkPod(): Record<string, unknown> {
  const pod = makePod().name('trainer-worker-0').namespace('team-a').vfs('ib', 2).gpus(2).build();
  const metadata = pod['metadata'] as Record<string, unknown>;
  metadata['labels'] = {
    'training.kubeflow.org/job-name': 'trainer',
    'training.kubeflow.org/replica-index': '0',
  };
  metadata['resourceVersion'] = '918273';
  metadata['creationTimestamp'] = '2026-11-26T15:59:58Z';
  return pod;
}

/**
 * The kube-scheduler stand-in of the simulation: testkit's KubeScheduler (list/watch of pods and
 * nodes on the fake API server, the scheduling queue, the driver calling the extenders over HTTP),
 * reporting each attempt as a SchedulerEvent. Runs in a worker thread (its own core, as
 * kube-scheduler runs in its own process) or inline.
 */
import { KubeConfig } from '@kubernetes/client-node';
import { KubeScheduler } from '@rdmasched/testkit';
import { createRng } from '../workload/random.js';
import type { SchedulerEvent, SchedulerSetup } from './protocol.js';

export class SchedulerService {
  private readonly scheduler: KubeScheduler;

  constructor(setup: SchedulerSetup, emit: (e: SchedulerEvent) => void) {
    const kc = new KubeConfig();
    kc.loadFromOptions({
      // client-node refuses a plain-HTTP server unless skipTLSVerify is set (the fake API is loopback HTTP).
      clusters: [{ name: 'sim', server: setup.apiUrl, skipTLSVerify: setup.apiUrl.startsWith('http:') }],
      users: [{ name: 'kube-scheduler' }],
      contexts: [{ name: 'sim', cluster: 'sim', user: 'kube-scheduler' }],
      currentContext: 'sim',
    });
    const rng = createRng(setup.seed).fork('tie-break');
    const uidOf = (p: { metadata?: { uid?: string } }) => p.metadata?.uid ?? '';
    this.scheduler = new KubeScheduler({
      kubeConfig: kc,
      schedulerName: setup.schedulerName,
      driver: {
        extenders: setup.extenders,
        percentageOfNodesToScore: setup.percentageOfNodesToScore,
        random: () => rng.next(),
      },
      queue: {
        initialBackoffMs: setup.initialBackoffMs,
        maxBackoffMs: setup.maxBackoffMs,
        unschedulableFlushMs: setup.unschedulableFlushMs,
        maxInFlightBinds: 256,
      },
      hooks: {
        onScheduled: (pod, r) =>
          emit({
            t: 'scheduled',
            uid: uidOf(pod),
            node: r.node,
            filterMs: r.timings.extenderFilterMs,
            prioritizeMs: r.timings.extenderPrioritizeMs,
            cycleMs: r.timings.totalMs,
            candidates: r.timings.extenderCandidates,
          }),
        onBound: (pod, node, bindMs) => emit({ t: 'bound', uid: uidOf(pod), node, bindMs }),
        onBindFailed: (pod, node, err) =>
          emit({
            t: 'bindFailed',
            uid: uidOf(pod),
            node,
            message: err instanceof Error ? err.message : String(err),
          }),
        onUnschedulable: (pod, r, attempts) =>
          emit({
            t: 'unschedulable',
            uid: uidOf(pod),
            message: r.message,
            attempts,
            filterMs: r.timings.extenderFilterMs,
            cycleMs: r.timings.totalMs,
          }),
        onError: (pod, message, attempts) => emit({ t: 'error', uid: uidOf(pod), message, attempts }),
      },
      onError: (err) => emit({ t: 'watchError', message: err instanceof Error ? err.message : String(err) }),
    });
  }

  start(): Promise<void> {
    return this.scheduler.start();
  }

  stop(): Promise<void> {
    return this.scheduler.stop();
  }
}

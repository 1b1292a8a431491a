/**
 * What the kube-scheduler stand-in tells the simulation about each scheduling attempt (the
 * information kube-scheduler puts in its metrics, events and logs), and how it is configured.
 * Plain data: it crosses a worker-thread boundary.
 */
import type { ExtenderConfig } from '@rdmasched/testkit';

export interface SchedulerSetup {
  /** Fake API server URL (http://127.0.0.1:PORT). */
  readonly apiUrl: string;
  readonly schedulerName: string;
  readonly extenders: readonly ExtenderConfig[];
  readonly percentageOfNodesToScore: number;
  readonly seed: number;
  /** Backoff for pods that failed (upstream: 1 s .. 10 s). */
  readonly initialBackoffMs: number;
  readonly maxBackoffMs: number;
  /** Unschedulable pods are retried at least this often without events (upstream: 5 min). */
  readonly unschedulableFlushMs: number;
}

export type SchedulerEvent =
  | {
      readonly t: 'scheduled';
      readonly uid: string;
      readonly node: string;
      readonly filterMs: number;
      readonly prioritizeMs: number;
      readonly cycleMs: number;
      readonly candidates: number;
    }
  | { readonly t: 'bound'; readonly uid: string; readonly node: string; readonly bindMs: number }
  | { readonly t: 'bindFailed'; readonly uid: string; readonly node: string; readonly message: string }
  | {
      readonly t: 'unschedulable';
      readonly uid: string;
      readonly message: string;
      readonly attempts: number;
      readonly filterMs: number;
      readonly cycleMs: number;
    }
  | { readonly t: 'error'; readonly uid: string; readonly message: string; readonly attempts: number }
  | { readonly t: 'watchError'; readonly message: string };

/** Messages of the worker to its parent. */
export type WorkerMessage =
  | { readonly kind: 'ready' }
  | { readonly kind: 'events'; readonly events: readonly SchedulerEvent[] }
  | { readonly kind: 'stopped' }
  | { readonly kind: 'failed'; readonly message: string };

/** Messages of the parent to the worker. */
export type ParentMessage = { readonly kind: 'stop' };

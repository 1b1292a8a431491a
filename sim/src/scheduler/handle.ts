/**
 * Starts the kube-scheduler stand-in in a worker thread (default: it gets a core of its own, as
 * kube-scheduler runs in its own process) or inline on this thread (tests, which run from sources
 * where no compiled worker file exists).
 */
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { Worker } from 'node:worker_threads';
import type { SchedulerEvent, SchedulerSetup, WorkerMessage } from './protocol.js';
import { SchedulerService } from './service.js';

export interface SchedulerHandle {
  readonly thread: 'worker' | 'inline';
  stop(): Promise<void>;
}

/** The compiled worker file, when this module runs from `dist/` (undefined from sources). */
function workerFile(): string | undefined {
  const url = new URL('./worker.js', import.meta.url);
  const path = fileURLToPath(url);
  return import.meta.url.endsWith('.js') && existsSync(path) ? path : undefined;
}

export async function startScheduler(
  setup: SchedulerSetup,
  thread: 'worker' | 'inline',
  onEvents: (events: readonly SchedulerEvent[]) => void,
): Promise<SchedulerHandle> {
  const file = thread === 'worker' ? workerFile() : undefined;
  if (file === undefined) {
    const service = new SchedulerService(setup, (e) => onEvents([e]));
    await service.start();
    return { thread: 'inline', stop: () => service.stop() };
  }
  const worker = new Worker(file, { workerData: setup });
  let stopped: (() => void) | undefined;
  await new Promise<void>((resolve, reject) => {
    worker.on('message', (m: WorkerMessage) => {
      if (m.kind === 'events') onEvents(m.events);
      else if (m.kind === 'ready') resolve();
      else if (m.kind === 'failed')
        reject(new Error(`kube-scheduler stand-in failed to start: ${m.message}`));
      else stopped?.();
    });
    worker.once('error', reject);
  });
  return {
    thread: 'worker',
    stop: async () => {
      const done = new Promise<void>((r) => (stopped = r));
      worker.postMessage({ kind: 'stop' });
      await Promise.race([done, new Promise((r) => setTimeout(r, 5000))]);
      await worker.terminate();
    },
  };
}

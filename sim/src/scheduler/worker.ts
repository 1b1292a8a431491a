/**
 * Worker-thread entry of the kube-scheduler stand-in: builds a SchedulerService from the
 * workerData setup and forwards its events to the parent in batches (one message per turn of the
 * event loop, not one per event).
 */
import { parentPort, workerData } from 'node:worker_threads';
import type { ParentMessage, SchedulerEvent, SchedulerSetup, WorkerMessage } from './protocol.js';
import { SchedulerService } from './service.js';

const port = parentPort;
if (port === null) throw new Error('scheduler worker must run in a worker thread');

let batch: SchedulerEvent[] = [];
let flushing = false;
const post = (m: WorkerMessage) => port.postMessage(m);
const emit = (e: SchedulerEvent) => {
  batch.push(e);
  if (flushing) return;
  flushing = true;
  setImmediate(() => {
    flushing = false;
    const events = batch;
    batch = [];
    post({ kind: 'events', events });
  });
};

const service = new SchedulerService(workerData as SchedulerSetup, emit);
port.on('message', (m: ParentMessage) => {
  if (m.kind !== 'stop') return;
  void service.stop().then(() => {
    if (batch.length > 0) post({ kind: 'events', events: batch });
    batch = [];
    post({ kind: 'stopped' });
    port.close();
  });
});
service.start().then(
  () => post({ kind: 'ready' }),
  (err: unknown) => post({ kind: 'failed', message: err instanceof Error ? err.message : String(err) }),
);

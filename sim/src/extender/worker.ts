/**
 * Worker-thread entry of the extender in Redis mode: one replica exactly as the daemon builds it
 * (`createRedisReplica`: Redis ledger, mirror, topology store, provisioning; client-node informers
 * and the Binding on the fake API server), on its own event loop, so that filter, prioritize and
 * bind do not queue behind the agents, the API server and the kubelets of the main thread.
 */
import { parentPort, workerData } from 'node:worker_threads';
import { KubeConfig } from '@kubernetes/client-node';
import { RedisKeys, SCHEDULER_NAME } from '@rdmasched/contracts';
import { InMemorySubnetManager, createRedisClient, createRedisReplica } from '@rdmasched/scheduler-extender';
import { destination, pino } from 'pino';
import type { ExtenderThreadMessage, ExtenderThreadSetup } from './protocol.js';

const port = parentPort;
if (port === null) throw new Error('the extender worker must run in a worker thread');
const setup = workerData as ExtenderThreadSetup;
const post = (m: ExtenderThreadMessage) => port.postMessage(m);
const logger = pino({ level: setup.logLevel }, destination(2));
const client = createRedisClient(
  { url: setup.redisUrl, clusterNodes: [] },
  { connectionName: 'rdmasched-sim-extender' },
);
client.on('error', (err: Error) => logger.warn({ err: err.message }, 'redis connection error (retrying)'));
const kc = new KubeConfig();
kc.loadFromOptions({
  // client-node refuses a plain-HTTP server unless skipTLSVerify is set (the fake API is loopback HTTP).
  clusters: [{ name: 'sim', server: setup.apiUrl, skipTLSVerify: setup.apiUrl.startsWith('http:') }],
  users: [{ name: 'rdmasched-extender' }],
  contexts: [{ name: 'sim', cluster: 'sim', user: 'rdmasched-extender' }],
  currentContext: 'sim',
});
const replica = createRedisReplica({
  client,
  keys: new RedisKeys({ prefix: setup.keyPrefix }),
  kubeConfig: kc,
  schedulerName: SCHEDULER_NAME,
  subnetManager: new InMemorySubnetManager(),
  leaderIdentity: 'sim-extender-0',
  timings: { provisionTimeoutMs: setup.provisionTimeoutMs },
  logger: logger.child({ component: 'extender' }),
});

port.on('message', (m: { kind: string }) => {
  if (m.kind !== 'stop') return;
  void replica
    .close()
    .then(() => client.disconnect())
    .finally(() => {
      post({ kind: 'stopped' });
      port.close();
    });
});

(async () => {
  await client.connect();
  await replica.start();
  const url = await replica.x.app.listen({ host: '127.0.0.1', port: 0 });
  post({ kind: 'listening', url });
})().catch((err: unknown) =>
  post({ kind: 'failed', message: err instanceof Error ? err.message : String(err) }),
);

/**
 * Child process of the extender benchmark: serves, on loopback, (1) the real extender app over
 * an in-memory snapshot of a synthetic cluster and (2) the floor: a Fastify route that only
 * parses the same body and returns the node names. Sends both ports to the parent over IPC.
 * Running the servers in their own process keeps the client's work out of their event loop,
 * as with a real kube-scheduler.
 */
import Fastify from 'fastify';
import { createEmbeddedExtender } from '@rdmasched/scheduler-extender';
import { syntheticCluster } from './extender-cluster.js';

interface Args {
  readonly nodes: number;
}

function names(body: unknown): unknown {
  return (body as { NodeNames?: unknown }).NodeNames;
}

async function serve(args: Args): Promise<void> {
  const now = Date.now();
  const extender = createEmbeddedExtender({ app: { bodyLimitBytes: 64 * 1024 * 1024 } });
  for (const report of syntheticCluster(args.nodes, 42, now)) extender.store.publish(report, now);
  await extender.store.start();
  // Keep every node fresh for the whole run.
  const heartbeat = setInterval(() => {
    const t = Date.now();
    for (const v of extender.snapshot.views()) extender.store.heartbeat(v.name, t);
  }, 2000);
  heartbeat.unref();

  const floor = Fastify({ bodyLimit: 64 * 1024 * 1024 });
  floor.post('/filter', (req) => names(req.body));
  floor.post('/prioritize', (req) => names(req.body));

  const extenderUrl = await extender.app.listen({ host: '127.0.0.1', port: 0 });
  const floorUrl = await floor.listen({ host: '127.0.0.1', port: 0 });
  process.send?.({ extenderUrl, floorUrl, nodes: extender.snapshot.size });
  process.on('disconnect', () => {
    void Promise.all([extender.app.close(), floor.close()]).then(() => process.exit(0));
  });
}

const nodes = Number(process.argv[2] ?? '5000');
serve({ nodes }).catch((err: unknown) => {
  console.error(err);
  process.exit(1);
});

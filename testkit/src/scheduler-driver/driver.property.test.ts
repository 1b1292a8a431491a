import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { SchedulerDriver } from './driver.js';

describe('SchedulerDriver properties', () => {
  it('never assumes more than a node can hold, and explains every pod it cannot place', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.array(fc.integer({ min: 1, max: 16 }), { minLength: 1, maxLength: 12 }),
        fc.array(fc.record({ cpu: fc.integer({ min: 1, max: 8 }), gpus: fc.integer({ min: 0, max: 2 }) }), {
          minLength: 1,
          maxLength: 40,
        }),
        fc.integer({ min: 0, max: 100 }),
        async (cpus, pods, pct) => {
          const d = new SchedulerDriver({ bind: () => Promise.resolve(), percentageOfNodesToScore: pct });
          cpus.forEach((cpu, i) =>
            d.upsertNode({
              metadata: { name: `n${i}` },
              status: {
                allocatable: {
                  cpu: String(cpu),
                  memory: '1Ti',
                  pods: '110',
                  'nvidia.com/gpu': String(i % 3),
                },
              },
            }),
          );
          for (const [i, p] of pods.entries()) {
            const requests = { cpu: String(p.cpu), 'nvidia.com/gpu': String(p.gpus) };
            const r = await d.scheduleOne({
              metadata: { name: `p${i}`, namespace: 'ns', uid: `u${i}` },
              spec: { containers: [{ name: 'c', resources: { requests, limits: requests } }] },
            });
            if (r.outcome === 'scheduled') await r.bound;
            else
              expect(
                r.outcome === 'unschedulable' && /^0\/\d+ nodes are available: .+\.$/.test(r.message),
              ).toBe(true);
          }
          cpus.forEach((cpu, i) => {
            expect(d.cache.requestedOf(`n${i}`, 'cpu')).toBeLessThanOrEqual(cpu);
            expect(d.cache.requestedOf(`n${i}`, 'nvidia.com/gpu')).toBeLessThanOrEqual(i % 3);
          });
          d.close();
        },
      ),
      { numRuns: 60 },
    );
  });
});

import { describe, expect, it } from 'vitest';
import { generateJobs } from './generator.js';
import { formatTrace, parseTrace } from './model.js';
import { createRng } from './random.js';

describe('generateJobs', () => {
  it('is reproducible for a seed and different across seeds', () => {
    const a = generateJobs(createRng(42), { jobs: 50, meanInterArrivalSeconds: 0.5 });
    const b = generateJobs(createRng(42), { jobs: 50, meanInterArrivalSeconds: 0.5 });
    const c = generateJobs(createRng(43), { jobs: 50, meanInterArrivalSeconds: 0.5 });
    expect(a).toEqual(b);
    expect(a).not.toEqual(c);
  });

  it('produces valid, ordered jobs that round-trip through the trace format', () => {
    const jobs = generateJobs(createRng(1), { jobs: 200, meanInterArrivalSeconds: 0.2 });
    expect(parseTrace(formatTrace(jobs))).toEqual(jobs);
    for (let i = 1; i < jobs.length; i++) {
      expect((jobs[i]?.arrivalSeconds ?? 0) >= (jobs[i - 1]?.arrivalSeconds ?? 0)).toBe(true);
    }
    expect(new Set(jobs.map((j) => j.tenant)).size).toBe(4);
  });

  it('has a mean inter-arrival close to the requested one', () => {
    const jobs = generateJobs(createRng(9), { jobs: 4000, meanInterArrivalSeconds: 0.25 });
    const mean = (jobs[jobs.length - 1]?.arrivalSeconds ?? 0) / jobs.length;
    expect(mean).toBeGreaterThan(0.23);
    expect(mean).toBeLessThan(0.27);
  });
});

describe('parseTrace', () => {
  const good =
    '{"id":"j1","tenant":"t","arrivalSeconds":0,"durationSeconds":5,"pods":2,"perPod":{"vfs":{"ib":1},"gpus":0,"cpu":"1","memory":"1Gi"}}';
  it('skips blank and comment lines', () => {
    expect(parseTrace(`# header\n\n${good}\n`)).toHaveLength(1);
  });
  it.each([
    ['{"id":', /line 1: not valid JSON/],
    [good.replace('"pods":2', '"pods":0'), /line 1: \/pods/],
    [good.replace('"ib":1', '"ib":0'), /at least one VF/],
    [good.replace('"gpus":0', '"gpus":0,"extra":1'), /line 1: \/perPod/],
    [`${good}\n${good}`, /line 2: \/id: job j1 appears twice/],
  ])('rejects %s', (text, error) => {
    expect(() => parseTrace(text)).toThrow(error);
  });
});

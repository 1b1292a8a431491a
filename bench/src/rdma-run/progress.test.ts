import { PassThrough } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { BarProgress, LineProgress } from './progress.js';

describe('LineProgress', () => {
  it('prints a phase when it changes, repeats a long one, and counts runs', () => {
    const lines: string[] = [];
    let now = 0;
    const p = new LineProgress({ out: () => undefined, err: (t) => lines.push(t) }, () => now, 30_000);
    p.start(4);
    p.phase('pair 1/2 a -> b: server pod Pending: waiting for the scheduler');
    now = 1000;
    p.phase('pair 1/2 a -> b: server pod Pending: waiting for the scheduler');
    now = 31_500;
    p.phase('pair 1/2 a -> b: server pod Pending: waiting for the scheduler');
    p.advance(2);
    p.phase('pair 2/2 b -> a: creating the server pod');
    p.log('  PASS x');
    p.advance(5);
    p.stop();
    expect(lines).toEqual([
      'running 4 perftest runs',
      '[0/4] pair 1/2 a -> b: server pod Pending: waiting for the scheduler',
      '[0/4] pair 1/2 a -> b: server pod Pending: waiting for the scheduler',
      '[2/4] pair 2/2 b -> a: creating the server pod',
      '  PASS x',
      '[4/4] finished',
    ]);
  });
});

describe('BarProgress', () => {
  it('draws a bar with the phase on a terminal stream and prints messages above it', () => {
    const stream = Object.assign(new PassThrough(), {
      isTTY: true,
      columns: 120,
      cursorTo: () => true,
      clearLine: () => true,
      moveCursor: () => true,
    });
    let text = '';
    stream.on('data', (d: Buffer) => (text += d.toString('utf8')));
    const p = new BarProgress(stream);
    p.start(3);
    p.phase('pair 1/1 a -> b: perftest running');
    p.advance(1);
    p.log('  PASS write bw');
    p.stop();
    expect(text).toContain('  PASS write bw');
    expect(text).toMatch(/1\/3 runs \| pair 1\/1 a -> b: perftest running/);
  });
});

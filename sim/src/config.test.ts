import { describe, expect, it } from 'vitest';
import { DEFAULTS, parseConfig } from './config.js';
import { ConfigError } from './errors.js';

const config = (argv: string[], env: NodeJS.ProcessEnv = {}) => {
  const r = parseConfig(argv, env);
  if (r.help) throw new Error('unexpected --help');
  return r.config;
};

describe('parseConfig', () => {
  it('has defaults that finish quickly', () => {
    const c = config([]);
    expect(c).toMatchObject({
      nodes: DEFAULTS.nodes,
      jobs: DEFAULTS.jobs,
      seed: 1,
      baseline: false,
      hold: false,
    });
    expect(c.burstPods).toBe(2 * DEFAULTS.nodes);
    expect(c.schedulerThread).toBe('worker');
    expect([...c.presets.keys()]).toEqual(['dgx-h100', 'reference-host', 'roce-single', 'sriov-disabled']);
    expect(Object.isFrozen(c)).toBe(true);
  });

  it('reads every flag', () => {
    const c = config(
      [
        ...['--nodes', '5000', '--jobs', '10', '--seed', '7', '--duration', '30', '--time-scale', '5'],
        ...['--baseline', '--json', 'r.json', '--hold', '--trace', 't.jsonl', '--write-trace', 'w.jsonl'],
        ...['--burst', '0', '--presets', 'dgx-h100:1,roce-single:2', '--vfs-per-pf', '4'],
        ...[
          '--pending-timeout',
          '12',
          '--percentage-of-nodes-to-score',
          '50',
          '--scheduler-thread',
          'inline',
        ],
        ...['--max-wall', '0', '--log-level', 'debug', '--plain'],
      ],
      { REDIS_URL: 'redis://127.0.0.1:6379' },
    );
    expect(c).toMatchObject({
      nodes: 5000,
      jobs: 10,
      seed: 7,
      durationSeconds: 30,
      timeScale: 5,
      baseline: true,
      jsonFile: 'r.json',
      hold: true,
      traceFile: 't.jsonl',
      writeTraceFile: 'w.jsonl',
      burstPods: 0,
      vfsPerPf: 4,
      pendingTimeoutSeconds: 12,
      percentageOfNodesToScore: 50,
      schedulerThread: 'inline',
      maxWallSeconds: 0,
      redisUrl: 'redis://127.0.0.1:6379',
      logLevel: 'debug',
      plainProgress: true,
    });
    expect([...c.presets]).toEqual([
      ['dgx-h100', 1],
      ['roce-single', 2],
    ]);
  });

  it('caps the default burst at 5000 pods', () => {
    expect(config(['--nodes', '5000']).burstPods).toBe(5000);
  });

  it('lists every bad flag in one error and names each', () => {
    let err: unknown;
    try {
      parseConfig(
        [
          '--nodes',
          '0',
          '--jobs',
          'many',
          '--presets',
          'dgx-h100:x,mystery',
          '--scheduler-thread',
          'gpu',
          '--json',
          ' ',
        ],
        { REDIS_URL: 'http://user:secret@host' },
      );
    } catch (e: unknown) {
      err = e;
    }
    expect(err).toBeInstanceOf(ConfigError);
    const problems = (err as ConfigError).problems;
    expect(problems).toEqual(
      expect.arrayContaining([
        '--nodes: 0 is out of range (1..20000)',
        '--jobs: "many" is not a whole number',
        '--presets: weight of dgx-h100 must be a number >= 0, not "x"',
        '--presets: unknown preset "mystery" (known: dgx-h100, reference-host, roce-single, sriov-disabled)',
        '--scheduler-thread: "gpu" is not one of worker, inline',
        '--json: needs a file name',
      ]),
    );
    // The Redis password never appears in the message.
    expect(problems.find((p) => p.startsWith('REDIS_URL'))).toBe(
      'REDIS_URL: "http://***@host" is not a redis:// or rediss:// URL',
    );
  });

  it('rejects unknown flags and answers --help', () => {
    expect(() => parseConfig(['--nodez', '3'])).toThrow(ConfigError);
    expect(parseConfig(['--help']).help).toBe(true);
  });
});

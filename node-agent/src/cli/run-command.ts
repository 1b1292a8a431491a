import { parseArgs } from 'node:util';
import { CONFIG_FIELDS, RUN_FLAGS, parseConfig } from '../config.js';
import { ConfigError } from '../errors.js';
import { runUntilSignal } from '../main.js';

export const RUN_USAGE = `usage: rdmasched-agent run [--flag value]...

Runs the node agent daemon. Every setting comes from an environment variable or its flag (the
flag wins); SIGTERM stops it gracefully.

${CONFIG_FIELDS.map(([env, flag, def, help]) => `  ${env.padEnd(40)} ${flag.padEnd(24)} ${def === '' ? '' : `[${def}] `}${help}`).join('\n')}`;

export async function runCommand(argv: readonly string[]): Promise<number> {
  const options: Record<string, { type: 'string' }> = {};
  for (const f of RUN_FLAGS) options[f] = { type: 'string' };
  let flags: Record<string, string | boolean | undefined>;
  try {
    const parsed = parseArgs({
      args: [...argv],
      options: { ...options, help: { type: 'boolean', short: 'h' } },
      strict: true,
    });
    flags = parsed.values;
  } catch (err: unknown) {
    console.error(`${(err as Error).message}\n\n${RUN_USAGE}`);
    return 2;
  }
  if (flags['help'] === true) {
    console.log(RUN_USAGE);
    return 0;
  }
  const strings: Record<string, string | undefined> = {};
  for (const [k, v] of Object.entries(flags)) if (typeof v === 'string') strings[k] = v;
  try {
    await runUntilSignal(parseConfig(process.env, strings));
    return 0;
  } catch (err: unknown) {
    if (err instanceof ConfigError) {
      console.error(err.message);
      return 2;
    }
    throw err;
  }
}

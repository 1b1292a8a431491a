import { discoverCommand } from './cli/discover-command.js';
import { runCommand } from './cli/run-command.js';
import { simCommand } from './cli/sim-command.js';

const USAGE = `usage: rdmasched-agent <command> [options]

  discover   print the RDMA topology read from a sysfs tree (no Redis)
  sim        create simulated hosts (sim create, sim presets, sim spec)
  run        run the node agent daemon

rdmasched-agent <command> --help for the options of one command.`;

/** The `rdmasched-agent` CLI; returns the exit code. */
export async function main(argv: readonly string[]): Promise<number> {
  const [command, ...rest] = argv;
  switch (command) {
    case 'discover':
      return discoverCommand(rest);
    case 'sim':
      return simCommand(rest);
    case 'run':
      return runCommand(rest);
    case undefined:
      console.error(USAGE);
      return 2;
    case '--help':
    case '-h':
    case 'help':
      console.log(USAGE);
      return 0;
    default:
      console.error(`unknown command ${JSON.stringify(command)}\n\n${USAGE}`);
      return 2;
  }
}

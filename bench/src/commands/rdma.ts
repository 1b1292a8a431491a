/**
 * `rdmasched-bench rdma <subcommand>`: the data-path checks.
 *   rdma local   perftest on this host (two local devices, or to a peer host), no Kubernetes
 * The pod-pair runner (`rdma run`) adds itself to RDMA_SUBCOMMANDS.
 */
import type { Command } from '../command.js';
import { EXIT } from '../rdma-local/exit-codes.js';
import { processIo, type CommandIo } from '../rdma-local/io.js';
import { createLocalCommand } from '../rdma-local/command.js';
import { createRunCommand } from '../rdma-run/command.js';

export function createRdmaCommand(subcommands: readonly Command[], io: CommandIo = processIo): Command {
  const usage = () => {
    const width = Math.max(...subcommands.map((c) => c.name.length));
    return [
      'usage: rdmasched-bench rdma <subcommand> [options]',
      '',
      ...subcommands.map((c) => `  ${c.name.padEnd(width)}  ${c.summary}`),
      '',
      'rdmasched-bench rdma <subcommand> --help for its options.',
    ].join('\n');
  };
  return {
    name: 'rdma',
    summary: 'RDMA data-path checks with perftest: ' + subcommands.map((c) => c.name).join(', '),
    async run(argv) {
      const [name, ...rest] = argv;
      if (name === undefined || name === '--help' || name === '-h' || name === 'help') {
        (name === undefined ? io.err : io.out)(usage());
        return name === undefined ? EXIT.usage : EXIT.ok;
      }
      const sub = subcommands.find((c) => c.name === name);
      if (sub === undefined) {
        io.err(`unknown rdma subcommand "${name}"\n\n${usage()}`);
        return EXIT.usage;
      }
      return sub.run(rest);
    },
  };
}

/** Every `rdma` subcommand. Add one entry per subcommand. */
export const RDMA_SUBCOMMANDS: readonly Command[] = [createLocalCommand(), createRunCommand()];

export const rdmaCommand: Command = createRdmaCommand(RDMA_SUBCOMMANDS);

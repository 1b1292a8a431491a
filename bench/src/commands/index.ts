import type { Command } from '../command.js';
import { allCommand } from './all.js';
import { parseCommand } from './parse.js';
import { rdmaCommand } from './rdma.js';

/** Every `rdmasched-bench` subcommand. Add one import and one entry per command. */
export const COMMANDS: readonly Command[] = [allCommand, parseCommand, rdmaCommand];

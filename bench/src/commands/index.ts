import type { Command } from '../command.js';
import { allCommand } from './all.js';

/** Every `rdmasched-bench` subcommand. Add one import and one entry per command. */
export const COMMANDS: readonly Command[] = [allCommand];

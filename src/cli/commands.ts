import type { Command } from './command.ts';
import { checkConfig } from './check-config.ts';
import { statusCommand } from './status.ts';

/** Every sub-command, in the order `wanbond --help` lists them. One file per command. */
export const COMMANDS: Command[] = [checkConfig, statusCommand];

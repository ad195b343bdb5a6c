import type { Command } from './command.ts';

/** Every sub-command, in the order `wanbond --help` lists them. One file per command. */
export const COMMANDS: Command[] = [];

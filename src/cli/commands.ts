import type { Command } from './command.ts';
import { checkConfig } from './check-config.ts';
import { statusCommand } from './status.ts';
import { applyCommand } from './apply.ts';
import { downCommand } from './down.ts';
import { pairCommand } from './pair.ts';
import { siteCommand } from './site.ts';
import { runCommand } from './run.ts';

/** Every sub-command, in the order `wanbond --help` lists them. One file per command. */
export const COMMANDS: Command[] = [checkConfig, statusCommand, applyCommand, downCommand, pairCommand, siteCommand, runCommand];

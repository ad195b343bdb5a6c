// `wanbond check-config [--config PATH] [--print] [--json]`: checks /etc/config/wanbond.
// Exit 0 valid, 1 invalid (every problem printed to stderr as PATH:LINE: section.option: why),
// 2 usage error.

import type { Command } from './command.ts';
import { CONCENTRATOR_CONFIG_PATH, DEFAULT_CONFIG_PATH, defaultConfigPath } from '../config/defaults.ts';
import { formatConfigError, loadConfigFile } from '../config/load.ts';
import { configToDocument } from '../config/print.ts';
import { writeUci } from '../config/uci-write.ts';

const USAGE = `usage: wanbond check-config [--config PATH] [--print] [--json]

Checks the wanbond UCI config and prints every problem as PATH:LINE: section.option: what is wrong.
  --config PATH  the file to check (default ${DEFAULT_CONFIG_PATH}; on a concentrator
                 installed from the .deb, ${CONCENTRATOR_CONFIG_PATH})
  --print        print the effective config, defaults filled in, in 'uci export' form
  --json         print the effective config (or the problems) as JSON on stdout
Exit status: 0 valid, 1 invalid or unreadable, 2 usage error.`;

interface Args {
  path: string;
  print: boolean;
  json: boolean;
}

function parseArgs(args: string[]): Args | string {
  const out: Args = { path: '', print: false, json: false };
  let named = false;
  for (let i = 0; i < args.length; i++) {
    const a = args[i]!;
    if (a === '--print') out.print = true;
    else if (a === '--json') out.json = true;
    else if (a === '--config' || a === '-c') {
      const v = args[++i];
      if (v === undefined || v === '') return `${a} needs a path`;
      out.path = v;
      named = true;
    } else if (a.startsWith('--config=')) {
      out.path = a.slice('--config='.length);
      named = true;
    } else return `unknown argument '${a}'`;
  }
  if (!named) out.path = defaultConfigPath();
  if (out.path === '') return '--config needs a path';
  return out;
}

export const checkConfig: Command = {
  name: 'check-config',
  summary: 'check the config file and print every problem (--print: the effective config)',
  async run(argv) {
    if (argv.includes('--help') || argv.includes('-h')) {
      console.log(USAGE);
      return 0;
    }
    const args = parseArgs(argv);
    if (typeof args === 'string') {
      console.error(`wanbond check-config: ${args}\n${USAGE}`);
      return 2;
    }
    const result = await loadConfigFile(args.path);
    if (!result.ok) {
      for (const e of result.errors) console.error(formatConfigError(e));
      console.error(`${args.path}: ${result.errors.length} problem${result.errors.length === 1 ? '' : 's'}`);
      if (args.json) console.log(JSON.stringify({ ok: false, errors: result.errors }, null, 2));
      return 1;
    }
    if (args.json) {
      const { mqtt, ...rest } = result.config;
      const shown = mqtt.password !== undefined ? { ...rest, mqtt: { ...mqtt, password: '(hidden)' } } : result.config;
      console.log(JSON.stringify({ ok: true, config: shown }, null, 2));
    } else if (args.print) {
      process.stdout.write(writeUci(configToDocument(result.config, { hideSecrets: true })));
    } else {
      console.log(`${args.path}: ok`);
    }
    return 0;
  },
};

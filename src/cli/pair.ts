import { parseArgs } from '../agent/options.ts';
import { pairAccept, pairRequest } from '../pair/flows.ts';
import type { Command } from './command.ts';

/** `wanbond pair [--site NAME]` prints a token; `wanbond pair --accept <reply>` completes the config. */
export const pairCommand: Command = {
  name: 'pair',
  summary: 'router: print a pairing token for the concentrator (--accept <reply>: finish pairing)',
  async run(args) {
    const a = parseArgs(args, ['accept', 'site', 'state']);
    const state = a.values['state'] ? { statePath: a.values['state'] } : {};
    const r = a.values['accept'] !== undefined
      ? await pairAccept(a.config, a.values['accept'], state)
      : await pairRequest(a.config, { ...state, ...(a.values['site'] ? { site: a.values['site'] } : {}) });
    if (!r.ok) {
      console.error(`wanbond pair: ${r.error}`);
      return 1;
    }
    if (r.token) console.log(r.token);
    console.error(`wanbond pair: ${r.message}`);
    return 0;
  },
};

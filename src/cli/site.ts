import { parseArgs } from '../agent/options.ts';
import { removeSiteFromDoc } from '../pair/concentrator.ts';
import { openConfig, saveConfig } from '../pair/configfile.ts';
import { siteAdd } from '../pair/flows.ts';
import type { Command } from './command.ts';

const USAGE = 'usage: wanbond site add <token> [--host H] | site remove <name> | site list   [--config P]';

/** Concentrator: `wanbond site add <token>` (prints the reply token), `site remove`, `site list`. */
export const siteCommand: Command = {
  name: 'site',
  summary: 'concentrator: add a router site from its pairing token, remove or list sites',
  async run(args) {
    const a = parseArgs(args, ['host', 'state']);
    const [verb, arg] = a.rest;
    if (verb === 'add' && arg) {
      const r = await siteAdd(a.config, arg, { ...(a.values['host'] ? { host: a.values['host'] } : {}), ...(a.values['state'] ? { statePath: a.values['state'] } : {}) });
      if (!r.ok) {
        console.error(`wanbond site add: ${r.error}`);
        return 1;
      }
      console.log(r.token);
      console.error(`wanbond site add: ${r.message}`);
      return 0;
    }
    const o = openConfig(a.config);
    if (!o.ok) {
      for (const e of o.errors) console.error(e);
      return 1;
    }
    if (verb === 'list') {
      for (const s of o.config?.sites ?? []) console.log(`${s.name}\t${s.subnet}\t${s.enabled ? 'enabled' : 'disabled'}\t${s.peers.map((p) => p.name).join(',')}`);
      return 0;
    }
    if (verb === 'remove' && arg) {
      if (!removeSiteFromDoc(o.doc, arg)) {
        console.error(`wanbond site remove: no site '${arg}'`);
        return 1;
      }
      const saved = saveConfig(a.config, o.doc);
      if (!saved.ok) {
        for (const e of saved.errors) console.error(e);
        return 1;
      }
      console.error(`wanbond site remove: site ${arg} removed; apply or reload to take it down`);
      return 0;
    }
    console.error(USAGE);
    return 2;
  },
};

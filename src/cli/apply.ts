import { learnLinks } from '../agent/links.ts';
import { withStackLock } from '../agent/lock.ts';
import { loadConfig, parseArgs } from '../agent/options.ts';
import { converge } from '../kernel/reconcile.ts';
import { formatStep } from '../kernel/step.ts';
import { createLogger } from '../log.ts';
import type { Command } from './command.ts';

/** `wanbond apply [--config P] [--dry-run]`: converge the kernel to the config once. */
export const applyCommand: Command = {
  name: 'apply',
  summary: 'build or repair the tunnels and bond once (--dry-run: print the commands only)',
  async run(args) {
    const a = parseArgs(args);
    const dryRun = a.flags.has('dry-run');
    const loaded = await loadConfig(a.config);
    if (!loaded.ok) {
      for (const e of loaded.errors) console.error(e);
      return 1;
    }
    const log = createLogger('wanbond', loaded.config.globals.log_level);
    const config = loaded.config;
    const r = await withStackLock(!dryRun, async () => converge({ config, runtime: await learnLinks(config), log, dryRun }));
    if (typeof r === 'string') {
      console.error(`wanbond: ${r}`);
      return 1;
    }
    for (const w of r.plan.warnings) console.error(`wanbond: ${w}`);
    const shown = dryRun ? r.steps : r.steps.slice(0, r.ran);
    for (const s of shown) console.log(formatStep(s));
    if (r.error) {
      console.error(`wanbond: ${r.error}`);
      return 1;
    }
    console.error(r.steps.length === 0 ? 'wanbond: nothing to do, the stack is as configured' : `wanbond: ${dryRun ? 'would run' : 'ran'} ${r.steps.length} command(s)`);
    return 0;
  },
};

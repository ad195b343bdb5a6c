import { withStackLock } from '../agent/lock.ts';
import { parseArgs } from '../agent/options.ts';
import { runSteps } from '../kernel/exec.ts';
import { teardown } from '../kernel/diff.ts';
import { observe } from '../kernel/observe.ts';
import { formatStep } from '../kernel/step.ts';
import { createLogger } from '../log.ts';
import type { Command } from './command.ts';

/** `wanbond down [--dry-run]`: remove every interface, rule, route and nft table wanbond made. */
export const downCommand: Command = {
  name: 'down',
  summary: 'remove everything wanbond built, and nothing else (--dry-run: print only)',
  async run(args) {
    const a = parseArgs(args);
    if (a.flags.has('dry-run')) {
      for (const s of teardown(await observe())) console.log(formatStep(s));
      return 0;
    }
    const done = await withStackLock(true, async () => {
      const steps = teardown(await observe());
      return { steps, r: await runSteps(steps, createLogger('wanbond')) };
    });
    if (typeof done === 'string') {
      console.error(`wanbond: ${done}`);
      return 1;
    }
    const { steps, r } = done;
    for (const s of steps.slice(0, r.ran)) console.log(formatStep(s));
    if (r.error) {
      console.error(`wanbond: ${r.error}`);
      return 1;
    }
    console.error(steps.length ? `wanbond: removed (${steps.length} command(s))` : 'wanbond: nothing of wanbond is there');
    return 0;
  },
};

import { Daemon } from '../agent/daemon.ts';
import { withStackLock } from '../agent/lock.ts';
import { loadConfig, parseArgs } from '../agent/options.ts';
import { wireDaemon } from '../agent/wire.ts';
import { createLogger } from '../log.ts';
import type { Command } from './command.ts';

/** `wanbond run [--config P]`: the agent (procd / systemd start it). */
export const runCommand: Command = {
  name: 'run',
  summary: 'run the agent: build the stack and keep it up (SIGHUP reloads the config)',
  async run(args) {
    const a = parseArgs(args, ['control']);
    const loaded = await loadConfig(a.config);
    if (!loaded.ok) {
      for (const e of loaded.errors) console.error(e);
      console.error('wanbond: not started: the config has errors');
      return 1;
    }
    const log = createLogger('wanbond', loaded.config.globals.log_level);
    // Held while the agent runs: `apply`/`down` (or a second agent) would fight its reconciles.
    const r = await withStackLock(true, async () => {
      const d = new Daemon({ configPath: a.config, log }, loaded.config);
      // The stack first (building it can take a while), then health and the front ends.
      await d.start();
      const wired = await wireDaemon(d, { ...(a.values['control'] ? { controlPath: a.values['control'] } : {}), health: !a.flags.has('no-health') });
      log.info(`running as ${loaded.config.globals.role} from ${a.config}`);
      process.on('SIGHUP', () => void d.reload());
      return new Promise<number>((resolve) => {
        const quit = (sig: string) => {
          log.info(`${sig}: stopping; the stack stays up (wanbond down removes it)`);
          d.stop();
          void wired.stop().finally(() => resolve(0));
        };
        process.once('SIGTERM', () => quit('SIGTERM'));
        process.once('SIGINT', () => quit('SIGINT'));
      });
    });
    if (typeof r === 'string') {
      console.error(`wanbond: not started: ${r}`);
      return 1;
    }
    return r;
  },
};

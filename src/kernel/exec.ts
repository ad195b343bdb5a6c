// Run steps in order with execa. Stops at the first failure: the next reconcile observes again
// and carries on from whatever state the kernel is in.
import { existsSync } from 'node:fs';
import { execa } from 'execa';
import type { Logger } from '../log.ts';
import { formatStep } from './step.ts';
import type { Step } from './step.ts';

export interface ExecResult {
  ran: number;
  error?: string;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

export async function runSteps(steps: Step[], log: Logger): Promise<ExecResult> {
  let ran = 0;
  for (const s of steps) {
    log.debug(`run: ${formatStep(s).split('\n')[0]}`);
    const r = await execa(s.argv[0]!, s.argv.slice(1), {
      reject: false,
      timeout: 30_000,
      ...(s.input !== undefined ? { input: s.input } : {}),
      // wireguard-go daemonises itself and must outlive us: do not hold its pipes.
      ...(s.argv[0] === 'wireguard-go' ? { stdio: 'ignore' as const } : {}),
    });
    ran++;
    if (r.exitCode !== 0) {
      const msg = `${s.argv.join(' ')} (${s.why}) failed: ${String(r.stderr ?? '').trim() || `exit ${r.exitCode}`}`;
      return { ran, error: msg };
    }
    if (s.waitFor) {
      for (let i = 0; i < 100 && !existsSync(s.waitFor); i++) await sleep(50);
      if (!existsSync(s.waitFor)) return { ran, error: `${s.waitFor} did not appear after ${s.argv.join(' ')}` };
    }
    if (s.ready) {
      const r = await execa(s.ready[0]!, s.ready.slice(1), { reject: false, timeout: 10_000 });
      if (r.exitCode !== 0) return { ran, error: `${s.argv.join(' ')} did not come up (${s.ready.join(' ')} failed)` };
    }
  }
  return { ran };
}

// Run steps in order with execa. Stops at the first failure: the next reconcile observes again
// and carries on from whatever state the kernel is in.
import { existsSync } from 'node:fs';
import { execa } from 'execa';
import type { Logger } from '../log.ts';
import { formatStep } from './step.ts';
import type { TcSession } from './tc-session.ts';
import type { Step } from './step.ts';

export interface ExecResult {
  ran: number;
  error?: string;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/**
 * `ip link set` steps (what steering runs: gretaps into and out of the bond, up and down) with
 * plain arguments: several in a row run as one `ip -batch`. Creating links stays one process per
 * step, so a crash mid-apply leaves a state the next start repairs step by step.
 */
const batchable = (s: Step) =>
  ((s.argv[0] === 'ip' && s.argv[1] === 'link' && s.argv[2] === 'set') || (s.argv[0] === 'tc' && s.argv[1] === 'qdisc')) &&
  s.input === undefined && !s.waitFor && !s.ready && s.argv.every((a) => /^[A-Za-z0-9_.:/@+-]+$/.test(a));

/**
 * Runs a row of batchable steps of one program as one `ip -batch -` / `tc -batch -` (a process
 * start costs a small router, or the one-CPU lab, far more than the commands: steering moves a
 * link's gretaps in and out of the bond with a dozen of them, and sets up to three qdiscs on each
 * gretap). Both stop at the first failing line and name it.
 */
async function runBatch(steps: Step[], log: Logger): Promise<ExecResult> {
  for (const s of steps) log.debug(`run: ${formatStep(s)}`);
  const bin = steps[0]!.argv[0]!;
  const r = await execa(bin, ['-batch', '-'], { input: steps.map((s) => s.argv.slice(1).join(' ')).join('\n') + '\n', reject: false, timeout: 30_000 });
  if (r.exitCode === 0) return { ran: steps.length };
  const err = String(r.stderr ?? '');
  const line = Number(/Command failed -:(\d+)/.exec(err)?.[1] ?? 0);
  const bad = steps[line - 1];
  const why = err.split('\n').filter((l) => l && !/Command failed/.test(l)).join('; ').trim() || `exit ${r.exitCode}`;
  return bad ? { ran: line, error: `${bad.argv.join(' ')} (${bad.why}) failed: ${why}` } : { ran: 0, error: `${bin} -batch failed: ${why}` };
}

/**
 * Steps that must act at once (steering's tc changes) through a tc kept running, when they are all
 * plain tc steps; otherwise as `runSteps`. tc's errors name no line here: the call fails whole.
 */
export async function runTcNow(steps: Step[], tc: TcSession, log: Logger): Promise<ExecResult> {
  if (!steps.length) return { ran: 0 };
  if (!steps.every((s) => s.argv[0] === 'tc' && batchable(s))) return runSteps(steps, log);
  for (const s of steps) log.debug(`run (tc kept running): ${formatStep(s)}`);
  try {
    const err = await tc.run(steps.map((s) => s.argv.slice(1).join(' ')));
    return err ? { ran: 0, error: `${steps.map((s) => s.argv.join(' ')).join('; ')} failed: ${err}` } : { ran: steps.length };
  } catch (e) {
    return { ran: 0, error: (e as Error).message };
  }
}

export async function runSteps(steps: Step[], log: Logger): Promise<ExecResult> {
  let ran = 0;
  for (let i = 0; i < steps.length; i++) {
    let j = i;
    while (j < steps.length && batchable(steps[j]!) && steps[j]!.argv[0] === steps[i]!.argv[0]) j++;
    if (j - i > 1) {
      const b = await runBatch(steps.slice(i, j), log);
      ran += b.ran;
      if (b.error) return { ran, error: b.error };
      i = j - 1;
      continue;
    }
    const s = steps[i]!;
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

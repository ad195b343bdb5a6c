// The imperative shell around the pure planner and differ: gather facts, plan, observe, diff,
// run. Safe to repeat at any time and after a crash at any point: it always starts from what the
// kernel reports.
import { lookup } from 'node:dns/promises';
import { isIP } from 'node:net';
import type { Config } from '../config/types.ts';
import type { Logger } from '../log.ts';
import { planConcentrator } from '../plan/concentrator.ts';
import { planRouter } from '../plan/router.ts';
import type { LinkRuntime, Plan, Steering } from '../plan/types.ts';
import { diff } from './diff.ts';
import { runSteps } from './exec.ts';
import { ensureKey, publicKeys } from './keys.ts';
import { observe } from './observe.ts';
import type { KernelState } from './state.ts';
import type { Step } from './step.ts';

export interface ConvergeOptions {
  config: Config;
  /** Router: each link's run-time state by link name. */
  runtime: Record<string, LinkRuntime>;
  steering?: Steering;
  log: Logger;
  dryRun?: boolean;
}

export interface ConvergeResult {
  plan: Plan;
  steps: Step[];
  ran: number;
  state: KernelState;
  error?: string;
}

export async function resolveHost(host: string): Promise<string> {
  if (isIP(host)) return host;
  const r = await lookup(host);
  return r.address;
}

/** Key files the config needs (router: one per link; concentrator: its own). */
export function keyFiles(config: Config): string[] {
  return config.globals.role === 'router'
    ? config.links.filter((l) => l.enabled).map((l) => l.private_key_file)
    : [config.globals.private_key_file];
}

export async function buildPlan(config: Config, runtime: Record<string, LinkRuntime>, state: KernelState, steering?: Steering): Promise<Plan> {
  if (config.globals.role === 'concentrator') {
    const pubIf = config.globals.public_interface;
    const dev = pubIf ? state.links.find((l) => l.name === pubIf) : undefined;
    return planConcentrator({ config, ...(dev ? { publicMtu: dev.mtu } : {}), ...(steering ? { steering } : {}) });
  }
  const withMtu: Record<string, LinkRuntime> = {};
  for (const [name, rt] of Object.entries(runtime)) {
    const dev = rt.device ? state.links.find((l) => l.name === rt.device) : undefined;
    withMtu[name] = { ...rt, ...(dev && rt.mtu === undefined ? { mtu: dev.mtu } : {}) };
  }
  const endpoint = config.concentrator ? await resolveHost(config.concentrator.host) : '0.0.0.0';
  return planRouter({ config, runtime: withMtu, endpoint, ...(steering ? { steering } : {}) });
}

export async function converge(o: ConvergeOptions): Promise<ConvergeResult> {
  if (!o.dryRun && o.config.globals.enabled) for (const f of keyFiles(o.config)) await ensureKey(f);
  const state = await observe();
  const plan = await buildPlan(o.config, o.runtime, state, o.steering);
  for (const w of plan.warnings) o.log.debug(w);
  const pub = await publicKeys(plan.wg.map((w) => w.privateKeyFile));
  const steps = diff(plan, state, pub);
  if (o.dryRun || steps.length === 0) return { plan, steps, ran: 0, state };
  const r = await runSteps(steps, o.log);
  return { plan, steps, ran: r.ran, state, ...(r.error ? { error: r.error } : {}) };
}

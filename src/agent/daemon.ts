// `wanbond run`: the agent. Loads the config, converges the kernel to it, and keeps it there:
// on netifd changes, on link health steering, on reload (SIGHUP or api.reload()), and on a slow
// periodic check that also repairs anything removed behind its back. It removes nothing on exit:
// the stack keeps carrying traffic while the agent restarts; `wanbond down` removes it.
import { EventEmitter } from 'node:events';
import { execa } from 'execa';
import { existsSync } from 'node:fs';
import { hostname } from 'node:os';
import type { AgentApi, AgentEvents, ReloadResult, SetLinkResult, StatusEvent } from './api.ts';
import type { Config } from '../config/types.ts';
import { createLogger, type Logger } from '../log.ts';
import { masterOf, moveSlaves, releaseSlave, slavesOf } from '../kernel/bond-sysfs.ts';
import { runTcNow } from '../kernel/exec.ts';
import { TcSession } from '../kernel/tc-session.ts';
import { buildPlan, converge } from '../kernel/reconcile.ts';
import { formatStep } from '../kernel/step.ts';
import type { KernelState } from '../kernel/state.ts';
import { TABLE_EXPRESS } from '../plan/addressing.ts';
import type { LinkRuntime, Plan, Steering } from '../plan/types.ts';
import type { LinkEvent, Status } from '../status/types.ts';
import { VERSION } from '../version.ts';
import { bondSlowdowns } from './bond-slowdown.ts';
import { inPlaceSteps } from './steer-in-place.ts';
import { expressMoves, withExpressRoutes, withoutExpress } from './express-move.ts';
import { learnLink } from './links.ts';
import { loadConfig } from './options.ts';
import { buildStatus, type HealthView, type LinkMemory } from './status.ts';

export interface DaemonOptions {
  configPath: string;
  log?: Logger;
  /** Seconds between link polls (device + gateway links) and counter reads. */
  pollSec?: number;
  /** Seconds between full repair passes. */
  repairSec?: number;
}

export class Daemon implements AgentApi {
  readonly events = new EventEmitter<AgentEvents>();
  readonly log: Logger;
  config: Config;
  private runtime: Record<string, LinkRuntime> = {};
  private steering: Steering = { links: {} };
  private adminOff = new Set<string>();
  private plan: Plan | undefined;
  private state: KernelState | undefined;
  private readonly startedAt = Date.now();
  private memory = new Map<string, LinkMemory>();
  private steerChain: Promise<void> = Promise.resolve();
  /** For steering's tc changes: no process to start as a link fails (see tc-session.ts). */
  private readonly tc = new TcSession();
  private lastMembers = '';
  private running: Promise<void> | null = null;
  private again = false;
  private timers: NodeJS.Timeout[] = [];
  private lastError = '';
  /** Set by whoever watches netifd: interfaces it reports on (not polled then). */
  netifdInterfaces = new Set<string>();
  /** Health and front ends hook in here (see run.ts); all optional. */
  onPlan: ((plan: Plan) => void) | undefined;
  onConfig: ((config: Config) => void) | undefined;
  healthStatus: (() => HealthView[]) | undefined;

  constructor(private readonly opts: DaemonOptions, config: Config) {
    this.config = config;
    this.log = opts.log ?? createLogger('wanbond', config.globals.log_level);
  }

  async start(): Promise<void> {
    await this.pollLinks();
    await this.converge('start');
    // Started now, not as the first link fails.
    await this.tc.run([]).catch((e: Error) => this.log.debug(`tc -batch not started: ${e.message}`));
    const poll = (this.opts.pollSec ?? 10) * 1000;
    const repair = (this.opts.repairSec ?? 60) * 1000;
    this.timers.push(setInterval(() => void this.tick(), poll));
    this.timers.push(setInterval(() => void this.converge('periodic check'), repair));
  }

  /** Poll links and handshakes; converge when a link moved. */
  private async tick(): Promise<void> {
    if (await this.pollLinks()) await this.converge('link change (poll)');
    else if (!this.healthStatus) await this.refreshHandshakes();
  }

  private async refreshHandshakes(): Promise<void> {
    if (!this.state) return;
    const r = await execa('wg', ['show', 'all', 'latest-handshakes'], { reject: false, timeout: 5000 }).catch(() => undefined);
    if (!r || r.exitCode !== 0) return;
    for (const line of String(r.stdout).split('\n')) {
      const [dev, key, hs] = line.split('\t');
      const peer = this.state.wg.find((w) => w.dev === dev)?.peers.find((p) => p.publicKey === key);
      if (peer) peer.handshake = Number(hs) || 0;
    }
    this.status();
  }

  stop(): void {
    for (const t of this.timers) clearInterval(t);
    this.timers = [];
    this.tc.stop();
  }

  /** netifd reported an interface: update the links on it and converge if anything moved. */
  netifdChange(ev: { interface: string; up: boolean; device?: string; gateway?: string }): void {
    let changed = false;
    for (const l of this.config.links) {
      if (l.interface !== ev.interface || l.device) continue;
      const rt: LinkRuntime = { name: l.name, up: ev.up && !!ev.device, ...(ev.device ? { device: ev.device } : {}), ...(ev.gateway ? { gateway: ev.gateway } : {}) };
      if (JSON.stringify(this.runtime[l.name]) !== JSON.stringify(rt)) {
        this.runtime[l.name] = rt;
        changed = true;
      }
    }
    if (changed) void this.converge(`netifd: ${ev.interface} ${ev.up ? 'up' : 'down'}`);
  }

  /** Link health decided a new transmit set / weighting. */
  steer(s: Steering): void {
    if (JSON.stringify(s) === JSON.stringify(this.steering)) return;
    const onlyExpress = JSON.stringify(withoutExpress(s)) === JSON.stringify(withoutExpress(this.steering));
    this.steering = s;
    this.releaseLeaving();
    // An express move alone, or links leaving with shapers and delays retuned, needs no reconcile
    // once applied: reading the whole kernel state takes processes that stall a small router just
    // as a link fails. The periodic check still verifies it. Otherwise the bond's shaper slows
    // ahead of the reconcile. In turn: two in-place passes from the same applied plan would race.
    this.steerChain = this.steerChain.then(async () => {
      const inPlace = await this.steerInPlace();
      const moved = await this.moveExpress();
      if (!((inPlace || onlyExpress) && moved)) void this.converge('health steering');
    }).catch((e: Error) => this.log.error(`health steering failed: ${e.message}`));
  }

  /** Steering applied now without a reconcile (see steer-in-place.ts); true when it was. */
  private async steerInPlace(): Promise<boolean> {
    const applied = this.plan;
    if (!applied || !this.state || this.running || this.lastError) return this.slowBondNow().then(() => false);
    try {
      const plan = await buildPlan(this.config, this.runtime, this.state, this.effectiveSteering());
      const moves = inPlaceSteps(plan, applied, { masterOf, slavesOf });
      if (!moves || this.plan !== applied || this.running) return this.slowBondNow(plan).then(() => false);
      if (moves.drain.length) {
        const r = await runTcNow(moves.drain, this.tc, this.log);
        if (r.error) {
          this.log.debug(`delays not drained in place (${r.error}); the reconcile will join the link`);
          return false;
        }
        await new Promise((resolve) => setTimeout(resolve, moves.drainMs));
        if (this.plan !== applied || this.running) return false;
      }
      for (const j of moves.joins) {
        const err = moveSlaves(j.bond, j.release, j.enslave);
        if (err) {
          this.log.debug(`${j.enslave.join(', ')} not enslaved in place (${err}); the reconcile will`);
          return false;
        }
        this.log.info(`health steering: into ${j.bond} in place${j.release.length ? ` (released ${j.release.join(', ')} to keep the order)` : ''}: ${j.enslave.join(', ')}`);
      }
      if (moves.joins.length) this.noteChanges(this.status().bond.members);
      const steps = moves.steps;
      if (steps.length) {
        const r = await runTcNow(steps, this.tc, this.log);
        if (r.error) {
          this.log.debug(`steering not applied in place (${r.error}); the reconcile will`);
          return false;
        }
      }
      const express = applied.routes.filter((r) => r.table === TABLE_EXPRESS);
      this.plan = { ...moves.applied, routes: [...plan.routes.filter((r) => r.table !== TABLE_EXPRESS), ...express] };
      if (steps.length) this.log.info(`health steering: in place, ${steps.map((x) => formatStep(x)).join('; ')}`);
      else this.log.debug('health steering: in place, nothing to change');
      this.onPlan?.(this.plan);
      return true;
    } catch (e) {
      this.log.debug(`steering not applied in place (${(e as Error).message}); the reconcile will`);
      return false;
    }
  }

  /**
   * The bond's shaper to its slower sum now, as its leaving links left (see bond-slowdown.ts);
   * `built`: the plan of the steering now, when the caller has it already.
   */
  private async slowBondNow(built?: Plan): Promise<void> {
    if (!this.state) return;
    try {
      const plan = built ?? (await buildPlan(this.config, this.runtime, this.state, this.effectiveSteering()));
      const steps = bondSlowdowns(plan, this.plan, this.state);
      if (!steps.length) return;
      const r = await runTcNow(steps, this.tc, this.log);
      if (r.error) this.log.debug(`bond shaper not slowed now (${r.error}); the reconcile will`);
      else this.log.info(`bond shaper slowed now: ${steps.map((x) => formatStep(x)).join('; ')}`);
    } catch (e) {
      this.log.debug(`bond shaper not slowed now (${(e as Error).message}); the reconcile will`);
    }
  }

  /** Express routes onto the link steering chose now (see express-move.ts); true when they are there. */
  private async moveExpress(): Promise<boolean> {
    // Not beside a reconcile: it read the routes before, and would undo the move or trip on it.
    if (this.running) await this.running.catch(() => undefined);
    // Express off: steering's choice has nothing to move, and needs no reconcile either.
    if (this.config.globals.express_bytes === 0) return true;
    if (!this.plan) return false;
    const { lines, routes } = expressMoves(this.plan, this.effectiveSteering());
    if (!routes.length) return false;
    if (!lines.length) return true;
    const r = await execa('ip', ['-4', '-batch', '-'], { input: lines.join('\n') + '\n', reject: false, timeout: 5000 }).catch((e: Error) => ({ exitCode: 1, stderr: e.message }));
    if (r.exitCode !== 0) {
      this.log.debug(`express routes not moved now (${String(r.stderr).trim()}); the reconcile will`);
      return false;
    }
    this.log.info(`express moved: ${lines.map((l) => l.replace(/ table .*$/, '')).join('; ')}`);
    if (this.state) this.state = { ...this.state, routes: withExpressRoutes(this.state.routes, routes) };
    if (this.plan) this.plan = { ...this.plan, routes: [...this.plan.routes.filter((x) => x.table !== TABLE_EXPRESS), ...routes] };
    return true;
  }

  /**
   * Links that leave the transmit set leave the bond now, through sysfs, without waiting for the
   * reconcile (it may be busy with an earlier pass for seconds): a cut link must stop taking
   * packets at once. The reconcile that follows finds them released and only tidies up.
   */
  private releaseLeaving(): void {
    const plan = this.plan;
    if (!plan) return;
    const eff = this.effectiveSteering();
    for (const pl of plan.planLinks) {
      if (!pl.in_bond || eff.links[pl.key]?.in_bond !== false) continue;
      let released = 0;
      for (const g of pl.gretaps) {
        const bond = plan.links.find((l) => l.name === g)?.master;
        if (!bond || masterOf(g) !== bond) continue;
        const err = releaseSlave(bond, g);
        if (err) this.log.debug(`could not release ${g} from ${bond} now (${err}); the reconcile will`);
        else released++;
      }
      if (released) this.log.info(`link ${pl.key} out of the bond`);
    }
    this.noteChanges(this.status().bond.members);
  }

  private effectiveSteering(): Steering {
    const links: Steering['links'] = {};
    for (const [k, v] of Object.entries(this.steering.links)) links[k] = { ...v };
    for (const k of this.adminOff) links[k] = { ...(links[k] ?? {}), in_bond: false };
    return { links, ...(this.steering.fallback ? { fallback: true } : {}) };
  }

  /** Poll links that netifd does not report on; true when any changed. */
  private async pollLinks(): Promise<boolean> {
    if (this.config.globals.role !== 'router') return false;
    let changed = false;
    for (const l of this.config.links) {
      if (!l.enabled || (l.interface && !l.device && this.netifdInterfaces.has(l.interface))) continue;
      const rt = await learnLink(l).catch(() => ({ name: l.name, up: false }));
      if (JSON.stringify(this.runtime[l.name]) !== JSON.stringify(rt)) {
        this.runtime[l.name] = rt;
        changed = true;
      }
    }
    return changed;
  }

  /** Serialised: a request while one runs makes exactly one more run after it. */
  converge(reason: string): Promise<void> {
    if (this.running) {
      this.again = true;
      return this.running;
    }
    this.running = (async () => {
      do {
        this.again = false;
        await this.convergeOnce(reason);
        reason = 'changes during the last pass';
      } while (this.again);
    })().finally(() => {
      this.running = null;
    });
    return this.running;
  }

  private async convergeOnce(reason: string): Promise<void> {
    try {
      const r = await converge({ config: this.config, runtime: this.runtime, steering: this.effectiveSteering(), log: this.log });
      this.plan = r.plan;
      // The state was read before the steps ran; once they all ran, the express table is the plan's.
      this.state = r.ran === r.steps.length && !r.error ? { ...r.state, routes: withExpressRoutes(r.state.routes, r.plan.routes) } : r.state;
      if (r.steps.length) {
        this.log.info(`${reason}: ran ${r.ran} of ${r.steps.length} command(s)`);
        for (const s of r.steps.slice(0, r.ran)) this.log.debug(`  ${formatStep(s).split('\n')[0]}`);
      }
      if (r.error) {
        if (r.error !== this.lastError) this.log.error(r.error);
        this.lastError = r.error;
      } else this.lastError = '';
      this.onPlan?.(r.plan);
      this.noteChanges(this.status().bond.members);
    } catch (e) {
      const msg = `converge (${reason}) failed: ${(e as Error).message}`;
      if (msg !== this.lastError) this.log.error(msg);
      this.lastError = msg;
    }
  }

  /** A bond membership event when the kernel's membership (status().bond.members) changed. */
  private noteChanges(members: string[]): void {
    const key = members.join(',');
    if (key !== this.lastMembers) {
      this.lastMembers = key;
      const ev: StatusEvent = { kind: 'bond', members, reachable: members.length > 0, fallback: !!this.steering.fallback, reason: 'transmit set changed', time: Math.floor(Date.now() / 1000) };
      this.events.emit('status', ev);
    }
  }

  status(): Status {
    return buildStatus({
      config: this.config, plan: this.plan, state: this.state, runtime: this.runtime, adminOff: this.adminOff,
      memory: this.memory, health: this.healthStatus?.() ?? [], startedAt: this.startedAt, version: VERSION, hostname: hostname(),
      fallback: !!this.steering.fallback, emit: (e) => this.events.emit('link', e),
    });
  }

  async reload(): Promise<ReloadResult> {
    const r = await loadConfig(this.opts.configPath);
    if (!r.ok) {
      this.log.error(`reload refused, the running stack is unchanged: ${r.errors.join('; ')}`);
      return { ok: false, errors: r.errors };
    }
    if (r.config.globals.role !== this.config.globals.role) {
      const e = `reload refused: the role changed (${this.config.globals.role} -> ${r.config.globals.role}); restart the agent`;
      this.log.error(e);
      return { ok: false, errors: [e] };
    }
    this.config = r.config;
    this.onConfig?.(r.config);
    this.log.setLevel(r.config.globals.log_level);
    this.log.info(`config reloaded from ${this.opts.configPath}`);
    this.runtime = {};
    await this.pollLinks();
    await this.converge('reload');
    return { ok: true };
  }

  async setLink(link: string, enabled: boolean): Promise<SetLinkResult> {
    const keys = this.config.globals.role === 'router'
      ? this.config.links.map((l) => l.name)
      : this.config.sites.flatMap((s) => s.peers.map((p) => `${s.name}/${p.name}`));
    if (typeof link !== 'string' || !keys.includes(link)) return { ok: false, error: 'not_found', message: `no link '${link}'` };
    if (enabled) this.adminOff.delete(link);
    else {
      this.adminOff.add(link);
      this.releaseLeaving();
    }
    this.log.info(`link ${link} ${enabled ? 'back into' : 'taken out of'} the bond by request`);
    await this.converge(`setLink ${link} ${enabled}`);
    return { ok: true };
  }

  get currentPlan(): Plan | undefined {
    return this.plan;
  }

  hasUbus(): boolean {
    return existsSync('/var/run/ubus/ubus.sock') || existsSync('/var/run/ubus.sock');
  }
}

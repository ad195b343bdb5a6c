// TEST DOUBLE of the running agent for the LuCI tests: an AgentApi serving a recorded status
// (fixtures/status-4-links.json) with mutable state. Tests cut and restore links as the health
// checker would, set_link takes links out and back in, and every status() read moves the
// measurements a little (deterministically) so the page's chart has something to draw.
import { EventEmitter } from 'node:events';
import { readFileSync } from 'node:fs';
import type { AgentApi, AgentEvents, ReloadResult, SetLinkResult } from '../../../src/agent/api.ts';
import type { LinkState, LinkStatus, Status } from '../../../src/status/types.ts';

export const RECORDED_STATUS = new URL('./fixtures/status-4-links.json', import.meta.url);

export class RecordedAgent implements AgentApi {
  readonly events = new EventEmitter<AgentEvents>();
  private state: Status;
  private reads = 0;
  /** Links taken out with set_link, and the state each had before. */
  private readonly takenOut = new Map<string, LinkState>();
  /** What reload() answers; the harness wires it to the committed config. */
  reloadCheck: () => ReloadResult | Promise<ReloadResult> = () => ({ ok: true });
  reloads = 0;
  readonly setLinkCalls: Array<{ link: string; enabled: boolean }> = [];

  constructor(status?: Status) {
    this.state = structuredClone(status ?? (JSON.parse(readFileSync(RECORDED_STATUS, 'utf8')) as Status));
    // The recording's clock is not ours: move its timestamps so the latest change was 2 min ago.
    const latest = Math.max(this.state.concentrator.since, ...this.state.links.map((l) => l.since));
    const shift = now() - 120 - latest;
    this.state.concentrator.since += shift;
    for (const l of this.state.links) l.since += shift;
  }

  status(): Status {
    this.reads++;
    const k = this.reads;
    const out = structuredClone(this.state);
    out.globals.uptime += k;
    for (const [i, l] of out.links.entries()) {
      if (!l.online) continue;
      // a slow, different wobble per link: enough to see lines move, always the same sequence
      const w = Math.sin((k + i * 7) / 3);
      if (l.rtt_ms !== null) l.rtt_ms = round1(l.rtt_ms * (1 + 0.15 * w));
      if (l.jitter_ms !== null) l.jitter_ms = round1(l.jitter_ms * (1 + 0.2 * w));
      l.rx_rate_kbit = Math.round(l.rx_rate_kbit * (1 + 0.25 * Math.cos((k + i) / 2)));
      l.tx_rate_kbit = Math.round(l.tx_rate_kbit * (1 + 0.25 * Math.sin((k + i) / 2)));
      l.rx_bytes += k * l.rx_rate_kbit * 125;
      l.tx_bytes += k * l.tx_rate_kbit * 125;
    }
    const inBond = out.links.filter((l) => l.in_bond);
    out.bond.rx_rate_kbit = inBond.reduce((a, l) => a + l.rx_rate_kbit, 0);
    out.bond.tx_rate_kbit = inBond.reduce((a, l) => a + l.tx_rate_kbit, 0);
    return out;
  }

  async reload(): Promise<ReloadResult> {
    this.reloads++;
    return this.reloadCheck();
  }

  async setLink(link: string, enabled: boolean): Promise<SetLinkResult> {
    this.setLinkCalls.push({ link, enabled });
    const l = this.find(link);
    if (!l) return { ok: false, error: 'not_found', message: `no link named ${link}` };
    if (!enabled && l.status !== 'disabled') {
      this.takenOut.set(link, l.status);
      this.change(l, 'disabled', 'taken out of the bond by set_link', { online: false, in_bond: false });
    } else if (enabled && l.status === 'disabled') {
      const before = this.takenOut.get(link) ?? 'up';
      this.takenOut.delete(link);
      this.change(l, before, 'put back into the bond by set_link', { online: true, in_bond: before !== 'backup' });
    }
    return { ok: true };
  }

  /** The modem lost its carrier: probes time out, the link leaves the bond. */
  cut(link: string, reason = 'lost 5 probes in a row (loss 100%)'): void {
    const l = this.mustFind(link);
    this.change(l, 'down', reason, { online: false, in_bond: false, rtt_ms: null, jitter_ms: null, loss_pct: 100, rx_rate_kbit: 0, tx_rate_kbit: 0 });
  }

  restore(link: string): void {
    const l = this.mustFind(link);
    this.change(l, 'up', 'probes healthy again', { online: true, in_bond: true, rtt_ms: 45, jitter_ms: 5, loss_pct: 0, rx_rate_kbit: 9000, tx_rate_kbit: 1500 });
  }

  setConcentratorReachable(reachable: boolean): void {
    this.state.concentrator.reachable = reachable;
    this.state.concentrator.since = now();
    this.events.emit('status', { kind: 'concentrator', members: this.state.bond.members, reachable, fallback: this.state.fallback, reason: reachable ? 'handshake' : 'no handshake for 15 s', time: now() });
  }

  private change(l: LinkStatus, to: LinkState, reason: string, patch: Partial<LinkStatus>): void {
    const from = l.status;
    Object.assign(l, patch, { status: to, reason, since: now() });
    if (l.online) {
      l.offline = 0;
    } else {
      l.uptime = 0;
    }
    this.state.bond.members = this.state.links.filter((x) => x.in_bond).map((x) => x.name);
    this.moveExpress();
    this.events.emit('link', { link: l.name, from, to, reason, rtt_ms: l.rtt_ms, loss_pct: l.loss_pct, time: l.since });
    this.events.emit('status', { kind: 'bond', members: this.state.bond.members, reachable: this.state.concentrator.reachable, fallback: this.state.fallback, reason, time: l.since });
  }

  /** As steering settles: express by the carrying link with the lowest RTT; none while no link carries. */
  private moveExpress(): void {
    const best = this.state.links.filter((x) => x.in_bond && x.rtt_ms !== null).sort((a, b) => a.rtt_ms! - b.rtt_ms!)[0];
    for (const x of this.state.links) x.express = x === best;
  }

  private find(name: string): LinkStatus | undefined {
    return this.state.links.find((l) => l.name === name);
  }

  private mustFind(name: string): LinkStatus {
    const l = this.find(name);
    if (!l) throw new Error(`no link ${name} in the recorded status`);
    return l;
  }
}

function now(): number {
  return Math.floor(Date.now() / 1000);
}

function round1(v: number): number {
  return Math.round(v * 10) / 10;
}

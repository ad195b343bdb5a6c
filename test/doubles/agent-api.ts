// TEST DOUBLE of the running agent (src/agent/api.ts AgentApi) for front-end tests: a fixed,
// realistic status that set_link and reload act on, every call recorded, events emitted on demand.
import { EventEmitter } from 'node:events';
import type { AgentApi, AgentEvents, ReloadResult, SetLinkResult, StatusEvent } from '../../src/agent/api.ts';
import type { LinkEvent, LinkStatus, Status } from '../../src/status/types.ts';

export const FAKE_NOW = 1_763_700_000; // unix seconds the fake status is stamped with

function link(name: string, over: Partial<LinkStatus>): LinkStatus {
  return {
    name,
    status: 'up',
    online: true,
    uptime: 3600,
    offline: 0,
    interface: name,
    device: `eth-${name}`,
    gateway: '192.0.2.1',
    tunnel: `wb-${name}`,
    in_bond: true,
    express: false,
    rtt_ms: 42.5,
    jitter_ms: 3.25,
    loss_pct: 0,
    rx_bytes: 123456789,
    tx_bytes: 23456789,
    rx_rate_kbit: 5400,
    tx_rate_kbit: 880,
    since: FAKE_NOW - 3600,
    reason: 'probes ok',
    capacity_down_kbit: 8000,
    capacity_down_source: 'configured',
    capacity_up_kbit: 1500,
    capacity_up_source: 'measured',
    gretaps: 2,
    added_delay_ms: 12,
    shaped_kbit: 1425,
    ...over,
  };
}

export function fakeStatus(): Status {
  return {
    globals: { role: 'router', mode: 'balance-rr', enabled: true, uptime: 7322, version: '0.1.0-test', hostname: 'OpenWrt' },
    bond: { name: 'wanbond0', mode: 'balance-rr', mtu: 1380, members: ['wan', 'wwan'], rx_bytes: 9_000_000_000, tx_bytes: 400_000_000, rx_rate_kbit: 10800, tx_rate_kbit: 1760 },
    concentrator: { host: 'vps.example.net', reachable: true, since: FAKE_NOW - 7300 },
    fallback: false,
    links: [
      link('wan', { device: 'eth1', gateway: '192.168.1.1', express: true }),
      link('wwan', { device: 'wwan0', gateway: '10.64.64.64', rtt_ms: 68, jitter_ms: 11.5, loss_pct: 1.5, reason: 'loss 1.5% (under 20%)' }),
      link('wan2', {
        status: 'down',
        online: false,
        uptime: 0,
        offline: 95,
        interface: 'wan2',
        device: undefined,
        gateway: undefined,
        in_bond: false,
        rtt_ms: null,
        jitter_ms: null,
        loss_pct: 100,
        rx_rate_kbit: 0,
        tx_rate_kbit: 0,
        since: FAKE_NOW - 95,
        reason: 'netifd: interface down',
      }),
    ],
  };
}

export class FakeAgentApi implements AgentApi {
  readonly events = new EventEmitter<AgentEvents>();
  readonly calls: { method: string; args: unknown[] }[] = [];
  state: Status = fakeStatus();
  reloadResult: ReloadResult = { ok: true };
  /** Milliseconds reload() takes (slow-handler tests). */
  reloadDelayMs = 0;

  status(): Status {
    this.calls.push({ method: 'status', args: [] });
    return structuredClone(this.state);
  }

  async reload(): Promise<ReloadResult> {
    this.calls.push({ method: 'reload', args: [] });
    if (this.reloadDelayMs) await new Promise((r) => setTimeout(r, this.reloadDelayMs));
    return this.reloadResult;
  }

  async setLink(name: string, enabled: boolean): Promise<SetLinkResult> {
    this.calls.push({ method: 'setLink', args: [name, enabled] });
    const l = this.state.links.find((x) => x.name === name);
    if (!l) return { ok: false, error: 'not_found', message: `no link '${name}'` };
    const from = l.status;
    l.status = enabled ? 'up' : 'disabled';
    l.in_bond = enabled;
    if (!enabled) l.express = false; // the agent moves express off a link it takes out of the bond
    l.reason = enabled ? 'enabled at run time' : 'disabled at run time';
    this.state.bond.members = this.state.links.filter((x) => x.in_bond).map((x) => x.name);
    if (from !== l.status) this.emitLink({ link: name, from, to: l.status, reason: l.reason, rtt_ms: l.rtt_ms, loss_pct: l.loss_pct, time: FAKE_NOW });
    return { ok: true };
  }

  emitLink(e: LinkEvent): void {
    this.events.emit('link', e);
  }
  emitStatus(e: StatusEvent): void {
    this.events.emit('status', e);
  }
}

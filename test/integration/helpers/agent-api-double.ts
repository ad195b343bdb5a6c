// Test double of the daemon's AgentApi for the MQTT tests: a status the test sets, events the
// test raises, and a record of what was asked. (test/doubles/agent-api.ts is the project-wide one;
// this small one keeps the MQTT tests independent of it.)
import { EventEmitter } from 'node:events';
import type { AgentApi, AgentEvents, StatusEvent } from '../../../src/agent/api.ts';
import type { LinkEvent, LinkStatus, Status } from '../../../src/status/types.ts';

export function linkStatus(name: string, over: Partial<LinkStatus> = {}): LinkStatus {
  return {
    name, status: 'up', online: true, uptime: 120, offline: 0, interface: `wan_${name}`, device: `${name}0`,
    gateway: '192.0.2.1', tunnel: `wb-${name}`, in_bond: true, express: false, rtt_ms: 42.5, jitter_ms: 3.1, loss_pct: 0,
    rx_bytes: 1000, tx_bytes: 2000, rx_rate_kbit: 8000, tx_rate_kbit: 1500, since: 1_700_000_000, reason: 'healthy',
    capacity_down_kbit: 10000, capacity_down_source: 'configured', capacity_up_kbit: 2000, capacity_up_source: 'configured',
    gretaps: 1, added_delay_ms: 0, shaped_kbit: 1900,
    ...over,
  };
}

export function statusWith(links: LinkStatus[], over: Partial<Status> = {}): Status {
  return {
    globals: { role: 'router', mode: 'balance-rr', enabled: true, uptime: 300, version: '0.1.0', hostname: 'testrouter' },
    bond: {
      name: 'wanbond0', mode: 'balance-rr', mtu: 1402, members: links.filter((l) => l.in_bond).map((l) => l.name),
      rx_bytes: 5000, tx_bytes: 6000, rx_rate_kbit: links.reduce((s, l) => s + l.rx_rate_kbit, 0), tx_rate_kbit: links.reduce((s, l) => s + l.tx_rate_kbit, 0),
    },
    concentrator: { host: 'vps.example.net', reachable: true, since: 1_700_000_000 },
    fallback: false,
    links,
    ...over,
  };
}

export class AgentApiDouble implements AgentApi {
  readonly events = new EventEmitter<AgentEvents>();
  statusCalls = 0;
  constructor(public current: Status) {}

  status(): Status {
    this.statusCalls++;
    return structuredClone(this.current);
  }
  async reload() {
    return { ok: true as const };
  }
  async setLink() {
    return { ok: true as const };
  }
  link(ev: LinkEvent): void {
    this.events.emit('link', ev);
  }
  statusEvent(ev: StatusEvent): void {
    this.events.emit('status', ev);
  }
}

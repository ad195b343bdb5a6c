// Guest side, in the router namespace, for test/lab/mqtt-alert.test.ts: wanbond's real health
// monitor probing the lab's tunnels, and the real MQTT front end publishing its link events.
// Between them a test double of the daemon's AgentApi (the daemon itself is not in this test):
// link events pass straight through, status() is built from the monitor's own view.
// Usage: mqtt-alert-agent.ts '<json { health, links, broker }>'
import { EventEmitter } from 'node:events';
import { HealthMonitor, type MonitoredLink } from '../../src/health/monitor.ts';
import { startMqtt } from '../../src/mqtt/index.ts';
import { createLogger } from '../../src/log.ts';
import type { AgentApi, AgentEvents } from '../../src/agent/api.ts';
import type { Health } from '../../src/config/types.ts';
import type { Status } from '../../src/status/types.ts';

interface Spec { health: Health; links: MonitoredLink[]; broker: string }
const spec = JSON.parse(process.argv[2] ?? '{}') as Spec;
const log = createLogger('lab-agent', 'info');
const mon = new HealthMonitor({ role: 'router', health: spec.health, fallback: { enabled: false, timeout_s: 30 }, log });
mon.setLinks(spec.links);
const events = new EventEmitter<AgentEvents>();
// One JSON line per event with the wall time (ms) it left the monitor, to split the alert's
// delay into detection (health) and delivery (MQTT).
mon.on('link', (e) => {
  process.stdout.write(JSON.stringify({ kind: 'link', at: Date.now(), ...e }) + '\n');
  events.emit('link', e);
});
const started = Date.now();

const api: AgentApi = {
  events,
  status(): Status {
    const links = mon.status();
    const d = mon.steering();
    return {
      globals: { role: 'router', mode: 'balance-rr', enabled: true, uptime: Math.round((Date.now() - started) / 1000), version: 'lab', hostname: 'labrouter' },
      bond: { name: 'wbbench', mode: 'balance-rr', mtu: 1400, members: d.members, rx_bytes: 0, tx_bytes: 0, rx_rate_kbit: 0, tx_rate_kbit: 0 },
      concentrator: { host: '198.51.100.1', reachable: d.members.length > 0, since: 0 },
      fallback: d.fallback,
      links: links.map((l) => ({
        name: l.name, status: l.status, online: l.online, uptime: 0, offline: 0, tunnel: `wbp${l.key}`, in_bond: l.in_bond, express: false,
        rtt_ms: l.rtt_ms, jitter_ms: l.jitter_ms, loss_pct: l.loss_pct, rx_bytes: 0, tx_bytes: 0,
        rx_rate_kbit: l.rx_capacity_kbit, tx_rate_kbit: l.tx_capacity_kbit, since: l.since, reason: l.reason,
        capacity_down_kbit: l.capacity.down_kbit, capacity_down_source: l.capacity.down_source,
        capacity_up_kbit: l.capacity.up_kbit, capacity_up_source: l.capacity.up_source,
        gretaps: l.gretaps, added_delay_ms: l.added_delay_ms, shaped_kbit: l.shaped_kbit,
      })),
    };
  },
  reload: async () => ({ ok: true }),
  setLink: async () => ({ ok: true }),
};

const mqtt = startMqtt(
  { enabled: true, broker: spec.broker, interval: 5, qos: 0, insecure: false, ha_discovery: true, ha_prefix: 'homeassistant' },
  api, { hostname: 'labrouter', log },
);
mon.start();
process.on('SIGTERM', () => {
  mon.stop();
  void mqtt.stop().then(() => process.exit(0));
});

// Wires link health into the running agent: every plan the daemon applies tells the monitor which
// links exist (tunnel addresses, gretaps); every steering decision goes back to the daemon, which
// re-plans and converges; link events go out on the agent's event emitter (ubus, MQTT).
// Structural types only, so the daemon and this file do not import each other.
import type { EventEmitter } from 'node:events';
import type { AgentEvents } from '../agent/api.ts';
import type { Config } from '../config/types.ts';
import type { Logger } from '../log.ts';
import { linkAddresses } from '../plan/addressing.ts';
import type { Plan, Steering } from '../plan/types.ts';
import { HealthMonitor, type LinkHealthStatus, type MonitoredLink, type MonitorOptions } from './monitor.ts';

export type HealthRow = Pick<LinkHealthStatus, 'key' | 'status' | 'rtt_ms' | 'jitter_ms' | 'loss_pct' | 'since' | 'reason'>;

/** What the daemon offers (src/agent/daemon.ts: onPlan, healthStatus, steer, events). */
export interface HealthHost {
  config: Config;
  readonly log: Logger;
  readonly events: EventEmitter<AgentEvents>;
  onPlan: ((plan: Plan) => void) | undefined;
  healthStatus: (() => HealthRow[]) | undefined;
  steer(s: Steering): void;
}

/** The links of a plan as the monitor needs them; pure. */
export function monitoredLinks(config: Config, plan: Plan): MonitoredLink[] {
  const out: MonitoredLink[] = [];
  for (const pl of plan.planLinks) {
    if (config.globals.role === 'router') {
      const c = config.concentrator;
      const link = config.links.find((l) => l.name === pl.name);
      if (!c || !link) continue;
      const a = linkAddresses(c.subnet, pl.id);
      out.push({
        key: pl.key, name: pl.name, id: pl.id, local: a.router, peer: a.conc, role: link.role, enabled: link.enabled,
        ...(link.rate_up !== undefined ? { tx_rate_kbit: link.rate_up } : {}),
        ...(link.rate_down !== undefined ? { rx_rate_kbit: link.rate_down } : {}),
        rx_devs: pl.gretaps,
      });
    } else {
      const site = config.sites.find((s) => s.name === pl.site);
      if (!site) continue;
      const a = linkAddresses(site.subnet, pl.id);
      // Roles and rates are the router's: it reports them over the health channel.
      out.push({ key: pl.key, name: pl.name, id: pl.id, local: a.conc, peer: a.router, role: 'active', enabled: site.enabled, rx_devs: pl.gretaps });
    }
  }
  return out;
}

export function attachHealth(host: HealthHost, opts: Partial<MonitorOptions> = {}): HealthMonitor {
  const cfg = () => host.config;
  const mon = new HealthMonitor({
    role: cfg().globals.role,
    health: cfg().health,
    fallback: { enabled: cfg().globals.fallback, timeout_s: cfg().globals.fallback_timeout },
    log: host.log,
    ...opts,
  });
  host.onPlan = (plan) => {
    mon.configure(cfg().health, { enabled: cfg().globals.fallback, timeout_s: cfg().globals.fallback_timeout });
    mon.setLinks(monitoredLinks(cfg(), plan));
  };
  host.healthStatus = () => mon.status();
  mon.on('steering', (d) => host.steer({ links: d.links, ...(d.fallback ? { fallback: true } : {}) }));
  mon.on('link', (e) => host.events.emit('link', e));
  mon.start();
  return mon;
}

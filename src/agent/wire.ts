// Everything around the daemon that other parts of wanbond provide: link health (probes and
// steering), netifd events, the control socket, the ubus object, MQTT. Each is started only
// where it applies, and a part that fails to start is logged without stopping the agent.
import { hostname } from 'node:os';
import { CONTROL_SOCKET_PATH, startControlServer } from '../control/server.ts';
import { HealthMonitor, type MonitoredLink } from '../health/monitor.ts';
import { startMqtt } from '../mqtt/index.ts';
import { NetifdWatcher } from '../netifd/watcher.ts';
import { linkAddresses } from '../plan/addressing.ts';
import type { Plan } from '../plan/types.ts';
import type { Config } from '../config/types.ts';
import type { SteerOptions } from '../steer/steer.ts';
import { UbusClient } from '../ubus/client.ts';
import { startUbusFrontend } from '../ubus/frontend.ts';
import type { Daemon } from './daemon.ts';

export interface Wired {
  stop(): Promise<void>;
}

function monitoredLinks(d: Daemon, plan: Plan): MonitoredLink[] {
  const cfg = d.config;
  return plan.planLinks.map((pl) => {
    const router = cfg.globals.role === 'router';
    const subnet = router ? cfg.concentrator!.subnet : cfg.sites.find((s) => s.name === pl.site)!.subnet;
    const a = linkAddresses(subnet, pl.id);
    const link = router ? cfg.links.find((l) => l.name === pl.name) : undefined;
    const tx = router ? link?.rate_up : undefined;
    const rx = router ? link?.rate_down : undefined;
    const pct = cfg.globals.shaping;
    const shaped = (r: number | undefined) => (r && pct > 0 ? { kbit: Math.round((r * pct) / 100) } : null);
    const txShape = shaped(tx), rxShape = shaped(rx);
    return {
      key: pl.key, name: pl.name, id: pl.id,
      local: router ? a.router : a.conc, peer: router ? a.conc : a.router,
      role: link?.role ?? 'active', enabled: true,
      ...(tx ? { tx_rate_kbit: tx } : {}), ...(rx ? { rx_rate_kbit: rx } : {}),
      ...(txShape ? { tx_shape_kbit: txShape.kbit } : {}), ...(rxShape ? { rx_shape_kbit: rxShape.kbit } : {}),
      rx_devs: pl.gretaps,
    };
  });
}

/**
 * The router weights (gretaps per link) and equalises delays once every link's capacities are
 * known: configured (`rate_down`, `rate_up`) or measured by packet trains (src/health/monitor.ts
 * decides per decision). The concentrator runs as many gretaps as the router reports, and
 * equalises its delays and shapes its transmit with the rates the router sends it. With
 * `express_bytes` 0 no express link is chosen: no steering change for it at all. A reload applies
 * these.
 */
export function steerOptions(cfg: Config): SteerOptions {
  const express = cfg.globals.express_bytes > 0;
  return cfg.globals.role === 'router' ? { express } : { weight: false, express };
}

export async function wireDaemon(d: Daemon, opts: { controlPath?: string; health?: boolean }): Promise<Wired> {
  const stops: (() => Promise<void>)[] = [];
  const log = d.log;
  const attempt = async (what: string, f: () => Promise<void> | void) => {
    try {
      await f();
    } catch (e) {
      log.error(`${what} not started: ${(e as Error).message}`);
    }
  };

  if (opts.health !== false) {
    await attempt('link health', () => {
      const cfg = d.config;
      const mon = new HealthMonitor({ role: cfg.globals.role, health: cfg.health, fallback: { enabled: cfg.globals.fallback, timeout_s: cfg.globals.fallback_timeout }, log, steer: steerOptions(cfg) });
      d.onPlan = (plan) => mon.setLinks(monitoredLinks(d, plan));
      if (d.currentPlan) mon.setLinks(monitoredLinks(d, d.currentPlan));
      d.onConfig = (c) => mon.configure(c.health, { enabled: c.globals.fallback, timeout_s: c.globals.fallback_timeout }, steerOptions(c));
      d.healthStatus = () => mon.status();
      mon.on('steering', (s) => d.steer({ links: s.links, fallback: s.fallback }));
      mon.on('link', (e) => d.events.emit('link', e));
      mon.start();
      stops.push(async () => mon.stop());
    });
  }

  await attempt('control socket', async () => {
    const srv = await startControlServer(d, opts.controlPath ?? CONTROL_SOCKET_PATH);
    stops.push(() => srv.close());
  });

  if (d.hasUbus()) {
    await attempt('ubus', async () => {
      const fe = startUbusFrontend(d, { log });
      stops.push(() => fe.stop());
      const ifaces = d.config.links.filter((l) => l.interface && !l.device).map((l) => l.interface!);
      if (ifaces.length) {
        const client = new UbusClient({ log, reconnect: true, maxBackoffMs: 2000 });
        await client.connect();
        const w = new NetifdWatcher(client, ifaces);
        w.on('change', (s) => d.netifdChange(s));
        w.on('error', (e) => log.warn(`netifd: ${e.message}`));
        await w.start();
        for (const i of ifaces) d.netifdInterfaces.add(i);
        for (const i of ifaces) {
          const s = w.get(i);
          if (s) d.netifdChange(s);
        }
        stops.push(async () => {
          await w.stop();
          await client.close();
        });
      }
    });
  }

  if (d.config.mqtt.enabled) {
    await attempt('mqtt', () => {
      const m = startMqtt(d.config.mqtt, d, { hostname: hostname(), log });
      stops.push(() => m.stop());
    });
  }

  return {
    async stop() {
      for (const s of stops.reverse()) await s().catch(() => undefined);
    },
  };
}

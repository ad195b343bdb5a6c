// The agent's Status (src/status/types.ts) from the config, the last plan, what the kernel
// reported and link health (when the health monitor runs). Link state changes seen here are
// emitted as LinkEvents when no health monitor emits its own.
import { readFileSync } from 'node:fs';
import type { Config } from '../config/types.ts';
import { isOwnRoute, type KernelState } from '../kernel/state.ts';
import type { LinkRuntime, Plan } from '../plan/types.ts';
import { ROUTER_BOND, routerWg, CONC_WG, TABLE_EXPRESS } from '../plan/addressing.ts';
import { masterOf } from '../kernel/bond-sysfs.ts';
import type { LinkCapacity, LinkEvent, LinkState, LinkStatus, Status } from '../status/types.ts';

export interface LinkMemory {
  state: LinkState;
  since: number; // unix s
  bytes: { rx: number; tx: number; at: number } | null;
  rate: { rx: number; tx: number };
}

export interface HealthView {
  key: string;
  status: LinkState;
  rtt_ms: number | null;
  jitter_ms: number | null;
  loss_pct: number | null;
  since: number;
  reason: string;
  capacity?: LinkCapacity;
  gretaps?: number;
  added_delay_ms?: number;
  shaped_kbit?: number;
}

export interface StatusInputs {
  config: Config;
  plan: Plan | undefined;
  state: KernelState | undefined;
  runtime: Record<string, LinkRuntime>;
  adminOff: Set<string>;
  memory: Map<string, LinkMemory>;
  health: HealthView[];
  startedAt: number;
  version: string;
  hostname: string;
  fallback: boolean;
  emit: (e: LinkEvent) => void;
  /** The bond a device is enslaved to now (default: sysfs); status reports the kernel's membership. */
  masterOf?: (dev: string) => string | null;
}

const HANDSHAKE_FRESH_S = 180;

export function sysfsCounter(dev: string, which: 'rx_bytes' | 'tx_bytes'): number {
  try {
    return Number(readFileSync(`/sys/class/net/${dev}/statistics/${which}`, 'utf8')) || 0;
  } catch {
    return 0;
  }
}

const kbit = (bytes: number, sec: number) => (sec > 0 ? Math.round((bytes * 8) / 1000 / sec) : 0);

export function buildStatus(i: StatusInputs): Status {
  const now = Date.now() / 1000;
  const g = i.config.globals;
  const router = g.role === 'router';
  const configured = router
    ? i.config.links.map((l) => ({ key: l.name, name: l.name, id: l.id, enabled: l.enabled, role: l.role, iface: l.interface, peerKey: undefined }))
    : i.config.sites.flatMap((s) => s.peers.map((p) => ({ key: `${s.name}/${p.name}`, name: `${s.name}/${p.name}`, id: p.id, enabled: s.enabled, role: 'active' as const, iface: undefined, peerKey: p.public_key })));
  const health = new Map(i.health.map((h) => [h.key, h] as const));
  const master = i.masterOf ?? masterOf;
  const bondOf = (site: string | undefined) => (router ? ROUTER_BOND : i.plan?.bonds.find((b) => b.site === site)?.name);
  // Express tunnels the kernel routes express traffic into now (wanbond's routes in the express table).
  const expressDevs = new Set(
    (i.state?.routes ?? []).filter((r) => isOwnRoute(r) && r.table === String(TABLE_EXPRESS) && r.dev).map((r) => r.dev!),
  );
  const links: LinkStatus[] = configured.map((c) => {
    const pl = i.plan?.planLinks.find((p) => p.key === c.key);
    const rt = router ? i.runtime[c.name] : undefined;
    const tunnel = router ? routerWg(c.id) : CONC_WG;
    const wg = i.state?.wg.find((w) => w.dev === tunnel);
    const peer = router ? wg?.peers[0] : wg?.peers.find((p) => p.publicKey === c.peerKey);
    const fresh = !!peer && peer.handshake > 0 && now - peer.handshake < HANDSHAKE_FRESH_S;
    const h = health.get(c.key);
    let status: LinkState;
    let reason: string;
    if (!c.enabled) [status, reason] = ['disabled', 'disabled in the config'];
    else if (i.adminOff.has(c.key)) [status, reason] = ['disabled', 'taken out of the bond by request'];
    else if (h) [status, reason] = [h.status, h.reason];
    else if (!pl) [status, reason] = ['down', rt && !rt.up ? 'interface down' : 'not built'];
    else if (!fresh) [status, reason] = ['down', 'no WireGuard handshake in the last 3 minutes'];
    else if (!pl.in_bond && c.role === 'backup') [status, reason] = ['backup', 'standby until no active link is up'];
    else [status, reason] = ['up', 'tunnel handshake recent'];

    const mem = i.memory.get(c.key) ?? { state: status, since: Math.floor(now), bytes: null, rate: { rx: 0, tx: 0 } };
    if (mem.state !== status) {
      if (!h) i.emit({ link: c.key, from: mem.state, to: status, reason, rtt_ms: null, loss_pct: null, time: Math.floor(now) });
      mem.state = status;
      mem.since = Math.floor(now);
    }
    const devs = pl?.gretaps ?? [];
    // In the bond when the kernel has any of the link's gretaps enslaved to it (not what the plan wants).
    const bondName = pl ? bondOf(pl.site) : undefined;
    const inBond = !!bondName && devs.some((d) => master(d) === bondName);
    // Carries express when the kernel's express table routes into the link's express tunnel (not what the plan wants).
    const express = !!pl?.express && expressDevs.has(pl.express);
    const rx = devs.reduce((a, d) => a + sysfsCounter(d, 'rx_bytes'), 0);
    const tx = devs.reduce((a, d) => a + sysfsCounter(d, 'tx_bytes'), 0);
    if (mem.bytes && now - mem.bytes.at >= 1) mem.rate = { rx: kbit(Math.max(0, rx - mem.bytes.rx), now - mem.bytes.at), tx: kbit(Math.max(0, tx - mem.bytes.tx), now - mem.bytes.at) };
    if (!mem.bytes || now - mem.bytes.at >= 1) mem.bytes = { rx, tx, at: now };
    i.memory.set(c.key, mem);
    const online = status === 'up' || status === 'degraded';
    const since = h ? h.since : mem.since;
    // Without a health monitor (health off): the configured rates, nothing steered.
    const cfgLink = router ? i.config.links.find((l) => l.name === c.name) : undefined;
    const fromConfig = (v: number | undefined) => (v ? { kbit: v, source: 'configured' as const } : { kbit: null, source: null });
    const down = h?.capacity ? { kbit: h.capacity.down_kbit, source: h.capacity.down_source } : fromConfig(cfgLink?.rate_down);
    const up = h?.capacity ? { kbit: h.capacity.up_kbit, source: h.capacity.up_source } : fromConfig(cfgLink?.rate_up);
    return {
      name: c.name, status, online,
      uptime: online ? Math.max(0, Math.floor(now - since)) : 0,
      offline: online ? 0 : Math.max(0, Math.floor(now - since)),
      ...(c.iface ? { interface: c.iface } : {}),
      ...(rt?.device ? { device: rt.device } : {}),
      ...(rt?.gateway ? { gateway: rt.gateway } : {}),
      tunnel, in_bond: inBond, express,
      rtt_ms: h?.rtt_ms ?? null, jitter_ms: h?.jitter_ms ?? null, loss_pct: h?.loss_pct ?? null,
      rx_bytes: rx, tx_bytes: tx, rx_rate_kbit: mem.rate.rx, tx_rate_kbit: mem.rate.tx,
      since, reason,
      capacity_down_kbit: down.kbit, capacity_down_source: down.source,
      capacity_up_kbit: up.kbit, capacity_up_source: up.source,
      gretaps: h?.gretaps ?? devs.length, added_delay_ms: h?.added_delay_ms ?? 0, shaped_kbit: h?.shaped_kbit ?? 0,
    };
  });

  const bond = i.plan?.bonds[0];
  const bondName = router ? ROUTER_BOND : bond?.name ?? '';
  const bmem = i.memory.get('\0bond') ?? { state: 'up' as LinkState, since: 0, bytes: null, rate: { rx: 0, tx: 0 } };
  const brx = bondName ? sysfsCounter(bondName, 'rx_bytes') : 0;
  const btx = bondName ? sysfsCounter(bondName, 'tx_bytes') : 0;
  if (bmem.bytes && now - bmem.bytes.at >= 1) bmem.rate = { rx: kbit(Math.max(0, brx - bmem.bytes.rx), now - bmem.bytes.at), tx: kbit(Math.max(0, btx - bmem.bytes.tx), now - bmem.bytes.at) };
  if (!bmem.bytes || now - bmem.bytes.at >= 1) bmem.bytes = { rx: brx, tx: btx, at: now };
  i.memory.set('\0bond', bmem);
  const reachable = links.some((l) => l.online);
  const cmem = i.memory.get('\0conc') ?? { state: (reachable ? 'up' : 'down') as LinkState, since: Math.floor(now), bytes: null, rate: { rx: 0, tx: 0 } };
  if ((cmem.state === 'up') !== reachable) {
    cmem.state = reachable ? 'up' : 'down';
    cmem.since = Math.floor(now);
  }
  i.memory.set('\0conc', cmem);
  return {
    globals: { role: g.role, mode: g.mode, enabled: g.enabled, uptime: Math.floor((Date.now() - i.startedAt) / 1000), version: i.version, hostname: i.hostname },
    bond: {
      name: bondName, mode: bond?.mode ?? g.mode, mtu: bond?.mtu ?? 0,
      members: links.filter((l) => l.in_bond).map((l) => l.name),
      rx_bytes: brx, tx_bytes: btx, rx_rate_kbit: bmem.rate.rx, tx_rate_kbit: bmem.rate.tx,
    },
    concentrator: { host: router ? (i.config.concentrator?.host ?? '') : '', reachable, since: cmem.since },
    fallback: i.fallback,
    links,
  };
}

// Router plan: per link a WireGuard tunnel pinned to its modem by fwmark + table, gretap(s)
// inside it, one bond over the gretaps, LAN traffic into the bond by policy rules.
import { isIPv6 } from 'node:net';
import type { Config, Link } from '../config/types.ts';
import {
  EXPRESS_KEY, EXPRESS_MARK, FWMARK_MASK, GRE_OVERHEAD, KEEPALIVE_S, RULE_PRIO_BYPASS, RULE_PRIO_EXPRESS, RULE_PRIO_LAN, RULE_PRIO_SUPPRESS,
  ROUTER_BLOCK, ROUTER_BOND, TABLE_BOND, TABLE_EXPRESS, computeMtu, linkAddresses, linkMark, linkRulePrio, linkTable, routerExpress, routerGretap, routerWg,
  siteAddresses, MAX_PATHS,
} from './addressing.ts';
import { renderNft, routerGuard } from './nft.ts';
import { slaveOrder } from './slave-order.ts';
import { bondRate, bondShape, linkShape, SPLIT_HEADROOM, type ShapeContext, type ShapeSpec } from './shaping.ts';
import { DEFAULT_STEERING, steerKey, takesExpress } from './types.ts';
import type { LinkRuntime, LinkSteering, Plan, Steering } from './types.ts';

export interface RouterInputs {
  config: Config;
  /** Run-time state of each configured link, by link name (from netifd or config). */
  runtime: Record<string, LinkRuntime>;
  /** The concentrator's address as resolved now (an IP literal). */
  endpoint: string;
  steering?: Steering;
}

export function steeringFor(steering: Steering | undefined, key: string): LinkSteering {
  const s = { ...DEFAULT_STEERING, ...(steering?.links[key] ?? {}) };
  s.paths = Math.min(MAX_PATHS, Math.max(1, Math.floor(s.paths)));
  s.extra_delay_ms = Math.max(0, Math.round(s.extra_delay_ms));
  s.shape_kbit = Math.max(0, Math.round(s.shape_kbit));
  s.rtt_ms = Math.max(0, Math.round(s.rtt_ms));
  return s;
}

export function planRouter(inp: RouterInputs): Plan {
  const { config } = inp;
  const c = config.concentrator;
  const plan = emptyPlan('router');
  if (!config.globals.enabled) return plan;
  if (!c) {
    plan.warnings.push('no concentrator section yet (run wanbond pair): nothing to build');
    return plan;
  }
  const site = siteAddresses(c.subnet);
  const v6 = isIPv6(inp.endpoint);
  const endpoint = v6 ? `[${inp.endpoint}]:${c.port}` : `${inp.endpoint}:${c.port}`;

  const enabled = config.links.filter((l) => l.enabled);
  // MTU from every enabled link (not only those up now) so the bond MTU does not move with them.
  const pathMtu = Math.min(1500, ...enabled.map((l) => inp.runtime[l.name]?.mtu ?? 1500));
  const mtu = computeMtu(pathMtu, v6);
  const bondMtu = config.globals.mtu === 'auto' ? mtu.bond : config.globals.mtu;

  const usable = enabled.filter((l) => {
    const rt = inp.runtime[l.name];
    if (!rt?.up || !rt.device) {
      plan.warnings.push(`link ${l.name}: ${rt ? 'interface down' : 'not known'}, left out`);
      return false;
    }
    return true;
  });
  const anyActive = usable.some((l) => l.role === 'active');
  const members: string[] = [];
  const bondGretaps: string[][] = [];
  let expressDev: string | undefined;
  const steered = usable.map((l) => {
    const st = steeringFor(inp.steering, steerKey(undefined, l.name));
    return { l, st, inBond: st.in_bond && (l.role === 'active' || !anyActive || inp.steering?.links[l.name]?.in_bond === true) };
  });
  const shaping = bondShaping(steered.filter((x) => x.inBond).map((x) => x.st), { ipv6Endpoint: v6, bondMtu, probeIntervalS: config.health.interval });

  for (const { l, st, inBond } of steered) {
    const rt = inp.runtime[l.name]!;
    const a = linkAddresses(c.subnet, l.id);
    const wg = routerWg(l.id);
    plan.links.push({ name: wg, kind: 'wireguard', mtu: mtu.wg, master: null });
    plan.addrs.push({ dev: wg, local: a.router, prefixlen: 32, peer: a.conc });
    plan.wg.push({
      dev: wg,
      privateKeyFile: l.private_key_file,
      fwmark: linkMark(l.id),
      peers: [{ publicKey: c.public_key, endpoint, allowedIps: [`${a.conc}/32`], keepalive: KEEPALIVE_S }],
    });
    const table = linkTable(l.id);
    plan.routes.push({ table, dst: 'default', dev: rt.device!, ...(rt.gateway ? { via: rt.gateway } : {}) });
    plan.rules.push({ priority: linkRulePrio(l.id), fwmark: { mark: linkMark(l.id), mask: FWMARK_MASK }, table });
    const gretaps = addGretaps(plan, l, st, a.router, a.conc, inBond ? ROUTER_BOND : null, (p) => routerGretap(l.id, p));
    const shape = shapeFor(st, { ipv6Endpoint: v6, bondMtu }, shaping.headroom);
    if (shape) plan.qdiscs.push({ dev: wg, shape });
    const express = addExpress(plan, routerExpress(l.id), a.router, a.conc, mtu.wg);
    if (takesExpress(st, inBond) && !expressDev) expressDev = express;
    if (inBond) {
      members.push(l.name);
      bondGretaps.push(gretaps);
    }
    plan.planLinks.push({
      key: l.name, name: l.name, id: l.id, tunnel: wg, gretaps, express, in_bond: inBond,
      ...(rt.device ? { device: rt.device } : {}), ...(rt.gateway ? { gateway: rt.gateway } : {}),
      ...(l.interface ? { interface: l.interface } : {}),
    });
  }

  plan.links.push({ name: ROUTER_BOND, kind: 'bond', mtu: bondMtu, master: null, bond: bondOpts(config.globals.mode) });
  plan.addrs.push({ dev: ROUTER_BOND, local: site.bondRouter, prefixlen: site.bondPrefix });
  plan.bonds.push({
    name: ROUTER_BOND, mode: config.globals.mode, mtu: bondMtu, members, slaves: slaveOrder(bondGretaps),
    ingress: { block: ROUTER_BLOCK, gretaps: plan.planLinks.flatMap((l) => l.gretaps) },
  });
  if (shaping.bond) plan.qdiscs.push({ dev: ROUTER_BOND, shape: shaping.bond });
  if (!inp.steering?.fallback) plan.routes.push({ table: TABLE_BOND, dst: 'default', via: site.bondConc, dev: ROUTER_BOND });
  const express = config.globals.express_bytes > 0 && !inp.steering?.fallback;
  if (express && expressDev) plan.routes.push({ table: TABLE_EXPRESS, dst: 'default', dev: expressDev });

  for (const d of config.globals.bypass_dst) plan.rules.push({ priority: RULE_PRIO_BYPASS, to: d, table: 'main' });
  for (const s of config.globals.bypass_src) plan.rules.push({ priority: RULE_PRIO_BYPASS, from: s, table: 'main' });
  // Forwarded (LAN) traffic: specific routes of main first (LAN, modem subnets), then the bond.
  // The router's own traffic (iif lo) keeps netifd's main default.
  plan.rules.push({ priority: RULE_PRIO_SUPPRESS, notIifLo: true, table: 'main', suppressPrefixlength: 0 });
  // Express packets (marked by nft) to the express tunnel when one is chosen, else on to the bond.
  // No `not iif lo`: ip rule's `not` inverts the whole match (not (iif lo and fwmark)), which would
  // send everything else there; the mark is set in prerouting only, so the router's own traffic never has it.
  if (express) plan.rules.push({ priority: RULE_PRIO_EXPRESS, fwmark: { mark: EXPRESS_MARK, mask: FWMARK_MASK }, table: TABLE_EXPRESS });
  plan.rules.push({ priority: RULE_PRIO_LAN, notIifLo: true, table: TABLE_BOND });

  plan.nft = renderNft({
    clamp: [{ dev: ROUTER_BOND, mss: bondMtu - 40 }],
    masqueradeOut: config.globals.nat ? [ROUTER_BOND] : [],
    // Same source as through the bond: a connection may start by express and go on in the bond.
    snat: config.globals.nat ? [{ dev: `${routerExpress('')}*`, to: site.bondRouter }] : [],
    masqueradeSources: [], out: '', isolate: [],
    guard: routerGuard(site.subnet),
    expressBytes: express ? config.globals.express_bytes : 0,
  });
  return plan;
}

/**
 * A link's express tunnel: an L3 GRE inside its WireGuard tunnel, always there at both ends so
 * either may start sending on it. It carries the link's tunnel address too: the kernel's reverse
 * path filter, even loose (Debian's default), drops what arrives on an interface without one.
 */
export function addExpress(plan: Plan, name: string, local: string, remote: string, wgMtu: number): string {
  plan.links.push({ name, kind: 'gre', mtu: wgMtu - GRE_OVERHEAD, master: null, gre: { local, remote, key: EXPRESS_KEY } });
  plan.addrs.push({ dev: name, local, prefixlen: 32 });
  return name;
}

export function bondOpts(mode: Config['globals']['mode']) {
  return mode === 'balance-xor' ? { mode, xmit_hash_policy: 'layer3+4' as const } : { mode };
}

/**
 * gretap path k of a link uses GRE key k, so several gretaps can share one tunnel. A netem for
 * delay equalisation stays on each, even at 0 ms, while the link is weighted: removing it would
 * drop the packets it holds, and equalisation moves the delay whenever a link leaves or joins.
 */
export function addGretaps(plan: Plan, l: Pick<Link, 'id'>, st: LinkSteering, local: string, remote: string, master: string | null, name: (p: number) => string): string[] {
  const out: string[] = [];
  for (let p = 1; p <= st.paths; p++) {
    const n = name(p);
    plan.links.push({ name: n, kind: 'gretap', master, gretap: { local, remote, key: p } });
    if (st.extra_delay_ms > 0 || st.shape_kbit > 0) plan.qdiscs.push({ dev: n, delayMs: st.extra_delay_ms });
    out.push(n);
  }
  return out;
}

/**
 * The shaper of a link this end transmits on, from its steering (undefined: not shaped): its
 * shaped rate, times `headroom` when the bond has a shaper of its own.
 */
export function shapeFor(st: LinkSteering, ctx: Omit<ShapeContext, 'rttMs' | 'paths'>, headroom = 1): ShapeSpec | undefined {
  return st.shape_kbit > 0 ? linkShape(st.shape_kbit * headroom, { ...ctx, rttMs: st.rtt_ms, paths: st.paths }) : undefined;
}

/**
 * The bond's own shaper (see plan/shaping.ts), when every link in it has a shaped rate: the sum
 * of those (less where a link's probes would not fit beside its share: `bondRate`), and the
 * links' own shapers then a little above their shares.
 */
export function bondShaping(inBond: LinkSteering[], ctx: Omit<ShapeContext, 'rttMs' | 'paths'>): { bond?: ShapeSpec; headroom: number } {
  if (!inBond.length || inBond.some((st) => st.shape_kbit <= 0)) return { headroom: 1 };
  const rate = bondRate(inBond.map((st) => st.shape_kbit), inBond.map((st) => st.paths), ctx);
  return { bond: bondShape(rate, { ...ctx, rttMs: Math.max(...inBond.map((st) => st.rtt_ms)) }), headroom: SPLIT_HEADROOM };
}

export function emptyPlan(role: Plan['role']): Plan {
  return {
    role, links: [], addrs: [], routes: [], rules: [], wg: [], qdiscs: [],
    nft: null,
    forwarding: true, bonds: [], planLinks: [], warnings: [],
  };
}

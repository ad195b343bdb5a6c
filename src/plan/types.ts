// The plan: the kernel state wanbond wants, as plain data. Pure code builds it (router.ts,
// concentrator.ts); src/kernel/ diffs it against what the kernel reports and applies the rest.
import type { BondMode, Role } from '../config/types.ts';
import type { Firewall } from './nft.ts';
import type { ShapeSpec } from './shaping.ts';

/** What link health decides for one link at this end (src/health drives it). */
export interface LinkSteering {
  /** Member of this end's transmit set. */
  in_bond: boolean;
  /** gretaps for this link (capacity weighting under balance-rr); default 1. Both ends must agree. */
  paths: number;
  /** netem delay on this link's gretaps, to equalise the links' delays; default 0. */
  extra_delay_ms: number;
  /** This end's transmit on the link shaped to this, kbit/s (src/plan/shaping.ts); 0 = not shaped. */
  shape_kbit: number;
  /** Round trip of a flow through the bond, ms (sizes the shaper's AQM); 0 = unknown. */
  rtt_ms: number;
  /** This end sends its express traffic (small non-TCP packets) over this link; at most one per site. */
  express: boolean;
}

/** Steering for every link, keyed by steerKey(); missing links get DEFAULT_STEERING. */
export interface Steering {
  links: Record<string, Partial<LinkSteering>>;
  /** Router: every tunnel gone too long; send LAN traffic straight out (no bond default route). */
  fallback?: boolean;
}

export const DEFAULT_STEERING: LinkSteering = { in_bond: true, paths: 1, extra_delay_ms: 0, shape_kbit: 0, rtt_ms: 0, express: false };

/** Router: the link's name. Concentrator: `<site>/<link>`. */
export function steerKey(site: string | undefined, link: string): string {
  return site ? `${site}/${link}` : link;
}

/** A link carries its site's express traffic when steering chose it and it is in the bond; the site's first such link wins. */
export function takesExpress(st: Partial<LinkSteering> | undefined, inBond: boolean): boolean {
  return st?.express === true && inBond;
}

/** The site of a steerKey(): '' on the router. */
export function siteOfKey(key: string): string {
  const slash = key.indexOf('/');
  return slash < 0 ? '' : key.slice(0, slash);
}

export interface LinkSpec {
  name: string;
  kind: 'wireguard' | 'gretap' | 'gre' | 'bond';
  mtu?: number;
  /** Bond this link is enslaved to; null = must not be enslaved. */
  master: string | null;
  gretap?: { local: string; remote: string; key: number };
  /** L3 GRE (the express tunnel): same endpoints as the gretaps, its own key. */
  gre?: { local: string; remote: string; key: number };
  bond?: { mode: BondMode; xmit_hash_policy?: 'layer3+4' };
}

export interface AddrSpec {
  dev: string;
  local: string;
  prefixlen: number;
  peer?: string;
}

export interface RouteSpec {
  table: number | 'main';
  dst: string; // 'default' or a.b.c.d/n or a.b.c.d
  via?: string;
  dev: string;
}

export interface RuleSpec {
  priority: number;
  table: number | 'main';
  from?: string;
  to?: string;
  fwmark?: { mark: number; mask: number };
  /** `not iif lo`: forwarded traffic only. `not` inverts the whole rule, so only with no other selector. */
  notIifLo?: boolean;
  suppressPrefixlength?: number;
}

export interface WgPeerSpec {
  publicKey: string;
  endpoint?: string; // ip:port or [ip6]:port
  allowedIps: string[];
  keepalive?: number;
}
export interface WgSpec {
  dev: string;
  privateKeyFile: string;
  listenPort?: number;
  fwmark?: number;
  peers: WgPeerSpec[];
}

/**
 * What wanbond wants on one device's egress: a gretap's delay (netem), or a shaper with AQM
 * (tbf + fq_codel) on a router tunnel or a bond.
 */
export interface QdiscSpec {
  dev: string;
  delayMs?: number;
  shape?: ShapeSpec;
}

/**
 * The concentrator's shapers: its one WireGuard interface carries every link of every site, so
 * one HTB class per link (fq_codel under each), chosen by the link's router tunnel address
 * (nftables sets the packet's priority to the class). Other traffic passes unshaped.
 */
export interface ClassedShaper {
  dev: string;
  classes: { minor: number; dst: string; shape: ShapeSpec }[];
}

export interface PlanLink {
  key: string; // steerKey
  site?: string;
  name: string;
  id: number;
  tunnel: string; // WireGuard interface
  gretaps: string[];
  /** The link's express tunnel (L3 GRE). */
  express: string;
  in_bond: boolean;
  device?: string;
  gateway?: string;
  interface?: string;
}

export interface Plan {
  role: Role;
  links: LinkSpec[];
  addrs: AddrSpec[];
  routes: RouteSpec[];
  rules: RuleSpec[];
  wg: WgSpec[];
  qdiscs: QdiscSpec[];
  /** Concentrator: per-link shapers on its WireGuard interface. */
  classed?: ClassedShaper;
  /** wanbond's firewall rules (nft script + the same for iptables); null: none at all. */
  nft: Firewall | null;
  forwarding: boolean;
  /**
   * `slaves`: the bond's gretaps in the order they are to be enslaved (src/plan/slave-order.ts).
   * `ingress`: every gretap of the bond's links, enslaved or not, and the tc block whose filter
   * hands what they receive to the bond (src/kernel/ingress-diff.ts).
   */
  bonds: { name: string; mode: BondMode; mtu: number; site?: string; members: string[]; slaves: string[]; ingress?: { block: number; gretaps: string[] } }[];
  planLinks: PlanLink[];
  warnings: string[];
}

/** A router link as learnt at run time (netifd or config), input to the planner. */
export interface LinkRuntime {
  name: string;
  up: boolean;
  device?: string;
  gateway?: string;
  /** MTU of the modem's device, when known. */
  mtu?: number;
}

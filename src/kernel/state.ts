// What the kernel reports, parsed from `ip -j`, `wg show all dump`, `tc -j` and `nft` output.
// Pure: the parsers take the programs' text so tests can feed recorded fixtures.
import { OWN_LINK_NAME, ROUTE_PROTO } from '../plan/addressing.ts';
import { IPT_CHAINS } from '../plan/nft.ts';

export interface KLink {
  name: string;
  kind: string; // info_kind: wireguard, tun (wireguard-go), gretap, bond, veth, ...
  mtu: number;
  up: boolean;
  master?: string;
  gretap?: { local: string; remote: string; key?: number };
  gre?: { local: string; remote: string; key?: number };
  bond?: { mode: string; xmit_hash_policy?: string };
}
export interface KAddr { dev: string; local: string; prefixlen: number; peer?: string }
export interface KRule {
  priority: number;
  table: string;
  from?: string; // a.b.c.d/n, absent = all
  to?: string;
  fwmark?: number;
  fwmask?: number;
  notIifLo: boolean;
  iif?: string;
  suppressPrefixlength?: number;
}
export interface KRoute { table: string; dst: string; via?: string; dev?: string; proto: string; type?: string }
export interface KWgPeer { publicKey: string; endpoint?: string; allowedIps: string[]; keepalive?: number; handshake: number; rx: number; tx: number }
export interface KWg { dev: string; publicKey: string; listenPort: number; fwmark: number; peers: KWgPeer[] }
export interface KQdisc {
  dev: string;
  kind: string;
  handle: string;
  /** Parent class (`1:1`); absent on the root qdisc. */
  parent?: string;
  root: boolean;
  /** netem */
  delayMs?: number;
  /** tbf */
  rateKbit?: number;
  /** tbf's peak bucket (bytes, its overhead included), when it has one; iproute2 6.1's JSON has no peak rate. */
  minburst?: number;
  overhead?: number;
  /** fq_codel */
  targetMs?: number;
  /** htb: the class unclassified packets take (0: none, they pass unshaped). */
  htbDefault?: number;
  /** ingress: the shared tc block its filters come from, if any. */
  block?: number;
}

/** One HTB class, as `tc class show` prints it (text: tc has no JSON for classes before 6.x). */
export interface KClass {
  dev: string;
  classid: string;
  rateKbit: number;
  overhead: number;
}

export interface KernelState {
  links: KLink[];
  addrs: KAddr[];
  rules: KRule[];
  routes: KRoute[];
  wg: KWg[];
  qdiscs: KQdisc[];
  /** wanbond's bonds' slaves in list order (sysfs), where read; absent: the order is not known. */
  bondSlaves?: Record<string, string[]>;
  /** HTB classes on wanbond's devices that have an HTB root (the concentrator's shapers). */
  classes?: KClass[];
  /**
   * wanbond's tc blocks in use (see ingress-diff.ts): the bond their filter hands packets to, ''
   * when the block holds no such filter. Absent: no block read.
   */
  blockFilters?: Record<number, string>;
  /** Tag in the comment of `table inet wanbond`; null when the table does not exist. */
  nftTag: string | null;
  nftExists: boolean;
  /** Which firewall wanbond's rules go to: nftables, or iptables where nftables does not work. */
  firewall: 'nft' | 'iptables';
  /** iptables: the binary (iptables-legacy or iptables) and what of wanbond's it holds. */
  ipt: KIpt | null;
  forwarding: boolean;
  /** WireGuard in the kernel (else wireguard-go is used). */
  wgKernel: boolean;
}

type J = Record<string, unknown>;
const arr = (text: string): J[] => {
  const t = text.trim();
  if (!t) return [];
  const v = JSON.parse(t) as unknown;
  return Array.isArray(v) ? (v as J[]) : [];
};
const str = (v: unknown): string | undefined => (typeof v === 'string' ? v : undefined);

export function keyToNumber(k: string | undefined): number | undefined {
  if (k === undefined) return undefined;
  if (/^\d+$/.test(k)) return Number(k);
  const p = k.split('.').map(Number);
  if (p.length !== 4 || p.some((x) => !Number.isInteger(x))) return undefined;
  return ((p[0]! << 24) | (p[1]! << 16) | (p[2]! << 8) | p[3]!) >>> 0;
}

/** `ip -j -d link show` */
export function parseLinks(text: string): KLink[] {
  return arr(text).map((l) => {
    const info = (l.linkinfo ?? {}) as J;
    const data = (info.info_data ?? {}) as J;
    const kind = str(info.info_kind) ?? '';
    const flags = Array.isArray(l.flags) ? (l.flags as string[]) : [];
    const out: KLink = { name: String(l.ifname), kind, mtu: Number(l.mtu), up: flags.includes('UP') };
    const master = str(l.master);
    if (master) out.master = master;
    if (kind === 'gretap' || kind === 'gre') {
      const key = keyToNumber(str(data.okey) ?? str(data.ikey));
      out[kind] = { local: String(data.local), remote: String(data.remote), ...(key !== undefined ? { key } : {}) };
    }
    if (kind === 'bond') {
      const x = str(data.xmit_hash_policy);
      out.bond = { mode: String(data.mode), ...(x ? { xmit_hash_policy: x } : {}) };
    }
    return out;
  });
}

/** `ip -j addr show` (IPv4 only) */
export function parseAddrs(text: string): KAddr[] {
  const out: KAddr[] = [];
  for (const l of arr(text)) {
    for (const a of (l.addr_info ?? []) as J[]) {
      if (a.family !== 'inet') continue;
      const peer = str(a.address);
      out.push({ dev: String(l.ifname), local: String(a.local), prefixlen: Number(a.prefixlen), ...(peer ? { peer } : {}) });
    }
  }
  return out;
}

const withLen = (addr: unknown, len: unknown): string | undefined => {
  if (typeof addr !== 'string' || addr === 'all') return undefined;
  return `${addr}/${typeof len === 'number' ? len : 32}`;
};

/** `ip -j -4 rule show` */
export function parseRules(text: string): KRule[] {
  return arr(text).map((r) => {
    const out: KRule = { priority: Number(r.priority), table: String(r.table ?? ''), notIifLo: 'not' in r && r.iif === 'lo' };
    const from = withLen(r.src, r.srclen);
    const to = withLen(r.dst, r.dstlen);
    if (from) out.from = from;
    if (to) out.to = to;
    if (typeof r.fwmark === 'string') out.fwmark = Number(r.fwmark);
    if (typeof r.fwmask === 'string') out.fwmask = Number(r.fwmask);
    if (typeof r.iif === 'string') out.iif = r.iif;
    if (typeof r.suppress_prefixlen === 'number') out.suppressPrefixlength = r.suppress_prefixlen;
    return out;
  });
}

/** `ip -j -4 route show table all` */
export function parseRoutes(text: string): KRoute[] {
  return arr(text).map((r) => {
    const dst = String(r.dst);
    const out: KRoute = {
      table: String(r.table ?? 'main'),
      dst: dst === 'default' || dst.includes('/') ? dst : `${dst}/32`,
      proto: String(r.protocol ?? ''),
    };
    if (typeof r.gateway === 'string') out.via = r.gateway;
    if (typeof r.dev === 'string') out.dev = r.dev;
    if (typeof r.type === 'string') out.type = r.type;
    return out;
  });
}

/** `wg show all dump`. The private key column is dropped here and never kept. */
export function parseWgDump(text: string): KWg[] {
  const byDev = new Map<string, KWg>();
  for (const line of text.split('\n')) {
    const f = line.split('\t');
    if (f.length === 5) {
      byDev.set(f[0]!, { dev: f[0]!, publicKey: f[2]!, listenPort: Number(f[3]), fwmark: f[4] === 'off' ? 0 : Number(f[4]), peers: [] });
    } else if (f.length === 9) {
      const w = byDev.get(f[0]!);
      if (!w) continue;
      const ka = Number(f[8]);
      w.peers.push({
        publicKey: f[1]!,
        ...(f[3] && f[3] !== '(none)' ? { endpoint: f[3] } : {}),
        allowedIps: f[4] && f[4] !== '(none)' ? f[4].split(',') : [],
        ...(Number.isFinite(ka) && ka > 0 ? { keepalive: ka } : {}),
        handshake: Number(f[5]) || 0,
        rx: Number(f[6]) || 0,
        tx: Number(f[7]) || 0,
      });
    }
  }
  return [...byDev.values()];
}

/** `tc -j qdisc show`: every qdisc, root and children (tc prints rates in bytes/s, times in s or us). */
export function parseQdiscs(text: string): KQdisc[] {
  return arr(text).map((q) => {
    const out: KQdisc = { dev: String(q.dev), kind: String(q.kind), handle: String(q.handle ?? '0:'), root: q.root === true };
    if (typeof q.parent === 'string') out.parent = q.parent;
    const o = (q.options ?? {}) as J;
    const delay = o.delay as J | undefined;
    if (q.kind === 'netem' && delay && typeof delay.delay === 'number') out.delayMs = Math.round(delay.delay * 1000);
    if (q.kind === 'tbf' && typeof o.rate === 'number') out.rateKbit = Math.round((o.rate * 8) / 1000);
    if (q.kind === 'tbf' && typeof o.overhead === 'number') out.overhead = o.overhead;
    if (q.kind === 'tbf' && typeof o.minburst === 'number') out.minburst = o.minburst;
    if (q.kind === 'fq_codel' && typeof o.target === 'number') out.targetMs = Math.round(o.target / 1000);
    if (q.kind === 'htb' && typeof o.default === 'string') out.htbDefault = parseInt(o.default, 16);
    if (q.kind === 'ingress' && typeof q.ingress_block === 'number') out.block = q.ingress_block;
    return out;
  });
}

/**
 * `tc -j filter show block N`: the device wanbond's filter hands packets to (u32 matching all at
 * preference 1: `skbedit ptype host`, then `mirred ingress redirect`), '' when there is none.
 */
export function parseBlockFilter(text: string): string {
  for (const f of arr(text)) {
    const o = (f.options ?? {}) as J;
    const acts = Array.isArray(o.actions) ? (o.actions as J[]) : [];
    const [edit, mirred] = acts;
    if (f.pref !== 1 || f.kind !== 'u32' || acts.length !== 2) continue;
    if (edit?.kind !== 'skbedit' || edit.ptype !== 'host') continue;
    if (mirred?.kind === 'mirred' && mirred.mirred_action === 'redirect' && mirred.direction === 'ingress' && typeof mirred.to_dev === 'string') return mirred.to_dev;
  }
  return '';
}

const RATE_UNIT: Record<string, number> = { '': 0.001, K: 1, M: 1000, G: 1_000_000, T: 1_000_000_000 };

/** `tc class show dev DEV`: its HTB classes (`class htb 1:10 root leaf 10: prio 0 rate 950Kbit overhead 82 ceil ...`). */
export function parseClasses(dev: string, text: string): KClass[] {
  const out: KClass[] = [];
  for (const line of text.split('\n')) {
    const m = /^class htb (\S+) .*?\brate (\d+(?:\.\d+)?)([KMGT]?)bit\b/.exec(line.trim());
    if (!m) continue;
    out.push({ dev, classid: m[1]!, rateKbit: Math.round(Number(m[2]) * RATE_UNIT[m[3]!]!), overhead: Number(/\boverhead (\d+)/.exec(line)?.[1] ?? 0) });
  }
  return out;
}

/** `nft list table inet wanbond` (text): the tag in its comment. */
export function parseNftTag(text: string): string | null {
  return /comment "wanbond ([0-9a-f]+)"/.exec(text)?.[1] ?? null;
}

export interface KIpt {
  bin: string;
  /** Rules in wanbond's chains, as `iptables-save` prints them after `-A CHAIN `. */
  rules: Record<keyof typeof IPT_CHAINS, string[]>;
  /** wanbond's chains that exist. */
  chains: (keyof typeof IPT_CHAINS)[];
  /** Jumps from built-in chains into wanbond's chains: the line after `-A `. */
  jumps: Record<keyof typeof IPT_CHAINS, string[]>;
}

/** `iptables-save` output -> wanbond's part of it. */
export function parseIptSave(text: string, bin: string): KIpt {
  const keys = Object.keys(IPT_CHAINS) as (keyof typeof IPT_CHAINS)[];
  const byChain = new Map(keys.map((k) => [IPT_CHAINS[k].chain as string, k] as const));
  const perChain = () => Object.fromEntries(keys.map((k) => [k, []])) as unknown as KIpt['rules'];
  const out: KIpt = { bin, rules: perChain(), chains: [], jumps: perChain() };
  let table = '';
  for (const line of text.split('\n')) {
    if (line.startsWith('*')) table = line.slice(1).trim();
    const decl = /^:(\S+) /.exec(line);
    if (decl) {
      const k = byChain.get(decl[1]!);
      if (k && IPT_CHAINS[k].table === table) out.chains.push(k);
      continue;
    }
    const m = /^-A (\S+) (.*)$/.exec(line);
    if (!m) continue;
    const own = byChain.get(m[1]!);
    if (own && IPT_CHAINS[own].table === table) {
      out.rules[own].push(m[2]!);
      continue;
    }
    const jump = / -j (WANBOND_[A-Z]+)$/.exec(line);
    const target = jump ? byChain.get(jump[1]!) : undefined;
    if (target && IPT_CHAINS[target].table === table) out.jumps[target].push(`${m[1]} ${m[2]}`);
  }
  return out;
}

export const isOwnLink = (name: string) => OWN_LINK_NAME.test(name);
export const isOwnRoute = (r: KRoute) => r.proto === String(ROUTE_PROTO);

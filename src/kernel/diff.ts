// Plan + observed kernel state -> the commands that turn one into the other, and only those.
// Pure. Everything wanbond owns (names, rule priorities, route protocol, nft table) that the plan
// does not want is removed; nothing else is ever touched.
import { isIPv4 } from 'node:net';
import { NFT_TABLE, ROUTE_PROTO, RULE_PRIO_MAX, RULE_PRIO_MIN, hex, ipToInt, intToIp } from '../plan/addressing.ts';
import { enslaveOrder } from '../plan/slave-order.ts';
import type { AddrSpec, LinkSpec, Plan, RouteSpec, RuleSpec, WgPeerSpec } from '../plan/types.ts';
import { isOwnLink, isOwnRoute } from './state.ts';
import type { KAddr, KLink, KRoute, KRule, KernelState, KWgPeer } from './state.ts';
import type { Step } from './step.ts';
import { classedSteps } from './class-diff.ts';
import { ingressSteps } from './ingress-diff.ts';
import { qdiscSteps } from './qdisc-diff.ts';
import { iptablesSteps } from './iptables.ts';

/** Public key of each private key file the plan names (derived by the shell with `wg pubkey`). */
export type PublicKeys = Record<string, string>;

/** a.b.c.d[/n] -> network/n (host bits cleared), 'default' unchanged. */
export function normPrefix(p: string): string {
  if (p === 'default' || p === '0.0.0.0/0') return 'default';
  const [a, l] = p.split('/');
  if (!a || !isIPv4(a)) return p;
  const len = l === undefined ? 32 : Number(l);
  const mask = len === 0 ? 0 : (0xffffffff << (32 - len)) >>> 0;
  return `${intToIp((ipToInt(a) & mask) >>> 0)}/${len}`;
}
const tableName = (t: number | 'main') => String(t);

export const ruleKey = (r: { priority: number; table: string; from?: string; to?: string; fwmark?: number; fwmask?: number; notIifLo: boolean; suppressPrefixlength?: number }) =>
  [r.priority, r.table, r.from ? normPrefix(r.from) : '', r.to ? normPrefix(r.to) : '', r.fwmark !== undefined ? `${hex(r.fwmark)}/${hex(r.fwmask ?? 0xffffffff)}` : '', r.notIifLo ? 'notlo' : '', r.suppressPrefixlength ?? ''].join('|');
const specRuleKey = (r: RuleSpec) =>
  ruleKey({ priority: r.priority, table: tableName(r.table), ...(r.from ? { from: r.from } : {}), ...(r.to ? { to: r.to } : {}), ...(r.fwmark ? { fwmark: r.fwmark.mark, fwmask: r.fwmark.mask } : {}), notIifLo: !!r.notIifLo, ...(r.suppressPrefixlength !== undefined ? { suppressPrefixlength: r.suppressPrefixlength } : {}) });

export const routeKey = (r: { table: string; dst: string; via?: string; dev?: string }) => [r.table, normPrefix(r.dst), r.via ?? '', r.dev ?? ''].join('|');
const specRouteKey = (r: RouteSpec) => routeKey({ table: tableName(r.table), dst: r.dst, ...(r.via ? { via: r.via } : {}), dev: r.dev });
const addrKey = (a: KAddr | AddrSpec) => `${a.dev}|${a.local}/${a.prefixlen}|${a.peer ?? ''}`;

function ruleArgv(verb: 'add' | 'del', r: KRule | RuleSpec): string[] {
  const a = ['ip', '-4', 'rule', verb, 'priority', String(r.priority)];
  if (r.notIifLo) a.push('not');
  if (r.from) a.push('from', r.from);
  if (r.to) a.push('to', r.to);
  if ('fwmark' in r && r.fwmark !== undefined) {
    if (typeof r.fwmark === 'number') a.push('fwmark', `${hex(r.fwmark)}/${hex((r as KRule).fwmask ?? 0xffffffff)}`);
    else a.push('fwmark', `${hex(r.fwmark.mark)}/${hex(r.fwmark.mask)}`);
  }
  if (r.notIifLo) a.push('iif', 'lo');
  else if ('iif' in r && r.iif) a.push('iif', r.iif);
  a.push('lookup', String(r.table));
  if (r.suppressPrefixlength !== undefined) a.push('suppress_prefixlength', String(r.suppressPrefixlength));
  return a;
}

function routeArgv(verb: 'add' | 'del', r: KRoute | RouteSpec): string[] {
  const a = ['ip', '-4', 'route', verb, r.dst === 'default' ? 'default' : r.dst];
  if (r.via) a.push('via', r.via);
  if (r.dev) a.push('dev', r.dev);
  a.push('table', String(r.table), 'proto', String(ROUTE_PROTO));
  return a;
}

function linkMatches(k: KLink, d: LinkSpec): boolean {
  if (d.kind === 'wireguard') return k.kind === 'wireguard' || k.kind === 'tun';
  if (d.kind !== k.kind) return false;
  if (d.gretap) return !!k.gretap && k.gretap.local === d.gretap.local && k.gretap.remote === d.gretap.remote && k.gretap.key === d.gretap.key;
  if (d.gre) return !!k.gre && k.gre.local === d.gre.local && k.gre.remote === d.gre.remote && k.gre.key === d.gre.key;
  if (d.bond) return !!k.bond && k.bond.mode === d.bond.mode && (d.bond.xmit_hash_policy === undefined || k.bond.xmit_hash_policy === d.bond.xmit_hash_policy);
  return true;
}

function createLink(d: LinkSpec, wgKernel: boolean): Step[] {
  const mtu = d.mtu ? ['mtu', String(d.mtu)] : [];
  if (d.kind === 'wireguard') {
    if (wgKernel) return [{ argv: ['ip', 'link', 'add', d.name, ...mtu, 'type', 'wireguard'], why: `tunnel ${d.name}` }];
    const steps: Step[] = [{ argv: ['wireguard-go', d.name], why: `tunnel ${d.name} (wireguard-go: no WireGuard in this kernel)`, waitFor: `/var/run/wireguard/${d.name}.sock`, ready: ['wg', 'show', d.name, 'listen-port'] }];
    // After wireguard-go answers: it sets its default MTU while starting up.
    if (d.mtu) steps.push({ argv: ['ip', 'link', 'set', d.name, 'mtu', String(d.mtu)], why: `tunnel ${d.name} MTU` });
    return steps;
  }
  if (d.kind === 'gretap') {
    const g = d.gretap!;
    return [{ argv: ['ip', 'link', 'add', d.name, ...mtu, 'type', 'gretap', 'local', g.local, 'remote', g.remote, 'key', String(g.key)], why: `gretap ${d.name}` }];
  }
  if (d.kind === 'gre') {
    const g = d.gre!;
    return [
      { argv: ['ip', 'link', 'add', d.name, ...mtu, 'type', 'gre', 'local', g.local, 'remote', g.remote, 'key', String(g.key)], why: `express tunnel ${d.name}` },
      // The kernel gives a GRE device an IPv6 link-local address and solicits routers on it: noise
      // on a tunnel that carries only wanbond's IPv4 express packets.
      { argv: ['ip', 'link', 'set', d.name, 'addrgenmode', 'none'], why: `${d.name}: no IPv6 link-local` },
    ];
  }
  const b = d.bond!;
  const x = b.xmit_hash_policy ? ['xmit_hash_policy', b.xmit_hash_policy] : [];
  return [{ argv: ['ip', 'link', 'add', d.name, ...mtu, 'type', 'bond', 'mode', b.mode, ...x], why: `bond ${d.name}` }];
}

const peerEqual = (k: KWgPeer, d: WgPeerSpec) =>
  [...k.allowedIps].sort().join(',') === [...d.allowedIps].sort().join(',') &&
  (d.endpoint === undefined || k.endpoint === d.endpoint) &&
  (k.keepalive ?? 0) === (d.keepalive ?? 0);

export function diff(plan: Plan, st: KernelState, pub: PublicKeys): Step[] {
  const pre: Step[] = [];
  const links: Step[] = [];
  const post: Step[] = [];

  // --- rules and routes wanbond owns but does not want (or has twice) ---
  const wantRules = new Map(plan.rules.map((r) => [specRuleKey(r), r] as const));
  const haveRules = new Set<string>();
  for (const r of st.rules) {
    if (r.priority < RULE_PRIO_MIN || r.priority > RULE_PRIO_MAX) continue;
    const k = ruleKey(r);
    if (!wantRules.has(k) || haveRules.has(k)) pre.push({ argv: ruleArgv('del', r), why: 'stale rule' });
    else haveRules.add(k);
  }
  const wantRoutes = new Map(plan.routes.map((r) => [specRouteKey(r), r] as const));
  const haveRoutes = new Set<string>();
  for (const r of st.routes) {
    if (!isOwnRoute(r)) continue;
    const k = routeKey(r);
    if (!wantRoutes.has(k) || haveRoutes.has(k)) pre.push({ argv: routeArgv('del', r), why: 'stale route' });
    else haveRoutes.add(k);
  }
  if (st.firewall === 'nft' && st.nftExists && !plan.nft) pre.push({ argv: ['nft', 'delete', 'table', 'inet', NFT_TABLE], why: 'nftables table no longer wanted' });

  // --- links ---
  const want = new Map(plan.links.map((l) => [l.name, l] as const));
  const have = new Map(st.links.map((l) => [l.name, l] as const));
  const fresh = new Set<string>();
  for (const k of st.links) {
    if (!isOwnLink(k.name)) continue;
    const d = want.get(k.name);
    if (!d || !linkMatches(k, d)) {
      pre.push({ argv: ['ip', 'link', 'del', k.name], why: d ? `${k.name} has other settings: recreate` : `${k.name} no longer wanted` });
      have.delete(k.name);
    }
  }
  if (plan.forwarding && !st.forwarding) pre.push({ argv: ['sysctl', '-w', 'net.ipv4.ip_forward=1'], why: 'forwarding' });
  // WireGuard first, then bonds, then gretaps (which need both).
  const order = { wireguard: 0, bond: 1, gretap: 2, gre: 2 } as const;
  // Gretaps to enslave, per bond: enslaved after the loop, in the bond's planned order.
  const entering = new Map<string, Set<string>>();
  const enter = (bond: string, name: string) => entering.set(bond, (entering.get(bond) ?? new Set()).add(name));
  for (const d of [...plan.links].sort((a, b) => order[a.kind] - order[b.kind])) {
    const k = have.get(d.name);
    if (!k) {
      links.push(...createLink(d, st.wgKernel));
      fresh.add(d.name);
      if (d.kind === 'gretap' && d.master) enter(d.master, d.name);
      else links.push({ argv: ['ip', 'link', 'set', d.name, 'up'], why: `${d.name} up` });
      continue;
    }
    if (d.mtu && k.mtu !== d.mtu) links.push({ argv: ['ip', 'link', 'set', d.name, 'mtu', String(d.mtu)], why: `${d.name} MTU ${d.mtu}` });
    if (d.kind === 'gretap' && (k.master ?? null) !== d.master) {
      if (d.master) {
        if (k.master) links.push({ argv: ['ip', 'link', 'set', d.name, 'nomaster'], why: `${d.name} out of ${k.master}` });
        // The kernel enslaves only interfaces that are down.
        if (k.up || k.master) links.push({ argv: ['ip', 'link', 'set', d.name, 'down'], why: `${d.name} down to enslave it` });
        enter(d.master, d.name);
        continue;
      }
      // The kernel closes a released slave; up again, it still hands what it receives to the
      // bond (ingress-diff.ts), as the other end may still send on it.
      links.push({ argv: ['ip', 'link', 'set', d.name, 'nomaster'], why: `${d.name} out of the bond` });
      links.push({ argv: ['ip', 'link', 'set', d.name, 'up'], why: `${d.name} up outside the bond` });
      continue;
    }
    if (!k.up) links.push({ argv: ['ip', 'link', 'set', d.name, 'up'], why: `${d.name} up` });
  }
  // In the bond's planned order (balance-rr serves slaves in list order: src/plan/slave-order.ts).
  const linkOf = (g: string) => plan.planLinks.find((l) => l.gretaps.includes(g))?.key ?? g;
  for (const [bond, names] of entering) {
    const stay = (st.bondSlaves?.[bond] ?? []).filter((n) => have.has(n) && want.get(n)?.master === bond && !names.has(n));
    const { release, enslave } = enslaveOrder(plan.bonds.find((b) => b.name === bond)?.slaves ?? [], linkOf, stay, names);
    for (const n of release) links.push({ argv: ['ip', 'link', 'set', n, 'nomaster'], why: `${n} out of ${bond}, to enslave it in order` });
    for (const n of enslave) {
      links.push({ argv: ['ip', 'link', 'set', n, 'master', bond], why: `${n} into ${bond}` });
      links.push({ argv: ['ip', 'link', 'set', n, 'up'], why: `${n} up` });
    }
  }

  // --- WireGuard settings (keys by file, never in argv) ---
  for (const w of plan.wg) {
    const k = fresh.has(w.dev) ? undefined : st.wg.find((x) => x.dev === w.dev);
    const args: string[] = [];
    const wantPub = pub[w.privateKeyFile];
    if (!k || !wantPub || k.publicKey !== wantPub) args.push('private-key', w.privateKeyFile);
    if (w.listenPort !== undefined && k?.listenPort !== w.listenPort) args.push('listen-port', String(w.listenPort));
    if ((w.fwmark ?? 0) !== (k?.fwmark ?? 0)) args.push('fwmark', w.fwmark ? hex(w.fwmark) : 'off');
    const havePeers = new Map((k?.peers ?? []).map((p) => [p.publicKey, p] as const));
    for (const p of k?.peers ?? []) {
      if (!w.peers.some((d) => d.publicKey === p.publicKey)) args.push('peer', p.publicKey, 'remove');
    }
    for (const d of w.peers) {
      const hp = havePeers.get(d.publicKey);
      if (hp && peerEqual(hp, d)) continue;
      args.push('peer', d.publicKey, 'allowed-ips', d.allowedIps.join(','));
      if (d.endpoint) args.push('endpoint', d.endpoint);
      args.push('persistent-keepalive', d.keepalive ? String(d.keepalive) : 'off');
    }
    if (args.length) links.push({ argv: ['wg', 'set', w.dev, ...args], why: `WireGuard ${w.dev}` });
  }

  // --- addresses on wanbond's links ---
  const wantAddrs = new Set(plan.addrs.map(addrKey));
  const haveAddrs = new Set<string>();
  for (const a of st.addrs) {
    if (!isOwnLink(a.dev) || fresh.has(a.dev) || !want.has(a.dev) || !have.has(a.dev)) continue;
    const k = addrKey(a);
    if (!wantAddrs.has(k)) post.push({ argv: ['ip', 'addr', 'del', `${a.local}/${a.prefixlen}`, ...(a.peer ? ['peer', a.peer] : []), 'dev', a.dev], why: 'stale address' });
    else haveAddrs.add(k);
  }
  for (const a of plan.addrs) {
    if (haveAddrs.has(addrKey(a))) continue;
    const local = a.peer ? a.local : `${a.local}/${a.prefixlen}`;
    post.push({ argv: ['ip', 'addr', 'add', local, ...(a.peer ? ['peer', a.peer] : []), 'dev', a.dev], why: `address on ${a.dev}` });
  }

  // --- qdiscs: delay equalisation on gretaps, shapers on tunnels and bonds ---
  const wantQ = new Map(plan.qdiscs.map((q) => [q.dev, q] as const));
  for (const l of plan.links) {
    if (l.kind !== 'gretap' && l.kind !== 'wireguard' && l.kind !== 'bond') continue;
    const have = fresh.has(l.name) ? [] : st.qdiscs.filter((x) => x.dev === l.name);
    if (plan.classed?.dev === l.name) post.push(...classedSteps(plan.classed, have, fresh.has(l.name) ? [] : st.classes ?? []));
    else post.push(...qdiscSteps(l.name, wantQ.get(l.name), have));
  }
  post.push(...ingressSteps(plan, st, fresh));

  // --- routes, rules, nftables ---
  for (const [k, r] of wantRoutes) if (!haveRoutes.has(k)) post.push({ argv: routeArgv('add', r), why: 'route' });
  for (const [k, r] of wantRules) if (!haveRules.has(k)) post.push({ argv: ruleArgv('add', r), why: 'rule' });
  if (st.firewall === 'nft') {
    if (plan.nft && st.nftTag !== plan.nft.tag) post.push({ argv: ['nft', '-f', '-'], input: plan.nft.script, why: 'nftables table inet wanbond' });
  } else if (st.ipt) {
    const steps = iptablesSteps(plan.nft, st.ipt);
    // Removing rules goes first (before the interfaces they name go); adding them last.
    (plan.nft ? post : pre).push(...steps);
  }
  return [...pre, ...links, ...post];
}

/** Everything wanbond made, removed: `wanbond down`. */
export function teardown(st: KernelState): Step[] {
  const empty: Plan = { role: 'router', links: [], addrs: [], routes: [], rules: [], wg: [], qdiscs: [], nft: null, forwarding: false, bonds: [], planLinks: [], warnings: [] };
  // Bonds first so their slaves are released before the gretaps go.
  const steps = diff(empty, st, {});
  const rank = (s: Step) => (s.argv[2] === 'del' && s.argv[1] === 'link' ? (/^wb(ond|[0-9a-f]{4})$/.test(s.argv[3]!) ? 0 : 1) : -1);
  return steps.sort((a, b) => rank(a) - rank(b));
}


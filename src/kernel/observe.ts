// Ask the kernel what is there: ip -j, wg show all dump, tc -j, nft. Read-only.
import { existsSync, readFileSync } from 'node:fs';
import { execa } from 'execa';
import { slavesOf } from './bond-sysfs.ts';
import { NFT_TABLE, OWN_LINK_NAME, isOwnBlock } from '../plan/addressing.ts';
import { parseClasses, parseIptSave, parseAddrs, parseBlockFilter, parseLinks, parseNftTag, parseQdiscs, parseRoutes, parseRules, parseWgDump, type KClass, type KQdisc } from './state.ts';
import type { KernelState } from './state.ts';

async function out(argv: string[], ok0 = true): Promise<{ ok: boolean; stdout: string; stderr: string }> {
  const r = await execa(argv[0]!, argv.slice(1), { reject: false, timeout: 20_000, stripFinalNewline: false });
  if (ok0 && r.exitCode !== 0 && r.failed) return { ok: false, stdout: String(r.stdout ?? ''), stderr: String(r.stderr ?? '') };
  return { ok: r.exitCode === 0, stdout: String(r.stdout ?? ''), stderr: String(r.stderr ?? '') };
}

async function must(argv: string[]): Promise<string> {
  const r = await out(argv);
  if (!r.ok) throw new Error(`${argv.join(' ')} failed: ${r.stderr.trim() || 'no output'}`);
  return r.stdout;
}

let wgKernelCache: boolean | undefined;
/**
 * WireGuard in the kernel (built in, loaded, or loadable); otherwise wanbond runs wireguard-go.
 * WANBOND_WG_USERSPACE=1 chooses wireguard-go even so (a kernel whose module misbehaves).
 */
export async function detectWgKernel(): Promise<boolean> {
  if (wgKernelCache !== undefined) return wgKernelCache;
  if (process.env.WANBOND_WG_USERSPACE === '1') return (wgKernelCache = false);
  if (!existsSync('/sys/module/wireguard')) await out(['modprobe', 'wireguard'], false).catch(() => undefined);
  wgKernelCache = existsSync('/sys/module/wireguard');
  return wgKernelCache;
}

let firewallCache: { kind: 'nft' | 'iptables'; bin: string } | undefined;
/** nftables if it works here (a check-only batch), else iptables (legacy where installed). */
export async function detectFirewall(): Promise<{ kind: 'nft' | 'iptables'; bin: string }> {
  if (firewallCache) return firewallCache;
  const probe = await execa('nft', ['-c', '-f', '-'], { input: `add table inet ${NFT_TABLE}\n`, reject: false, timeout: 10_000 }).catch(() => ({ exitCode: 1 }));
  if (probe.exitCode === 0) firewallCache = { kind: 'nft', bin: 'nft' };
  else {
    const legacy = await execa('iptables-legacy', ['--version'], { reject: false }).catch(() => ({ exitCode: 1 }));
    firewallCache = { kind: 'iptables', bin: legacy.exitCode === 0 ? 'iptables-legacy' : 'iptables' };
  }
  return firewallCache;
}

/**
 * Rules, routes, addresses and links in one `ip -batch` (one process instead of four: each
 * process the agent starts costs a small router, and the one-CPU lab, a stall). `link show` goes
 * last: ip switches its address family for it. Where ip has no -batch or -json per command
 * (or prints something else), the four separate commands.
 */
async function ipState(): Promise<[string, string, string, string]> {
  const r = await execa('ip', ['-4', '-j', '-d', '-batch', '-'], { input: 'rule show\nroute show table all\naddr show\nlink show\n', reject: false, timeout: 20_000 }).catch(() => undefined);
  const lines = r && r.exitCode === 0 ? String(r.stdout).split('\n').filter((l) => l.trim()) : [];
  if (lines.length === 4 && lines.every((l) => l.startsWith('['))) {
    const [rules, routes, addrs, links] = lines as [string, string, string, string];
    return [links, addrs, rules, routes];
  }
  return Promise.all([
    must(['ip', '-j', '-d', 'link', 'show']),
    must(['ip', '-j', '-4', 'addr', 'show']), // IPv4 only, as in the batch: every address wanbond sets is IPv4
    must(['ip', '-j', '-4', 'rule', 'show']),
    must(['ip', '-j', '-4', 'route', 'show', 'table', 'all']),
  ]);
}

/** The classes of wanbond's devices with an HTB root: the concentrator's wb0 when it shapes, else none (no process). */
async function htbClasses(qdiscs: KQdisc[]): Promise<KClass[]> {
  const devs = qdiscs.filter((q) => q.root && q.kind === 'htb' && OWN_LINK_NAME.test(q.dev)).map((q) => q.dev);
  const lists = await Promise.all(devs.map((dev) => out(['tc', 'class', 'show', 'dev', dev]).then((r) => (r.ok ? parseClasses(dev, r.stdout) : [])).catch(() => [])));
  return lists.flat();
}

/** wanbond's tc blocks on its gretaps' ingress, each read once (one process per bond). */
async function blockFilters(qdiscs: KQdisc[]): Promise<Record<number, string>> {
  const blocks = [...new Set(qdiscs.filter((q) => q.kind === 'ingress' && q.block !== undefined && isOwnBlock(q.block) && OWN_LINK_NAME.test(q.dev)).map((q) => q.block!))];
  const read = await Promise.all(blocks.map((b) => out(['tc', '-j', 'filter', 'show', 'block', String(b)]).then((r) => (r.ok ? parseBlockFilter(r.stdout) : '')).catch(() => '')));
  return Object.fromEntries(blocks.map((b, i) => [b, read[i]!]));
}

export async function observe(): Promise<KernelState> {
  const fw = await detectFirewall();
  const [[links, addrs, rules, routes], qdiscs, wg, nft, wgKernel] = await Promise.all([
    ipState(),
    out(['tc', '-j', 'qdisc', 'show']).then((r) => (r.ok ? r.stdout : '[]')).catch(() => '[]'),
    out(['wg', 'show', 'all', 'dump']).then((r) => (r.ok ? r.stdout : '')).catch(() => ''),
    fw.kind === 'nft'
      ? out(['nft', 'list', 'table', 'inet', NFT_TABLE]).catch(() => ({ ok: false, stdout: '', stderr: '' }))
      : must([`${fw.bin}-save`]).then((t) => ({ ok: false, stdout: t, stderr: '' })),
    detectWgKernel(),
  ]);
  const parsedQdiscs = parseQdiscs(qdiscs);
  const [classes, filters] = await Promise.all([htbClasses(parsedQdiscs), blockFilters(parsedQdiscs)]);
  let forwarding = false;
  try {
    forwarding = readFileSync('/proc/sys/net/ipv4/ip_forward', 'utf8').trim() === '1';
  } catch {
    /* no procfs: treat as off */
  }
  const parsedLinks = parseLinks(links);
  const bondSlaves: Record<string, string[]> = {};
  for (const l of parsedLinks) {
    if (l.kind !== 'bond' || !OWN_LINK_NAME.test(l.name)) continue;
    const s = slavesOf(l.name);
    if (s) bondSlaves[l.name] = s;
  }
  return {
    links: parsedLinks,
    bondSlaves,
    addrs: parseAddrs(addrs),
    rules: parseRules(rules),
    // `-d` (the batch) names the type of plain routes; the separate command leaves it out.
    routes: parseRoutes(routes).map(({ type, ...r }) => (type && type !== 'unicast' ? { ...r, type } : r)),
    qdiscs: parsedQdiscs,
    classes,
    blockFilters: filters,
    wg: parseWgDump(wg),
    nftExists: nft.ok,
    nftTag: nft.ok ? parseNftTag(nft.stdout) : null,
    firewall: fw.kind,
    ipt: fw.kind === 'iptables' ? parseIptSave(nft.stdout, fw.bin) : null,
    forwarding,
    wgKernel,
  };
}

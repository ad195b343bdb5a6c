// A namespace's network state as normalised JSON, for before/after comparisons: links,
// addresses, rules and routes of every table (IPv4 and IPv6), nftables and iptables rulesets.
// Counters, lifetimes and other fields that move on their own are dropped; lists are sorted.
import type { ExecOptions, ExecResult } from './netns.ts';

export type NsExec = (ns: string, argv: string[], opts?: ExecOptions) => Promise<ExecResult>;

const VOLATILE = new Set([
  'stats', 'stats64', 'valid_life_time', 'preferred_life_time', 'expires', 'used', 'age',
  'handle', 'packets', 'bytes', 'metainfo', 'gso_max_size', 'gso_max_segs', 'gro_max_size',
  'tso_max_size', 'tso_max_segs', 'gso_ipv4_max_size', 'gro_ipv4_max_size',
]);

function strip(v: unknown): unknown {
  if (Array.isArray(v)) return v.map(strip);
  if (v && typeof v === 'object') {
    const out: Record<string, unknown> = {};
    for (const k of Object.keys(v).sort()) {
      if (!VOLATILE.has(k)) out[k] = strip((v as Record<string, unknown>)[k]);
    }
    return out;
  }
  return v;
}

function sortedByJson(list: unknown[]): unknown[] {
  return list.map(strip).sort((a, b) => {
    const x = JSON.stringify(a), y = JSON.stringify(b);
    return x < y ? -1 : x > y ? 1 : 0;
  });
}

function parseJsonList(s: string): unknown[] {
  const t = s.trim();
  if (!t) return [];
  const v: unknown = JSON.parse(t);
  return Array.isArray(v) ? v : [v];
}

export interface NsState {
  links: unknown[];
  addresses: unknown[];
  rules: { v4: unknown[]; v6: unknown[] };
  routes: { v4: unknown[]; v6: unknown[] };
  nft: unknown[];
  /** `iptables-legacy-save` minus counters and comments about the date (the lab kernel's NAT). */
  iptables: string[];
}

export async function dumpState(exec: NsExec, ns: string): Promise<NsState> {
  const ip = async (args: string[]): Promise<unknown[]> =>
    parseJsonList((await exec(ns, ['ip', '-j', ...args])).stdout);
  const links = await ip(['-d', 'link', 'show']);
  const addresses = (await ip(['addr', 'show'])).map((a) => {
    const { ifname, addr_info } = a as { ifname?: string; addr_info?: unknown[] };
    return { ifname, addr_info: sortedByJson(addr_info ?? []) };
  });
  const nftOut = await exec(ns, ['nft', '-j', 'list', 'ruleset'], { reject: false });
  let nft: unknown[] = [];
  if (nftOut.exitCode === 0 && nftOut.stdout.trim()) {
    const parsed = JSON.parse(nftOut.stdout) as { nftables?: unknown[] };
    nft = sortedByJson(parsed.nftables ?? []);
  }
  const ipt = await exec(ns, ['iptables-legacy-save'], { reject: false });
  const iptables = ipt.exitCode === 0
    ? ipt.stdout.split('\n').filter((l) => l && !l.startsWith('#')).map((l) => l.replace(/\[\d+:\d+\]/g, '[0:0]'))
    : [];
  return {
    links: sortedByJson(links),
    addresses: sortedByJson(addresses),
    rules: { v4: sortedByJson(await ip(['-4', 'rule', 'show'])), v6: sortedByJson(await ip(['-6', 'rule', 'show'])) },
    routes: {
      v4: sortedByJson(await ip(['-4', 'route', 'show', 'table', 'all'])),
      v6: sortedByJson(await ip(['-6', 'route', 'show', 'table', 'all'])),
    },
    nft,
    iptables,
  };
}

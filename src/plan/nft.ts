// wanbond's firewall rules (MSS clamp, NAT, site isolation, input guard) as the `inet wanbond`
// nftables table in one script, and the same rules for iptables (kernels where nftables does not work, such as
// the lab's user-mode Linux). The reconciler replaces them whole when the tag (a hash of the
// rules, kept in the table's comment / each iptables rule's comment) differs.
import { createHash } from 'node:crypto';
import { HEALTH_PORT } from '../health/probe-socket.ts';
import { CONC_WG, EXPRESS_BULK_CTMARK, EXPRESS_MARK, FWMARK_MASK, NFT_TABLE, ROUTER_BOND, hex } from './addressing.ts';

/**
 * What wanbond itself listens on or decapsulates must come in through its own tunnels: the
 * health port (UDP, bound to tunnel addresses) and GRE to its gretaps (whose local addresses
 * are tunnel addresses). Only packets to wanbond's tunnel subnets are looked at, so every other
 * service (SSH, the admin's own GRE or UDP 5790, WireGuard's port) is left alone; no policy drop.
 * Interface names ending in `*` match by prefix (iptables: `+`).
 */
export interface InputGuard {
  /** wanbond's tunnel subnets (the only destinations guarded). */
  nets: string[];
  /** wanbond's WireGuard interfaces: GRE and health probes may arrive here. */
  tunnels: string[];
  /** wanbond's gretaps and bonds: health probes may arrive here, GRE never. */
  inner: string[];
  /** The health channel's UDP port. */
  port: number;
}

/** Router: tunnels wbl<id>, gretaps wbg<id>p<n>, the bond wbond; the site's tunnel /24. */
export function routerGuard(subnet: string): InputGuard {
  return { nets: [subnet], tunnels: ['wbl*'], inner: ['wbg*', ROUTER_BOND], port: HEALTH_PORT };
}

/** Concentrator: one WireGuard interface wb0; per site its bond wb<tag> and gretaps wb<tag>g…. */
export function concentratorGuard(sites: { subnet: string; bond: string }[]): InputGuard | null {
  if (!sites.length) return null;
  return { nets: sites.map((s) => s.subnet), tunnels: [CONC_WG], inner: sites.map((s) => `${s.bond}*`), port: HEALTH_PORT };
}

export interface NftSpec {
  /** Interfaces whose forwarded TCP SYNs get their MSS clamped, and the MSS. */
  clamp: { dev: string; mss: number }[];
  /** Router: masquerade everything leaving through these interfaces. */
  masqueradeOut: string[];
  /** Concentrator: masquerade these sources when they leave through `out` (or any non-wanbond interface). */
  masqueradeSources: string[];
  out: string;
  /** Concentrator: a site's bond may forward only to the outside, never into another wanbond interface. */
  isolate: string[];
  /** Drop what wanbond listens on or decapsulates unless it comes through its tunnels; null: none. */
  guard: InputGuard | null;
  /** Mark non-TCP packets up to this many bytes (IP length) that do not come from wanbond's interfaces for the express path; 0: none. */
  expressBytes?: number;
  /** Router: source NAT on leaving through these (the express tunnels) to the bond address, as masquerade on the bond would. */
  snat?: { dev: string; to: string }[];
  /** Concentrator: a site's express tunnels forward only to the outside. */
  isolateExpress?: string[];
  /** Concentrator: the shaper class (HTB on `dev`) of each link, by its router tunnel address. */
  classify?: { dev: string; map: { dst: string; classid: string }[] };
}

/** iptables chains wanbond owns, the table they live in and the built-in chain that jumps to them. */
export const IPT_CHAINS = {
  mss: { table: 'mangle', chain: 'WANBOND_MSS', from: 'FORWARD' },
  isolate: { table: 'filter', chain: 'WANBOND_ISO', from: 'FORWARD' },
  nat: { table: 'nat', chain: 'WANBOND_NAT', from: 'POSTROUTING' },
  input: { table: 'filter', chain: 'WANBOND_IN', from: 'INPUT' },
  express: { table: 'mangle', chain: 'WANBOND_EXP', from: 'PREROUTING' },
  classify: { table: 'mangle', chain: 'WANBOND_CLS', from: 'POSTROUTING' },
} as const;
export type IptRules = Record<keyof typeof IPT_CHAINS, string[]>;

/** nft's `*` suffix wildcard as iptables' `+`. */
const iptIfname = (n: string) => n.replace(/\*$/, '+');

function renderIpt(spec: NftSpec, tag: string): IptRules {
  const c = `-m comment --comment "wanbond ${tag}"`;
  const mss = spec.clamp.flatMap((x) => ['-o', '-i'].map((d) =>
    `${d} ${iptIfname(x.dev)} -p tcp -m tcp --tcp-flags SYN,RST SYN -m tcpmss --mss ${x.mss + 1}:65535 ${c} -j TCPMSS --set-mss ${x.mss}`));
  // nft says `oifname != A oifname "wb*"`; iptables takes one -o per rule, so pairs.
  const isolate = spec.isolate.flatMap((a) => [...spec.isolate, CONC_WG].filter((b) => b !== a).map((b) => `-i ${a} -o ${b} ${c} -j DROP`));
  for (const x of spec.isolateExpress ?? []) isolate.push(`-i ${iptIfname(x)} -o wb+ ${c} -j DROP`);
  const nat = spec.masqueradeOut.map((dev) => `-o ${dev} ${c} -j MASQUERADE`);
  for (const s of spec.snat ?? []) nat.push(`-o ${iptIfname(s.dev)} ${c} -j SNAT --to-source ${s.to}`);
  for (const src of spec.masqueradeSources) nat.push(`-s ${src} ${spec.out ? `-o ${spec.out}` : '! -o wb+'} ${c} -j MASQUERADE`);
  // iptables takes one -i per rule: RETURN for each allowed interface, then DROP the rest.
  const input: string[] = [];
  const g = spec.guard;
  if (g) {
    for (const t of g.tunnels) input.push(`-i ${iptIfname(t)} ${c} -j RETURN`);
    for (const net of g.nets) input.push(`-d ${net} -p gre ${c} -j DROP`);
    for (const t of g.inner) input.push(`-i ${iptIfname(t)} ${c} -j RETURN`);
    for (const net of g.nets) input.push(`-d ${net} -p udp -m udp --dport ${g.port} ${c} -j DROP`);
  }
  const b = spec.expressBytes;
  const bulk = hex(EXPRESS_BULK_CTMARK);
  const express = b
    ? [
      `-m length --length ${b + 1}:65535 ${c} -j CONNMARK --set-xmark ${bulk}/${bulk}`,
      `! -i wb+ ! -p tcp -m length --length 0:${b} -m connmark --mark 0x0/${bulk} ${c} -j MARK --set-xmark ${hex(EXPRESS_MARK)}/${hex(FWMARK_MASK)}`,
    ]
    : [];
  const k = spec.classify;
  const classify = k ? k.map.map((m) => `-o ${k.dev} -d ${m.dst}/32 ${c} -j CLASSIFY --set-class ${m.classid}`) : [];
  return { mss, isolate, nat, input, express, classify };
}

export interface Firewall {
  script: string;
  tag: string;
  ipt: IptRules;
}

export function renderNft(spec: NftSpec): Firewall {
  const lines: string[] = [];
  lines.push('  chain mss {', '    type filter hook forward priority mangle; policy accept;');
  for (const c of spec.clamp) {
    for (const dir of ['oifname', 'iifname']) {
      lines.push(`    ${dir} "${c.dev}" tcp flags syn tcp option maxseg size > ${c.mss} tcp option maxseg size set ${c.mss}`);
    }
  }
  lines.push('  }');
  if (spec.isolate.length || spec.isolateExpress?.length) {
    lines.push('  chain isolate {', '    type filter hook forward priority filter - 5; policy accept;');
    for (const dev of spec.isolate) lines.push(`    iifname "${dev}" oifname != "${dev}" oifname "wb*" drop`);
    for (const x of spec.isolateExpress ?? []) lines.push(`    iifname "${x}" oifname "wb*" drop`);
    lines.push('  }');
  }
  if (spec.expressBytes) {
    // Express carries whole connections or none of them: one that has carried a bigger packet in
    // either direction (a download, a VPN, QUIC) is latched to the bond, and TCP never goes, so no
    // flow's data and acknowledgements take paths of different delay (its senders would take
    // the bond's reordering for loss). The latch is a set of conntrack ids, not a ct mark bit:
    // the mark is mwan3's and the user's, and some kernels build conntrack without marks.
    // Only wanbond's bits of the packet mark change (mwan3 keeps its own).
    lines.push('  set bulk {', '    typeof ct id', '    flags dynamic, timeout', '    timeout 10m', '    size 65536', '  }');
    lines.push('  chain express {', '    type filter hook prerouting priority mangle; policy accept;');
    lines.push(`    ip length > ${spec.expressBytes} update @bulk { ct id }`);
    lines.push(`    iifname != "wb*" meta l4proto != tcp ip length <= ${spec.expressBytes} ct id != @bulk meta mark set meta mark and ${hex(~FWMARK_MASK)} or ${hex(EXPRESS_MARK)}`);
    lines.push('  }');
  }
  if (spec.classify) {
    // After encapsulation: the gretap's and express tunnel's outer packets, and the probes, to one
    // link's router address all take that link's class.
    const k = spec.classify;
    lines.push('  chain classify {', '    type filter hook postrouting priority mangle; policy accept;');
    lines.push(`    oifname "${k.dev}" meta priority set ip daddr map { ${k.map.map((m) => `${m.dst} : ${m.classid}`).join(', ')} }`);
    lines.push('  }');
  }
  if (spec.masqueradeOut.length || spec.masqueradeSources.length || spec.snat?.length) {
    lines.push('  chain nat {', '    type nat hook postrouting priority srcnat; policy accept;');
    for (const dev of spec.masqueradeOut) lines.push(`    oifname "${dev}" masquerade`);
    for (const s of spec.snat ?? []) lines.push(`    oifname "${s.dev}" snat ip to ${s.to}`);
    if (spec.masqueradeSources.length) {
      const out = spec.out ? `oifname "${spec.out}"` : 'oifname != "wb*"';
      lines.push(`    ip saddr { ${spec.masqueradeSources.join(', ')} } ${out} masquerade`);
    }
    lines.push('  }');
  }
  if (spec.guard) {
    const g = spec.guard;
    const not = (names: string[]) => names.map((n) => `iifname != "${n}"`).join(' ');
    const nets = `ip daddr { ${g.nets.join(', ')} }`;
    lines.push('  chain input {', '    type filter hook input priority filter - 5; policy accept;');
    lines.push(`    ${nets} ip protocol gre ${not(g.tunnels)} counter drop`);
    lines.push(`    ${nets} udp dport ${g.port} ${not([...g.tunnels, ...g.inner])} counter drop`);
    lines.push('  }');
  }
  const body = lines.join('\n');
  const tag = createHash('sha256').update(body).digest('hex').slice(0, 16);
  const script = [
    `table inet ${NFT_TABLE}`,
    `delete table inet ${NFT_TABLE}`,
    `table inet ${NFT_TABLE} {`,
    `  comment "wanbond ${tag}"`,
    body,
    '}',
    '',
  ].join('\n');
  return { script, tag, ipt: renderIpt(spec, tag) };
}

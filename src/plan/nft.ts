// wanbond's firewall rules (MSS clamp, NAT, site isolation) as the `inet wanbond` nftables table
// in one script, and the same rules for iptables (kernels where nftables does not work, such as
// the lab's user-mode Linux). The reconciler replaces them whole when the tag (a hash of the
// rules, kept in the table's comment / each iptables rule's comment) differs.
import { createHash } from 'node:crypto';
import { CONC_WG, NFT_TABLE } from './addressing.ts';

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
}

/** iptables chains wanbond owns, the table they live in and the built-in chain that jumps to them. */
export const IPT_CHAINS = {
  mss: { table: 'mangle', chain: 'WANBOND_MSS', from: 'FORWARD' },
  isolate: { table: 'filter', chain: 'WANBOND_ISO', from: 'FORWARD' },
  nat: { table: 'nat', chain: 'WANBOND_NAT', from: 'POSTROUTING' },
} as const;
export type IptRules = Record<keyof typeof IPT_CHAINS, string[]>;

function renderIpt(spec: NftSpec, tag: string): IptRules {
  const c = `-m comment --comment "wanbond ${tag}"`;
  const mss = spec.clamp.flatMap((x) => ['-o', '-i'].map((d) =>
    `${d} ${x.dev} -p tcp -m tcp --tcp-flags SYN,RST SYN -m tcpmss --mss ${x.mss + 1}:65535 ${c} -j TCPMSS --set-mss ${x.mss}`));
  // nft says `oifname != A oifname "wb*"`; iptables takes one -o per rule, so pairs.
  const isolate = spec.isolate.flatMap((a) => [...spec.isolate, CONC_WG].filter((b) => b !== a).map((b) => `-i ${a} -o ${b} ${c} -j DROP`));
  const nat = spec.masqueradeOut.map((dev) => `-o ${dev} ${c} -j MASQUERADE`);
  for (const src of spec.masqueradeSources) nat.push(`-s ${src} ${spec.out ? `-o ${spec.out}` : '! -o wb+'} ${c} -j MASQUERADE`);
  return { mss, isolate, nat };
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
  if (spec.isolate.length) {
    lines.push('  chain isolate {', '    type filter hook forward priority filter - 5; policy accept;');
    for (const dev of spec.isolate) lines.push(`    iifname "${dev}" oifname != "${dev}" oifname "wb*" drop`);
    lines.push('  }');
  }
  if (spec.masqueradeOut.length || spec.masqueradeSources.length) {
    lines.push('  chain nat {', '    type nat hook postrouting priority srcnat; policy accept;');
    for (const dev of spec.masqueradeOut) lines.push(`    oifname "${dev}" masquerade`);
    if (spec.masqueradeSources.length) {
      const out = spec.out ? `oifname "${spec.out}"` : 'oifname != "wb*"';
      lines.push(`    ip saddr { ${spec.masqueradeSources.join(', ')} } ${out} masquerade`);
    }
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

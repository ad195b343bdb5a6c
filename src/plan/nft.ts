// The `inet wanbond` nftables table as one script. The reconciler replaces the whole table
// atomically when the tag (a hash of the body, kept in the table's comment) differs.
import { createHash } from 'node:crypto';
import { NFT_TABLE } from './addressing.ts';

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

export function renderNft(spec: NftSpec): { script: string; tag: string } {
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
  return { script, tag };
}

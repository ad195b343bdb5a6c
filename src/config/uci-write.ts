// Prints a UciDocument exactly as `uci export` prints a package (openwrt/uci file.c).

import type { UciDocument } from './uci-document.ts';

/** uci_escape: every `'` becomes `'\''` (close, escaped quote, reopen). */
export function uciEscape(s: string): string {
  return s.replaceAll("'", "'\\''");
}

export function writeUci(doc: UciDocument): string {
  const out: string[] = [`package ${uciEscape(doc.package)}\n`];
  for (const s of doc.sections) {
    out.push(`\nconfig ${uciEscape(s.type)}${s.anonymous ? '' : ` '${uciEscape(s.name)}'`}\n`);
    for (const o of s.options) {
      if (o.kind === 'option') out.push(`\toption ${uciEscape(o.name)} '${uciEscape(o.value)}'\n`);
      else for (const v of o.values) out.push(`\tlist ${uciEscape(o.name)} '${uciEscape(v)}'\n`);
    }
  }
  out.push('\n');
  return out.join('');
}

// Concentrator half of pairing: a router's pairing token becomes a `config site` section with
// its peers, in a free tunnel subnet; the reply token carries what the router needs.
import { addSection, removeSection, setList, setOption } from '../config/edit.ts';
import type { Config } from '../config/types.ts';
import type { UciDocument } from '../config/uci-document.ts';
import { parseSubnet } from '../plan/addressing.ts';
import { sectionOfType } from './configfile.ts';
import type { PairRequest } from './token.ts';

/** Sites are numbered 10.213.1.0/24, 10.213.2.0/24, ...: the first /24 no site uses. */
export function freeSubnet(sites: Config['sites']): string | null {
  const used = new Set(sites.map((s) => parseSubnet(s.subnet).base));
  for (let n = 1; n < 255; n++) {
    const s = `10.213.${n}.0/24`;
    if (!used.has(parseSubnet(s).base)) return s;
  }
  return null;
}

export type SiteAdd = { ok: true; subnet: string } | { ok: false; error: string };

/** Edits `doc` (the concentrator's config) in place; nothing is written here. */
export function addSiteToDoc(doc: UciDocument, config: Config | undefined, req: PairRequest): SiteAdd {
  const sites = config?.sites ?? [];
  if (config && config.globals.role !== 'concentrator') return { ok: false, error: 'this config is a router\'s (role router): run site add on the concentrator' };
  if (sites.some((s) => s.name === req.site) || doc.sections.some((s) => s.name === req.site)) {
    return { ok: false, error: `a site or section named '${req.site}' exists already (remove it first: wanbond site remove ${req.site})` };
  }
  const keys = new Map(sites.flatMap((s) => s.peers.map((p) => [p.public_key, s.name] as const)));
  for (const l of req.links) {
    const other = keys.get(l.public_key);
    if (other) return { ok: false, error: `link ${l.name}'s key is already a peer of site ${other}` };
  }
  const subnet = freeSubnet(sites);
  if (!subnet) return { ok: false, error: 'no free tunnel subnet left in 10.213.0.0/16' };
  if (!config) {
    const g = sectionOfType(doc, 'globals', addSection);
    setOption(doc, g, 'enabled', '1');
    setOption(doc, g, 'role', 'concentrator');
  }
  addSection(doc, 'site', req.site);
  setOption(doc, req.site, 'subnet', subnet);
  setList(doc, req.site, 'peer', req.links.map((l) => `${l.id}:${l.name}:${l.public_key}`));
  return { ok: true, subnet };
}

export function removeSiteFromDoc(doc: UciDocument, name: string): boolean {
  const s = doc.sections.find((x) => x.name === name && x.type === 'site');
  return s ? removeSection(doc, name) : false;
}

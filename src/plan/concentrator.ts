// Concentrator plan: one WireGuard interface on one port holding every site's link peers; per
// site a bond over its gretaps, NAT (or a routed prefix) to the outside, sites kept apart.
import type { Config } from '../config/types.ts';
import {
  CONC_WG, computeMtu, linkAddresses, siteAddresses, siteBond, siteGretap, siteTag,
} from './addressing.ts';
import { concentratorGuard, renderNft } from './nft.ts';
import { addGretaps, bondOpts, emptyPlan, steeringFor } from './router.ts';
import { steerKey } from './types.ts';
import type { Plan, Steering } from './types.ts';

export interface ConcentratorInputs {
  config: Config;
  /** MTU of the interface facing the internet, when known. */
  publicMtu?: number;
  steering?: Steering;
}

export function planConcentrator(inp: ConcentratorInputs): Plan {
  const { config } = inp;
  const g = config.globals;
  const plan = emptyPlan('concentrator');
  if (!g.enabled) return plan;
  const mtu = computeMtu(inp.publicMtu ?? 1500, false);
  const bondMtu = g.mtu === 'auto' ? mtu.bond : g.mtu;

  plan.links.push({ name: CONC_WG, kind: 'wireguard', mtu: mtu.wg, master: null });
  const wg = { dev: CONC_WG, privateKeyFile: g.private_key_file, listenPort: g.listen_port, peers: [] as Plan['wg'][number]['peers'] };
  plan.wg.push(wg);

  const clamp: { dev: string; mss: number }[] = [];
  const masq: string[] = [];
  const isolate: string[] = [];
  const guarded: { subnet: string; bond: string }[] = [];
  const seenTags = new Map<string, string>();
  for (const site of config.sites) {
    if (!site.enabled) continue;
    const tag = siteTag(site.subnet);
    const other = seenTags.get(tag);
    if (other) {
      plan.warnings.push(`site ${site.name}: subnet ${site.subnet} collides with site ${other}; left out`);
      continue;
    }
    seenTags.set(tag, site.name);
    const sa = siteAddresses(site.subnet);
    const bond = siteBond(site.subnet);
    const members: string[] = [];
    for (const peer of site.peers) {
      const a = linkAddresses(site.subnet, peer.id);
      const key = steerKey(site.name, peer.name);
      const st = steeringFor(inp.steering, key);
      plan.addrs.push({ dev: CONC_WG, local: a.conc, prefixlen: 32, peer: a.router });
      wg.peers.push({ publicKey: peer.public_key, allowedIps: [`${a.router}/32`] });
      const gretaps = addGretaps(plan, peer, st, a.conc, a.router, st.in_bond ? bond : null, (p) => siteGretap(site.subnet, peer.id, p), { bondMtu });
      if (st.in_bond) members.push(peer.name);
      plan.planLinks.push({ key, site: site.name, name: peer.name, id: peer.id, tunnel: CONC_WG, gretaps, in_bond: st.in_bond });
    }
    plan.links.push({ name: bond, kind: 'bond', mtu: bondMtu, master: null, bond: bondOpts(site.mode) });
    plan.addrs.push({ dev: bond, local: sa.bondConc, prefixlen: sa.bondPrefix });
    plan.bonds.push({ name: bond, mode: site.mode, mtu: bondMtu, site: site.name, members });
    for (const p of [...site.lan, ...(site.routed_prefix ? [site.routed_prefix] : [])]) {
      plan.routes.push({ table: 'main', dst: p, via: sa.bondRouter, dev: bond });
    }
    clamp.push({ dev: bond, mss: bondMtu - 40 });
    masq.push(sa.subnet, ...site.lan);
    isolate.push(bond);
    guarded.push({ subnet: sa.subnet, bond });
  }
  plan.nft = renderNft({ clamp, masqueradeOut: [], masqueradeSources: masq, out: g.public_interface, isolate, guard: concentratorGuard(guarded) });
  return plan;
}

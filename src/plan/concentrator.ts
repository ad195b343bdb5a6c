// Concentrator plan: one WireGuard interface on one port holding every site's link peers; per
// site a bond over its gretaps, NAT (or a routed prefix) to the outside, sites kept apart.
import type { Config } from '../config/types.ts';
import {
  CONC_WG, EXPRESS_MARK, FWMARK_MASK, RULE_PRIO_EXPRESS, TABLE_EXPRESS, computeMtu, linkAddresses, siteAddresses, siteBlock, siteBond, siteExpress, siteGretap, siteTag, htbClassId, htbMinor,
} from './addressing.ts';
import { concentratorGuard, renderNft } from './nft.ts';
import { slaveOrder } from './slave-order.ts';
import { addExpress, addGretaps, bondOpts, bondShaping, emptyPlan, shapeFor, steeringFor } from './router.ts';
import { steerKey, takesExpress } from './types.ts';
import type { ClassedShaper, Plan, Steering } from './types.ts';

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
  const isolateExpress: string[] = [];
  const express = g.express_bytes > 0;
  const seenTags = new Map<string, string>();
  const classes: ClassedShaper['classes'] = [];
  for (const [siteIndex, site] of config.sites.entries()) {
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
    const bondGretaps: string[][] = [];
    let expressDev: string | undefined;
    const steered = site.peers.map((peer) => {
      const key = steerKey(site.name, peer.name);
      return { peer, key, st: steeringFor(inp.steering, key) };
    });
    const shaping = bondShaping(steered.filter((x) => x.st.in_bond).map((x) => x.st), { bondMtu, probeIntervalS: config.health.interval });
    for (const { peer, key, st } of steered) {
      const a = linkAddresses(site.subnet, peer.id);
      plan.addrs.push({ dev: CONC_WG, local: a.conc, prefixlen: 32, peer: a.router });
      wg.peers.push({ publicKey: peer.public_key, allowedIps: [`${a.router}/32`] });
      const gretaps = addGretaps(plan, peer, st, a.conc, a.router, st.in_bond ? bond : null, (p) => siteGretap(site.subnet, peer.id, p));
      const shape = shapeFor(st, { bondMtu }, shaping.headroom);
      const minor = htbMinor(siteIndex, peer.id);
      if (shape && minor <= 0xffff) classes.push({ minor, dst: a.router, shape }); // tc's minors end at 0xffff: site 4095 on
      const xdev = addExpress(plan, siteExpress(site.subnet, peer.id), a.conc, a.router, mtu.wg);
      if (takesExpress(st, st.in_bond) && !expressDev) expressDev = xdev;
      if (st.in_bond) {
        members.push(peer.name);
        bondGretaps.push(gretaps);
      }
      plan.planLinks.push({ key, site: site.name, name: peer.name, id: peer.id, tunnel: CONC_WG, gretaps, express: xdev, in_bond: st.in_bond });
    }
    plan.links.push({ name: bond, kind: 'bond', mtu: bondMtu, master: null, bond: bondOpts(site.mode) });
    plan.addrs.push({ dev: bond, local: sa.bondConc, prefixlen: sa.bondPrefix });
    plan.bonds.push({
      name: bond, mode: site.mode, mtu: bondMtu, site: site.name, members, slaves: slaveOrder(bondGretaps),
      ingress: { block: siteBlock(site.subnet), gretaps: plan.planLinks.filter((l) => l.site === site.name).flatMap((l) => l.gretaps) },
    });
    if (shaping.bond) plan.qdiscs.push({ dev: bond, shape: shaping.bond });
    const behind = [...site.lan, ...(site.routed_prefix ? [site.routed_prefix] : [])];
    for (const p of behind) plan.routes.push({ table: 'main', dst: p, via: sa.bondRouter, dev: bond });
    // Express packets to the site (marked by nft as they come in) by its express link, when one is chosen.
    if (express && expressDev) for (const p of [`${sa.bondRouter}/32`, ...behind]) plan.routes.push({ table: TABLE_EXPRESS, dst: p, dev: expressDev });
    isolateExpress.push(`${siteExpress(site.subnet, '')}*`);
    clamp.push({ dev: bond, mss: bondMtu - 40 });
    masq.push(sa.subnet, ...site.lan);
    isolate.push(bond);
    guarded.push({ subnet: sa.subnet, bond });
  }
  if (classes.length) plan.classed = { dev: CONC_WG, classes };
  if (express && guarded.length) plan.rules.push({ priority: RULE_PRIO_EXPRESS, fwmark: { mark: EXPRESS_MARK, mask: FWMARK_MASK }, table: TABLE_EXPRESS });
  plan.nft = renderNft({
    clamp, masqueradeOut: [], masqueradeSources: masq, out: g.public_interface, isolate, guard: concentratorGuard(guarded),
    isolateExpress, expressBytes: express && guarded.length ? g.express_bytes : 0,
    ...(classes.length ? { classify: { dev: CONC_WG, map: classes.map((c) => ({ dst: c.dst, classid: htbClassId(c.minor) })) } } : {}),
  });
  return plan;
}

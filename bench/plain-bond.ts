// Guest side: the baseline, the seed article's data plane built by hand with no controller: one
// gretap per link straight over the modems (no WireGuard), one balance-rr bond at each end, the
// LAN routed into it. Names (rr*) never collide with wanbond's own (wb*).
import type { Lab } from '../lab/topology.ts';

const BOND = 'rrbond';
const BOND_ROUTER = '10.99.0.1';
const BOND_CONC = '10.99.0.2';
const LAN_TABLE = 200;
const gretap = (n: number) => `rrg${n}`;

async function batch(lab: Lab, ns: string, lines: string[]): Promise<void> {
  await lab.exec(ns, ['ip', '-batch', '-'], { input: lines.join('\n') + '\n' });
}

/** Build both ends (run `wanbond down` first: this takes the LAN's routing). */
export async function buildPlainBond(lab: Lab): Promise<void> {
  const router = [`link add ${BOND} type bond mode balance-rr`, `link set ${BOND} mtu 1400`];
  const conc = [...router];
  for (const l of lab.links) {
    const n = l.index + 1;
    await lab.exec('router', ['ip', 'route', 'replace', 'default', 'via', l.gateway, 'dev', l.device, 'table', String(100 + n)]);
    await lab.exec('router', ['ip', 'rule', 'add', 'from', l.address, 'lookup', String(100 + n), 'priority', String(1000 + n)]);
    // First packets out from the router, so every NAT on the way maps GRE before the far end sends.
    await lab.ping('router', lab.conc.address, 1, { bind: l.address });
    router.push(`link add ${gretap(n)} type gretap local ${l.address} remote ${lab.conc.address}`, `link set ${gretap(n)} master ${BOND}`, `link set ${gretap(n)} up`);
    conc.push(`link add ${gretap(n)} type gretap local ${lab.conc.address} remote ${l.publicAddress}`, `link set ${gretap(n)} master ${BOND}`, `link set ${gretap(n)} up`);
  }
  router.push(`addr add ${BOND_ROUTER}/30 dev ${BOND}`, `link set ${BOND} up`, `route replace default via ${BOND_CONC} dev ${BOND} table ${LAN_TABLE}`,
    `rule add iif eth0 lookup ${LAN_TABLE} priority 900`);
  conc.push(`addr add ${BOND_CONC}/30 dev ${BOND}`, `link set ${BOND} up`, `route replace ${lab.sites[0]!.lanSubnet} via ${BOND_ROUTER} dev ${BOND}`);
  await batch(lab, 'router', router);
  await batch(lab, lab.conc.ns, conc);
  for (const ns of ['router', lab.conc.ns]) {
    await lab.exec(ns, ['iptables-legacy', '-w', '-t', 'mangle', '-A', 'FORWARD', '-p', 'tcp', '--tcp-flags', 'SYN,RST', 'SYN', '-j', 'TCPMSS', '--clamp-mss-to-pmtu']);
  }
  await lab.exec(lab.conc.ns, ['iptables-legacy', '-w', '-t', 'nat', '-A', 'POSTROUTING', '-s', lab.sites[0]!.lanSubnet, '-o', lab.conc.dev, '-j', 'MASQUERADE']);
}

// The input guard: what wanbond listens on (the health port, on tunnel addresses) or
// decapsulates (GRE to its gretaps) is dropped unless it comes in through wanbond's own tunnels;
// nothing else on the box is touched (no policy drop, WireGuard's port, SSH, the admin's own GRE).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { GLOBALS_DEFAULTS, HEALTH_DEFAULTS, MQTT_DEFAULTS } from '../../src/config/defaults.ts';
import type { Config, Link, Site } from '../../src/config/types.ts';
import { HEALTH_PORT } from '../../src/health/probe-socket.ts';
import { iptablesSteps } from '../../src/kernel/iptables.ts';
import { parseIptSave } from '../../src/kernel/state.ts';
import { CONC_WG, ROUTER_BOND, routerGretap, routerWg, siteBond, siteGretap } from '../../src/plan/addressing.ts';
import { planConcentrator, planRouter } from '../../src/plan/index.ts';
import { IPT_CHAINS, type Firewall } from '../../src/plan/nft.ts';

const KEY = (c: string) => c.repeat(42) + 'A=';
const link = (id: number): Link => ({ name: `lte${id}`, id, enabled: true, weight: 1, role: 'active', private_key_file: `/k/lte${id}.key`, device: `wan${id}`, gateway: `192.168.${id}.1` });
const router = planRouter({
  config: {
    globals: { ...GLOBALS_DEFAULTS, enabled: true, express_bytes: 256 },
    concentrator: { host: '203.0.113.10', port: 51820, public_key: KEY('C'), site: 'home', subnet: '10.213.7.0/24' },
    links: [link(1), link(2)], health: HEALTH_DEFAULTS, sites: [], mqtt: MQTT_DEFAULTS,
  },
  runtime: Object.fromEntries([1, 2].map((i) => [`lte${i}`, { name: `lte${i}`, up: true, device: `wan${i}`, gateway: `192.168.${i}.1`, mtu: 1500 }])),
  endpoint: '203.0.113.10',
});
const site = (name: string, subnet: string): Site => ({ name, enabled: true, subnet, mode: 'balance-rr', peers: [{ id: 1, name: 'a', public_key: KEY(name[0]!.toUpperCase()) }], lan: [] });
const concConfig = (sites: Site[]): Config => ({
  globals: { ...GLOBALS_DEFAULTS, enabled: true, express_bytes: 256, role: 'concentrator' }, links: [], health: HEALTH_DEFAULTS, sites, mqtt: MQTT_DEFAULTS,
});
const conc = planConcentrator({ config: concConfig([site('home', '10.213.7.0/24'), site('shop', '10.213.8.0/24')]), publicMtu: 1500 });

const inputChain = (fw: Firewall) => /  chain input \{\n([\s\S]*?)\n  \}/.exec(fw.script)?.[1] ?? '';

test('router: GRE only through wbl*, the health port through wbl*/wbg*/wbond, both only towards the site\'s tunnel /24', () => {
  assert.equal(inputChain(router.nft!), [
    '    type filter hook input priority filter - 5; policy accept;',
    '    ip daddr { 10.213.7.0/24 } ip protocol gre iifname != "wbl*" counter drop',
    `    ip daddr { 10.213.7.0/24 } udp dport ${HEALTH_PORT} iifname != "wbl*" iifname != "wbg*" iifname != "wbond" counter drop`,
  ].join('\n'));
  assert.equal(HEALTH_PORT, 5790);
});

test('concentrator: every site\'s /24; GRE only through wb0, the health port also through each site\'s bond and gretaps', () => {
  const b7 = siteBond('10.213.7.0/24');
  const b8 = siteBond('10.213.8.0/24');
  assert.equal(inputChain(conc.nft!), [
    '    type filter hook input priority filter - 5; policy accept;',
    `    ip daddr { 10.213.7.0/24, 10.213.8.0/24 } ip protocol gre iifname != "${CONC_WG}" counter drop`,
    `    ip daddr { 10.213.7.0/24, 10.213.8.0/24 } udp dport 5790 iifname != "wb0" iifname != "${b7}*" iifname != "${b8}*" counter drop`,
  ].join('\n'));
  const empty = planConcentrator({ config: concConfig([]), publicMtu: 1500 });
  assert.doesNotMatch(empty.nft!.script, /chain input/);
  assert.deepEqual(empty.nft!.ipt.input, []);
});

test('no chain anywhere drops by policy, and the input chain names no port but the health port', () => {
  for (const fw of [router.nft!, conc.nft!]) {
    assert.doesNotMatch(fw.script, /policy drop/);
    const rules = inputChain(fw).split('\n').slice(1);
    assert.ok(rules.every((r) => /^    ip daddr \{ [0-9./, ]+ \} /.test(r)), 'every rule is limited to wanbond\'s tunnel subnets');
    assert.doesNotMatch(inputChain(fw), /51820|dport (?!5790)/);
  }
});

// A small interpreter of the iptables rules wanbond renders (-i with +, -d a/n, -p, --dport,
// -j RETURN/DROP), to check what they do to packets rather than how they read.
type Pkt = { iif: string; proto: 'udp' | 'tcp' | 'gre'; dst: string; dport?: number };
const ip4 = (a: string) => a.split('.').reduce((n, o) => n * 256 + Number(o), 0);
const inNet = (a: string, net: string) => {
  const [base, len] = net.split('/');
  const size = 2 ** (32 - Number(len));
  return Math.floor(ip4(a) / size) === Math.floor(ip4(base!) / size);
};
function verdict(rules: string[], p: Pkt): 'DROP' | 'pass' {
  for (const r of rules) {
    const arg = (k: string) => new RegExp(`(?:^| )${k} (\\S+)`).exec(r)?.[1];
    const iif = arg('-i');
    if (iif && !(iif.endsWith('+') ? p.iif.startsWith(iif.slice(0, -1)) : p.iif === iif)) continue;
    const d = arg('-d');
    if (d && !inNet(p.dst, d)) continue;
    const proto = arg('-p');
    if (proto && proto !== p.proto) continue;
    const dport = arg('--dport');
    if (dport && Number(dport) !== p.dport) continue;
    if (arg('-j') === 'DROP') return 'DROP';
    return 'pass'; // RETURN: back to INPUT, which wanbond does not otherwise touch
  }
  return 'pass';
}

test('iptables (where nftables does not work): the same verdicts, packet by packet', () => {
  const r = router.nft!.ipt.input;
  const probe = (iif: string, dst = '10.213.7.6'): Pkt => ({ iif, proto: 'udp', dst, dport: 5790 });
  const gre = (iif: string, dst = '10.213.7.6'): Pkt => ({ iif, proto: 'gre', dst });
  assert.equal(verdict(r, probe('wan1')), 'DROP', 'a probe from the internet side');
  assert.equal(verdict(r, gre('wan2')), 'DROP', 'GRE to a gretap\'s address from the internet side');
  assert.equal(verdict(r, gre(routerGretap(1, 1))), 'DROP', 'GRE inside the bond (no nesting)');
  assert.equal(verdict(r, gre(ROUTER_BOND)), 'DROP');
  for (const dev of [routerWg(1), routerWg(16), routerGretap(2, 3), ROUTER_BOND]) assert.equal(verdict(r, probe(dev)), 'pass', `probe on ${dev}`);
  assert.equal(verdict(r, gre(routerWg(2))), 'pass');
  assert.equal(verdict(r, probe('wan1', '192.168.1.2')), 'pass', 'UDP 5790 to another address is not wanbond\'s');
  assert.equal(verdict(r, gre('wan1', '198.18.1.2')), 'pass', 'the admin\'s own GRE tunnel');
  assert.equal(verdict(r, { iif: 'wan1', proto: 'tcp', dst: '10.213.7.6', dport: 22 }), 'pass');

  const c = conc.nft!.ipt.input;
  const g7 = siteGretap('10.213.7.0/24', 1, 1);
  assert.equal(verdict(c, probe('eth0', '10.213.7.5')), 'DROP');
  assert.equal(verdict(c, probe('eth0', '10.213.8.5')), 'DROP');
  assert.equal(verdict(c, gre('eth0', '10.213.8.5')), 'DROP');
  assert.equal(verdict(c, gre(g7, '10.213.7.5')), 'DROP');
  assert.equal(verdict(c, gre(CONC_WG, '10.213.7.5')), 'pass');
  for (const dev of [CONC_WG, g7, siteBond('10.213.8.0/24')]) assert.equal(verdict(c, probe(dev, '10.213.7.1')), 'pass', `probe on ${dev}`);
  assert.equal(verdict(c, { iif: 'eth0', proto: 'udp', dst: '198.51.100.1', dport: 51820 }), 'pass', 'WireGuard\'s port stays open');
});

test('iptables: one chain in filter jumped to from INPUT; converged means nothing to do; down removes it', () => {
  assert.deepEqual(IPT_CHAINS.input, { table: 'filter', chain: 'WANBOND_IN', from: 'INPUT' });
  const fw = conc.nft!;
  const none = parseIptSave('*filter\n:INPUT ACCEPT [0:0]\n:FORWARD ACCEPT [0:0]\n:OUTPUT ACCEPT [0:0]\nCOMMIT\n', 'iptables');
  const filter = iptablesSteps(fw, none).find((s) => s.input!.startsWith('*filter'))!;
  assert.match(filter.input!, /:WANBOND_IN - \[0:0\]\n-A WANBOND_IN -i wb0 .*-j RETURN\n/);
  assert.match(filter.input!, /-A INPUT -m comment --comment "wanbond" -j WANBOND_IN\n/);
  // What iptables-save prints once that is applied (it drops the quotes of a one-word comment).
  const saved = ['*filter', ':INPUT ACCEPT [0:0]', ':FORWARD ACCEPT [0:0]', ':OUTPUT ACCEPT [0:0]', ':WANBOND_ISO - [0:0]', ':WANBOND_IN - [0:0]',
    '-A INPUT -m comment --comment wanbond -j WANBOND_IN', '-A FORWARD -m comment --comment wanbond -j WANBOND_ISO',
    ...fw.ipt.isolate.map((x) => `-A WANBOND_ISO ${x}`), ...fw.ipt.input.map((x) => `-A WANBOND_IN ${x}`), 'COMMIT',
    '*mangle', ':PREROUTING ACCEPT [0:0]', ':FORWARD ACCEPT [0:0]', ':WANBOND_MSS - [0:0]', ':WANBOND_EXP - [0:0]',
    '-A FORWARD -m comment --comment wanbond -j WANBOND_MSS', ...fw.ipt.mss.map((x) => `-A WANBOND_MSS ${x}`),
    '-A PREROUTING -m comment --comment wanbond -j WANBOND_EXP', ...fw.ipt.express.map((x) => `-A WANBOND_EXP ${x}`), 'COMMIT',
    '*nat', ':POSTROUTING ACCEPT [0:0]', ':WANBOND_NAT - [0:0]', '-A POSTROUTING -m comment --comment wanbond -j WANBOND_NAT', ...fw.ipt.nat.map((x) => `-A WANBOND_NAT ${x}`), 'COMMIT', ''].join('\n');
  const have = parseIptSave(saved, 'iptables');
  assert.equal(have.rules.input.length, fw.ipt.input.length);
  assert.deepEqual(iptablesSteps(fw, have), []);
  const down = iptablesSteps(null, have).map((s) => s.input!).join('');
  assert.match(down, /-D INPUT -m comment --comment wanbond -j WANBOND_IN\n/);
  assert.match(down, /-F WANBOND_IN\n-X WANBOND_IN\n/);
  assert.match(down, /-D PREROUTING -m comment --comment wanbond -j WANBOND_EXP\n-F WANBOND_EXP\n-X WANBOND_EXP\n/);
});

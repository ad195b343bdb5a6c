// The planner is pure: config + learnt links (+ steering) -> the desired kernel state.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { GLOBALS_DEFAULTS, HEALTH_DEFAULTS, MQTT_DEFAULTS } from '../../src/config/defaults.ts';
import type { Config, Link } from '../../src/config/types.ts';
import { planRouter, planConcentrator, linkAddresses, siteBond } from '../../src/plan/index.ts';
import type { LinkRuntime, LinkSteering } from '../../src/plan/index.ts';
import { healthKbit } from '../../src/plan/shaping.ts';
import { readFileSync } from 'node:fs';
import { bondSlowdowns } from '../../src/agent/bond-slowdown.ts';
import { parseQdiscs, type KernelState } from '../../src/kernel/state.ts';
import { formatStep } from '../../src/kernel/step.ts';

const KEY = (c: string) => c.repeat(42) + 'A=';
const link = (id: number, extra: Partial<Link> = {}): Link => ({
  name: `lte${id}`, id, enabled: true, weight: 1, role: 'active', private_key_file: `/k/lte${id}.key`, interface: `wwan${id}`, ...extra,
});
const routerConfig = (over: Partial<Config['globals']> = {}, links: Link[] = [link(1), link(2), link(3)]): Config => ({
  globals: { ...GLOBALS_DEFAULTS, enabled: true, express_bytes: 256, ...over },
  concentrator: { host: '203.0.113.10', port: 51820, public_key: KEY('C'), site: 'home', subnet: '10.213.7.0/24' },
  links, health: HEALTH_DEFAULTS, sites: [], mqtt: MQTT_DEFAULTS,
});
const up = (ids: number[]): Record<string, LinkRuntime> =>
  Object.fromEntries(ids.map((i) => [`lte${i}`, { name: `lte${i}`, up: true, device: `wan${i}`, gateway: `192.168.${i}.1`, mtu: 1500 }]));

test('each link gets its tunnel, /30, fwmark, table, rule and express tunnel; the bond gets all gretaps', () => {
  const p = planRouter({ config: routerConfig(), runtime: up([1, 2, 3]), endpoint: '203.0.113.10' });
  assert.deepEqual(p.links.map((l) => l.name), ['wbl1', 'wbg1p1', 'wbx1', 'wbl2', 'wbg2p1', 'wbx2', 'wbl3', 'wbg3p1', 'wbx3', 'wbond']);
  assert.deepEqual(p.addrs.find((a) => a.dev === 'wbl2'), { dev: 'wbl2', local: '10.213.7.10', prefixlen: 32, peer: '10.213.7.9' });
  // The express tunnel: L3 GRE between the same tunnel addresses, 28 bytes under WireGuard's MTU.
  assert.deepEqual(p.links.find((l) => l.name === 'wbx2'), { name: 'wbx2', kind: 'gre', mtu: 1440 - 28, master: null, gre: { local: '10.213.7.10', remote: '10.213.7.9', key: 4096 } });
  assert.deepEqual(p.addrs.find((a) => a.dev === 'wbx2'), { dev: 'wbx2', local: '10.213.7.10', prefixlen: 32 });
  assert.deepEqual(p.planLinks.map((l) => l.express), ['wbx1', 'wbx2', 'wbx3']);
  assert.deepEqual(p.routes.find((r) => r.table === 5702), { table: 5702, dst: 'default', dev: 'wan2', via: '192.168.2.1' });
  assert.deepEqual(p.rules.find((r) => r.priority === 962), { priority: 962, fwmark: { mark: 0x57420002, mask: 0xffff00ff }, table: 5702 });
  assert.deepEqual(p.wg.find((w) => w.dev === 'wbl3')?.peers, [{ publicKey: KEY('C'), endpoint: '203.0.113.10:51820', allowedIps: ['10.213.7.13/32'], keepalive: 25 }]);
  assert.equal(p.wg[0]!.privateKeyFile, '/k/lte1.key');
  assert.deepEqual(p.links.find((l) => l.name === 'wbg2p1'), { name: 'wbg2p1', kind: 'gretap', master: 'wbond', gretap: { local: '10.213.7.10', remote: '10.213.7.9', key: 1 } });
  assert.deepEqual(p.bonds, [{ name: 'wbond', mode: 'balance-rr', mtu: 1398, members: ['lte1', 'lte2', 'lte3'], slaves: ['wbg1p1', 'wbg2p1', 'wbg3p1'], ingress: { block: 0x77620000, gretaps: ['wbg1p1', 'wbg2p1', 'wbg3p1'] } }]);
  assert.deepEqual(p.routes.find((r) => r.table === 5700), { table: 5700, dst: 'default', via: '10.213.7.1', dev: 'wbond' });
  assert.match(p.nft!.script, /oifname "wbond" tcp flags syn tcp option maxseg size > 1358 tcp option maxseg size set 1358/);
  assert.match(p.nft!.script, /oifname "wbond" masquerade/);
});

test('MTU: smallest path MTU minus WireGuard (60 / 80 over IPv6) and gretap; a set mtu wins', () => {
  const rt = up([1, 2]);
  rt.lte2!.mtu = 1480;
  const p = planRouter({ config: routerConfig({}, [link(1), link(2)]), runtime: rt, endpoint: '203.0.113.10' });
  assert.equal(p.bonds[0]!.mtu, 1480 - 60 - 42);
  assert.equal(p.links.find((l) => l.name === 'wbl1')!.mtu, 1420);
  const p6 = planRouter({ config: routerConfig({}, [link(1)]), runtime: up([1]), endpoint: '2001:db8::1' });
  assert.equal(p6.bonds[0]!.mtu, 1500 - 80 - 42);
  assert.equal(p6.wg[0]!.peers[0]!.endpoint, '[2001:db8::1]:51820');
  const fixed = planRouter({ config: routerConfig({ mtu: 1300 }, [link(1)]), runtime: up([1]), endpoint: '203.0.113.10' });
  assert.equal(fixed.bonds[0]!.mtu, 1300);
  assert.match(fixed.nft!.script, /size set 1260/);
});

test('a link whose interface is down is left out; the bond MTU does not move', () => {
  const rt = up([1, 3]);
  rt.lte2 = { name: 'lte2', up: false };
  const p = planRouter({ config: routerConfig(), runtime: rt, endpoint: '203.0.113.10' });
  assert.deepEqual(p.planLinks.map((l) => l.name), ['lte1', 'lte3']);
  assert.ok(!p.links.some((l) => l.name === 'wbl2' || l.name === 'wbg2p1' || l.name === 'wbx2'));
  assert.ok(!p.rules.some((r) => r.table === 5702));
  assert.equal(p.bonds[0]!.mtu, 1398);
});

test('steering: out of the bond, several paths with GRE keys, extra delay; fallback drops the bond default', () => {
  const p = planRouter({
    config: routerConfig(), runtime: up([1, 2, 3]), endpoint: '203.0.113.10',
    steering: { links: { lte1: { paths: 3, extra_delay_ms: 30 }, lte3: { in_bond: false } }, fallback: true },
  });
  assert.deepEqual(p.links.filter((l) => l.kind === 'gretap').map((l) => [l.name, l.master, l.gretap!.key]), [
    ['wbg1p1', 'wbond', 1], ['wbg1p2', 'wbond', 2], ['wbg1p3', 'wbond', 3], ['wbg2p1', 'wbond', 1], ['wbg3p1', null, 1],
  ]);
  assert.deepEqual(p.qdiscs, [{ dev: 'wbg1p1', delayMs: 30 }, { dev: 'wbg1p2', delayMs: 30 }, { dev: 'wbg1p3', delayMs: 30 }]);
  assert.deepEqual(p.bonds[0]!.members, ['lte1', 'lte2']);
  assert.ok(!p.routes.some((r) => r.table === 5700));
});

test('shaping: one shaper per link on its tunnel, for all it carries; its gretaps keep only the delay', () => {
  const p = planRouter({
    config: routerConfig(), runtime: up([1, 2, 3]), endpoint: '203.0.113.10',
    steering: { links: { lte1: { paths: 2, shape_kbit: 3800 }, lte2: { shape_kbit: 950, extra_delay_ms: 12 } } },
  });
  assert.deepEqual(p.qdiscs.map((q) => [q.dev, q.delayMs, q.shape?.rateKbit]), [
    ['wbg1p1', 0, undefined], ['wbg1p2', 0, undefined], ['wbl1', undefined, 3800], ['wbg2p1', 12, undefined], ['wbl2', undefined, 950],
  ]);
  assert.equal(p.qdiscs[2]!.shape!.overheadBytes, 82, 'IPv4 endpoint');
  const v6 = planRouter({ config: routerConfig(), runtime: up([1]), endpoint: '2001:db8::1', steering: { links: { lte1: { shape_kbit: 3800 } } } });
  assert.equal(v6.qdiscs.find((q) => q.dev === 'wbl1')!.shape!.overheadBytes, 102, 'WireGuard over IPv6 is 20 bytes longer');
  assert.equal(p.classed, undefined, 'the router has one tunnel per link: no classes');
  assert.ok(!p.qdiscs.some((q) => q.dev === 'wbond'), 'lte3 has no rate: the bond has no shaper of its own');
});

test('shaping: when every link in the bond has a rate, the bond holds the one queue and each link its share plus 5 %', () => {
  const steering = { links: { lte1: { paths: 4, shape_kbit: 3800, rtt_ms: 150 }, lte2: { paths: 2, shape_kbit: 1900, rtt_ms: 150 }, lte3: { shape_kbit: 950, rtt_ms: 150 } } };
  const p = planRouter({ config: routerConfig(), runtime: up([1, 2, 3]), endpoint: '203.0.113.10', steering });
  const at = (dev: string) => p.qdiscs.find((q) => q.dev === dev)!.shape!;
  const bond = at('wbond');
  assert.equal(bond.rateKbit, 3800 + 1900 + 950);
  assert.equal(bond.overheadBytes, 28 + 60 + 8 + 14, 'from the bond\'s Ethernet frame: the gretap\'s IP and GRE, WireGuard, the modem\'s Ethernet');
  assert.equal(bond.targetMs, 150, 'the whole round trip: one flow is one flow here, and backing off it keeps the links busy');
  assert.equal(at('wbl1').targetMs, 38, 'a link\'s own: a quarter of it');
  assert.deepEqual(['wbl1', 'wbl2', 'wbl3'].map((d) => at(d).rateKbit), [3990, 1995, 998]);
  // A link out of the bond leaves its sum; its own shaper stays at its share plus the headroom.
  const out = planRouter({ config: routerConfig(), runtime: up([1, 2, 3]), endpoint: '203.0.113.10', steering: { links: { ...steering.links, lte3: { ...steering.links.lte3, in_bond: false } } } });
  assert.equal(out.qdiscs.find((q) => q.dev === 'wbond')!.shape!.rateKbit, 3800 + 1900);
  const unshaped = planRouter({ config: routerConfig(), runtime: up([1, 2, 3]), endpoint: '203.0.113.10' });
  assert.ok(!unshaped.qdiscs.some((q) => q.dev === 'wbond' || q.shape));
  // Upload of the same links (a quarter): lte3's 238 kbit/s share plus its probes (30 kbit/s: ten
  // probes and ten replies a second) would overfill its shaper (250): the bond runs at what lte3's
  // room allows.
  const slow = { links: { lte1: { paths: 4, shape_kbit: 950, rtt_ms: 150 }, lte2: { paths: 2, shape_kbit: 475, rtt_ms: 150 }, lte3: { shape_kbit: 238, rtt_ms: 150 } } };
  const sp = planRouter({ config: routerConfig(), runtime: up([1, 2, 3]), endpoint: '203.0.113.10', steering: slow });
  assert.equal(Math.round(healthKbit({}) * 100) / 100, 29.76);
  assert.equal(sp.qdiscs.find((q) => q.dev === 'wbond')!.shape!.rateKbit, Math.round((238 * 1.05 - healthKbit({})) * 7));
  assert.equal(healthKbit({ probeIntervalS: 1 }), healthKbit({}) / 10);
});

test('a link leaving: the bond\'s shaper slows to the new sum ahead of the reconcile; a faster sum waits for it', () => {
  // As the lab kernel printed the bond's qdiscs at 6650 kbit/s (qdisc-diff.test.ts), read before
  // the last reconcile's steps ran.
  const qdiscs = parseQdiscs(readFileSync(new URL('../fixtures/kernel/bond-shaper-qdisc.json', import.meta.url), 'utf8'));
  const state = { links: [], addrs: [], rules: [], routes: [], wg: [], qdiscs, nftTag: null, nftExists: false, firewall: 'nft', ipt: null, forwarding: true, wgKernel: true } satisfies KernelState;
  const links = { lte1: { paths: 4, shape_kbit: 3800, rtt_ms: 38 }, lte2: { paths: 2, shape_kbit: 1900, rtt_ms: 38 }, lte3: { shape_kbit: 950, rtt_ms: 38 } };
  const plan = (l: Record<string, Partial<LinkSteering>>) => planRouter({ config: routerConfig(), runtime: up([1, 2, 3]), endpoint: '203.0.113.10', steering: { links: l } });
  const all = plan(links), without1 = plan({ ...links, lte1: { ...links.lte1, in_bond: false } });
  const slower = bondSlowdowns(without1, all, state);
  assert.ok(slower.length > 0 && slower.every((s) => s.argv.slice(0, 5).join(' ') === 'tc qdisc change dev wbond'), slower.map((s) => formatStep(s)).join('\n'));
  assert.match(formatStep(slower[0]!), /root handle 1: tbf rate 2850kbit/);
  assert.deepEqual(bondSlowdowns(all, all, state), [], 'the same sum');
  assert.deepEqual(bondSlowdowns(all, without1, state), [], 'a faster sum: the reconcile enslaves first');
  // The state still shows 6650 but the last reconcile set 2850 (link 1 left before): link 2 leaving too slows it further.
  const only3 = plan({ ...links, lte1: { ...links.lte1, in_bond: false }, lte2: { ...links.lte2, in_bond: false } });
  assert.match(formatStep(bondSlowdowns(only3, without1, state)[0]!), /tbf rate 950kbit/);
  assert.deepEqual(bondSlowdowns(without1, all, { ...state, qdiscs: [] }), [], 'no shaper there yet: the reconcile makes it');
  assert.deepEqual(bondSlowdowns(without1, undefined, state), [], 'nothing applied yet');
});

test('a backup link joins the bond only while no active link is up', () => {
  const links = [link(1), link(2, { role: 'backup' })];
  assert.deepEqual(planRouter({ config: routerConfig({}, links), runtime: up([1, 2]), endpoint: '203.0.113.10' }).bonds[0]!.members, ['lte1']);
  const rt = up([2]);
  rt.lte1 = { name: 'lte1', up: false };
  assert.deepEqual(planRouter({ config: routerConfig({}, links), runtime: rt, endpoint: '203.0.113.10' }).bonds[0]!.members, ['lte2']);
});

test('LAN rules: bypass first, main without its default for forwarded traffic, express packets, then the bond; no NAT when off', () => {
  const p = planRouter({ config: routerConfig({ bypass_dst: ['198.51.100.0/24'], bypass_src: ['192.168.1.50/32'], nat: false }), runtime: up([1]), endpoint: '203.0.113.10' });
  assert.deepEqual(p.rules.filter((r) => r.priority !== 961), [
    { priority: 960, to: '198.51.100.0/24', table: 'main' },
    { priority: 960, from: '192.168.1.50/32', table: 'main' },
    { priority: 980, notIifLo: true, table: 'main', suppressPrefixlength: 0 },
    { priority: 981, fwmark: { mark: 0x574200ff, mask: 0xffff00ff }, table: 5717 },
    { priority: 982, notIifLo: true, table: 5700 },
  ]);
  assert.doesNotMatch(p.nft!.script, /masquerade|snat/);
});

test('disabled or unpaired: nothing at all', () => {
  const off = planRouter({ config: routerConfig({ enabled: false }), runtime: up([1]), endpoint: '203.0.113.10' });
  assert.deepEqual([off.links, off.rules, off.routes, off.nft], [[], [], [], null]);
  const c = routerConfig();
  delete c.concentrator;
  const unpaired = planRouter({ config: c, runtime: up([1]), endpoint: '0.0.0.0' });
  assert.equal(unpaired.links.length, 0);
  assert.match(unpaired.warnings[0]!, /pair/);
});

test('concentrator: one WireGuard port for every site, a bond per site, NAT, isolation, routed LAN', () => {
  const cfg: Config = {
    globals: { ...GLOBALS_DEFAULTS, enabled: true, role: 'concentrator', listen_port: 51999 },
    links: [], health: HEALTH_DEFAULTS, mqtt: MQTT_DEFAULTS,
    sites: [
      { name: 'home', enabled: true, subnet: '10.213.7.0/24', mode: 'balance-rr', peers: [{ id: 1, name: 'lte1', public_key: KEY('A') }, { id: 2, name: 'lte2', public_key: KEY('B') }], lan: [] },
      { name: 'shop', enabled: true, subnet: '10.213.8.0/24', mode: 'balance-xor', peers: [{ id: 1, name: 'dsl', public_key: KEY('D') }], lan: ['192.168.50.0/24'] },
    ],
  };
  const p = planConcentrator({ config: cfg });
  assert.deepEqual(p.wg, [{ dev: 'wb0', privateKeyFile: GLOBALS_DEFAULTS.private_key_file, listenPort: 51999, peers: [
    { publicKey: KEY('A'), allowedIps: ['10.213.7.6/32'] }, { publicKey: KEY('B'), allowedIps: ['10.213.7.10/32'] }, { publicKey: KEY('D'), allowedIps: ['10.213.8.6/32'] },
  ] }]);
  assert.equal(siteBond('10.213.8.0/24'), 'wbd508');
  assert.deepEqual(p.links.map((l) => l.name), ['wb0', 'wbd507g1p1', 'wbd507x1', 'wbd507g2p1', 'wbd507x2', 'wbd507', 'wbd508g1p1', 'wbd508x1', 'wbd508']);
  assert.deepEqual(p.links.find((l) => l.name === 'wbd508')!.bond, { mode: 'balance-xor', xmit_hash_policy: 'layer3+4' });
  assert.deepEqual(p.addrs.filter((a) => a.dev === 'wb0').map((a) => `${a.local}>${a.peer}`), ['10.213.7.5>10.213.7.6', '10.213.7.9>10.213.7.10', '10.213.8.5>10.213.8.6']);
  assert.deepEqual(p.routes, [{ table: 'main', dst: '192.168.50.0/24', via: '10.213.8.2', dev: 'wbd508' }]);
  assert.match(p.nft!.script, /iifname "wbd507" oifname != "wbd507" oifname "wb\*" drop/);
  assert.match(p.nft!.script, /ip saddr \{ 10\.213\.7\.0\/24, 10\.213\.8\.0\/24, 192\.168\.50\.0\/24 \} oifname != "wb\*" masquerade/);
  assert.deepEqual(linkAddresses('10.213.8.0/24', 16), { conc: '10.213.8.65', router: '10.213.8.66' });
});

test('concentrator shaping: an HTB class per shaped link on wb0, chosen by nft from the link\'s router address', () => {
  const cfg: Config = {
    globals: { ...GLOBALS_DEFAULTS, enabled: true, role: 'concentrator' },
    links: [], health: HEALTH_DEFAULTS, mqtt: MQTT_DEFAULTS,
    sites: [
      { name: 'home', enabled: true, subnet: '10.213.7.0/24', mode: 'balance-rr', peers: [{ id: 1, name: 'lte1', public_key: KEY('A') }, { id: 2, name: 'lte2', public_key: KEY('B') }], lan: [] },
      { name: 'shop', enabled: true, subnet: '10.213.8.0/24', mode: 'balance-rr', peers: [{ id: 1, name: 'dsl', public_key: KEY('D') }], lan: [] },
    ],
  };
  const p = planConcentrator({ config: cfg, steering: { links: { 'home/lte1': { paths: 2, shape_kbit: 3800, extra_delay_ms: 5 }, 'shop/dsl': { shape_kbit: 950 } } } });
  // home's lte2 has no rate: no shaper on its bond, lte1 at its rate. shop's one link has a rate:
  // its bond is shaped to it, the link's class 5 % above.
  assert.deepEqual(p.classed!.classes.map((c) => [c.minor, c.dst, c.shape.rateKbit, c.shape.overheadBytes]), [[0x10, '10.213.7.6', 3800, 82], [0x20, '10.213.8.6', 998, 82]]);
  assert.equal(p.classed!.dev, 'wb0');
  assert.deepEqual(p.qdiscs.map((q) => [q.dev, q.delayMs, q.shape?.rateKbit]), [['wbd507g1p1', 5, undefined], ['wbd507g1p2', 5, undefined], ['wbd508g1p1', 0, undefined], ['wbd508', undefined, 950]]);
  assert.match(p.nft!.script, /chain classify \{\n {4}type filter hook postrouting priority mangle; policy accept;\n {4}oifname "wb0" meta priority set ip daddr map \{ 10\.213\.7\.6 : 1:10, 10\.213\.8\.6 : 1:20 \}/);
  assert.deepEqual(p.nft!.ipt.classify, [
    '-o wb0 -d 10.213.7.6/32 -m comment --comment "wanbond ' + p.nft!.tag + '" -j CLASSIFY --set-class 1:10',
    '-o wb0 -d 10.213.8.6/32 -m comment --comment "wanbond ' + p.nft!.tag + '" -j CLASSIFY --set-class 1:20',
  ]);
  const none = planConcentrator({ config: cfg });
  assert.equal(none.classed, undefined);
  assert.doesNotMatch(none.nft!.script, /classify/);
});

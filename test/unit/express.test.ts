// The express path: small non-TCP packets (calls, games, DNS, pings) skip the bond, whose delay
// equalisation holds every packet to the slowest link, and take the fastest link's own tunnel (an
// L3 GRE inside its WireGuard). Planned at both ends, chosen by steering, marked by the firewall.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { GLOBALS_DEFAULTS, HEALTH_DEFAULTS, MQTT_DEFAULTS } from '../../src/config/defaults.ts';
import type { Config, Link, Site } from '../../src/config/types.ts';
import { planConcentrator, planRouter } from '../../src/plan/index.ts';
import type { Plan, Steering } from '../../src/plan/index.ts';
import { IPT_CHAINS, renderNft, type NftSpec } from '../../src/plan/nft.ts';
import { sameSteering, steer, type SteerInput, type SteerMemory } from '../../src/steer/steer.ts';

const KEY = (c: string) => c.repeat(42) + 'A=';
const EXPRESS_RULE = { priority: 981, fwmark: { mark: 0x574200ff, mask: 0xffff00ff }, table: 5717 };
const expressRoutes = (p: Plan) => p.routes.filter((r) => r.table === 5717);
const greNames = (p: Plan) => p.links.filter((l) => l.kind === 'gre').map((l) => l.name);

const link = (id: number): Link => ({ name: `lte${id}`, id, enabled: true, weight: 1, role: 'active', private_key_file: `/k/lte${id}.key` });
const router = (over: Partial<Config['globals']> = {}, steering?: Steering) => planRouter({
  config: {
    globals: { ...GLOBALS_DEFAULTS, enabled: true, express_bytes: 256, ...over },
    concentrator: { host: '203.0.113.10', port: 51820, public_key: KEY('C'), site: 'home', subnet: '10.213.7.0/24' },
    links: [link(1), link(2), link(3)], health: HEALTH_DEFAULTS, sites: [], mqtt: MQTT_DEFAULTS,
  },
  runtime: Object.fromEntries([1, 2, 3].map((i) => [`lte${i}`, { name: `lte${i}`, up: true, device: `wan${i}`, gateway: `192.168.${i}.1`, mtu: 1500 }])),
  endpoint: '203.0.113.10',
  ...(steering ? { steering } : {}),
});

test('router: express packets go by rule 981 (before the bond\'s 982) to table 5717, whose default is the chosen link\'s tunnel', () => {
  const p = router({}, { links: { lte2: { express: true } } });
  assert.deepEqual(p.rules.filter((r) => r.priority >= 980).map((r) => r.priority), [980, 981, 982]);
  // No `not iif lo` on it: ip rule's `not` would invert the fwmark match as well.
  assert.deepEqual(p.rules.find((r) => r.priority === 981), EXPRESS_RULE);
  assert.deepEqual(expressRoutes(p), [{ table: 5717, dst: 'default', dev: 'wbx2' }]);
  assert.match(p.nft!.script, /  set bulk \{\n    typeof ct id\n    flags dynamic, timeout\n    timeout 10m\n    size 65536\n  \}\n  chain express \{\n    type filter hook prerouting priority mangle; policy accept;\n    ip length > 256 update @bulk \{ ct id \}\n    iifname != "wb\*" meta l4proto != tcp ip length <= 256 ct id != @bulk meta mark set meta mark and 0xff00 or 0x574200ff\n  \}/);
  // Same source address as through the bond, so a flow may move between the two.
  assert.match(p.nft!.script, /oifname "wbond" masquerade\n    oifname "wbx\*" snat ip to 10\.213\.7\.2\n/);
  assert.equal(p.nft!.ipt.express.length, 2);
});

test('router: the first steered link in the bond carries express; none chosen or it out of the bond: no route, all by the bond', () => {
  assert.deepEqual(expressRoutes(router({}, { links: { lte1: { express: true }, lte3: { express: true } } })), [{ table: 5717, dst: 'default', dev: 'wbx1' }]);
  assert.deepEqual(expressRoutes(router({}, { links: { lte1: { express: true, in_bond: false }, lte3: { express: true } } })), [{ table: 5717, dst: 'default', dev: 'wbx3' }]);
  const out = router({}, { links: { lte2: { express: true, in_bond: false } } });
  assert.deepEqual(expressRoutes(out), []);
  assert.deepEqual(out.rules.find((r) => r.priority === 981), EXPRESS_RULE, 'the rule stays; an empty table falls through to the bond');
  assert.deepEqual(expressRoutes(router()), []);
});

test('router: express_bytes 0 is off (no rule 981, no route, no marking) but the tunnels stay for the other end', () => {
  const p = router({ express_bytes: 0 }, { links: { lte2: { express: true } } });
  assert.ok(!p.rules.some((r) => r.priority === 981 || r.table === 5717));
  assert.deepEqual(p.rules.find((r) => r.priority === 982), { priority: 982, notIifLo: true, table: 5700 });
  assert.deepEqual(expressRoutes(p), []);
  assert.doesNotMatch(p.nft!.script, /chain express|meta mark set/);
  assert.deepEqual(p.nft!.ipt.express, []);
  assert.deepEqual(greNames(p), ['wbx1', 'wbx2', 'wbx3']);
  assert.deepEqual(p.addrs.filter((a) => a.dev.startsWith('wbx')).map((a) => a.local), ['10.213.7.6', '10.213.7.10', '10.213.7.14']);
});

test('router: in fallback nothing goes by express (no rule, no route, no marking); the tunnels stay', () => {
  const p = router({}, { links: { lte2: { express: true } }, fallback: true });
  assert.ok(!p.rules.some((r) => r.priority === 981));
  assert.deepEqual(expressRoutes(p), []);
  assert.doesNotMatch(p.nft!.script, /chain express/);
  assert.deepEqual(greNames(p), ['wbx1', 'wbx2', 'wbx3']);
});

test('router: the express size is the configured one, and changing it changes the rules\' tag', () => {
  const a = router({ express_bytes: 120 });
  assert.match(a.nft!.script, /ip length > 120 update @bulk .*\n.* ip length <= 120 /);
  assert.match(a.nft!.ipt.express[0]!, /^-m length --length 121:65535 /);
  assert.notEqual(a.nft!.tag, router().nft!.tag);
});

const site = (name: string, subnet: string, ids: number[], extra: Partial<Site> = {}): Site => ({
  name, enabled: true, subnet, mode: 'balance-rr', peers: ids.map((id) => ({ id, name: `l${id}`, public_key: KEY(String.fromCharCode(64 + id)) })), lan: [], ...extra,
});
const conc = (over: Partial<Config['globals']> = {}, steering?: Steering) => planConcentrator({
  config: {
    globals: { ...GLOBALS_DEFAULTS, enabled: true, express_bytes: 256, role: 'concentrator', ...over }, links: [], health: HEALTH_DEFAULTS, mqtt: MQTT_DEFAULTS,
    sites: [
      site('home', '10.213.7.0/24', [1, 2]),
      site('shop', '10.213.8.0/24', [1], { lan: ['192.168.50.0/24'], routed_prefix: '198.51.100.64/28' }),
    ],
  },
  publicMtu: 1500,
  ...(steering ? { steering } : {}),
});

test('concentrator: each site\'s bond address and LAN by that site\'s express link; one rule for all, without iif', () => {
  const p = conc({}, { links: { 'home/l2': { express: true }, 'shop/l1': { express: true } } });
  assert.deepEqual(greNames(p), ['wbd507x1', 'wbd507x2', 'wbd508x1']);
  assert.deepEqual(p.links.find((l) => l.name === 'wbd507x2')!.gre, { local: '10.213.7.9', remote: '10.213.7.10', key: 4096 });
  assert.deepEqual(p.addrs.find((a) => a.dev === 'wbd507x2'), { dev: 'wbd507x2', local: '10.213.7.9', prefixlen: 32 });
  assert.deepEqual(expressRoutes(p), [
    { table: 5717, dst: '10.213.7.2/32', dev: 'wbd507x2' },
    { table: 5717, dst: '10.213.8.2/32', dev: 'wbd508x1' },
    { table: 5717, dst: '192.168.50.0/24', dev: 'wbd508x1' },
    { table: 5717, dst: '198.51.100.64/28', dev: 'wbd508x1' },
  ]);
  assert.deepEqual(p.rules, [EXPRESS_RULE]);
  assert.deepEqual(p.planLinks.map((l) => l.express), ['wbd507x1', 'wbd507x2', 'wbd508x1']);
});

test('concentrator: a site without a chosen link in its bond has no express routes; the other keeps its own', () => {
  const p = conc({}, { links: { 'home/l1': { express: true, in_bond: false }, 'shop/l1': { express: true } } });
  assert.deepEqual(expressRoutes(p).map((r) => r.dev), ['wbd508x1', 'wbd508x1', 'wbd508x1']);
  assert.deepEqual(expressRoutes(conc()), []);
  assert.deepEqual(conc().rules, [EXPRESS_RULE]);
});

test('concentrator: express tunnels forward only to the outside (nftables and iptables); marking as on the router', () => {
  const p = conc();
  assert.match(p.nft!.script, /iifname "wbd507" oifname != "wbd507" oifname "wb\*" drop\n    iifname "wbd508" oifname != "wbd508" oifname "wb\*" drop\n    iifname "wbd507x\*" oifname "wb\*" drop\n    iifname "wbd508x\*" oifname "wb\*" drop\n/);
  assert.deepEqual(p.nft!.ipt.isolate.filter((r) => r.includes('x+')).map((r) => r.replace(/ -m comment .* -j/, ' -j')), ['-i wbd507x+ -o wb+ -j DROP', '-i wbd508x+ -o wb+ -j DROP']);
  assert.match(p.nft!.script, /chain express \{/);
  assert.doesNotMatch(p.nft!.script, /snat/, 'the concentrator masquerades its sites as before');
  const off = conc({ express_bytes: 0 }, { links: { 'home/l2': { express: true } } });
  assert.deepEqual([off.rules, expressRoutes(off), off.nft!.ipt.express], [[], [], []]);
  assert.doesNotMatch(off.nft!.script, /chain express/);
  assert.match(off.nft!.script, /iifname "wbd507x\*" oifname "wb\*" drop/, 'the tunnels are there, so is their isolation');
  const none = planConcentrator({ config: { globals: { ...GLOBALS_DEFAULTS, enabled: true, role: 'concentrator' }, links: [], health: HEALTH_DEFAULTS, mqtt: MQTT_DEFAULTS, sites: [] } });
  assert.deepEqual([none.rules, none.nft!.ipt.express], [[], []], 'no site: nothing to mark');
});

test('renderNft: express chain, SNAT and express isolation, the same in nftables and iptables', () => {
  const spec: NftSpec = {
    clamp: [], masqueradeOut: [], masqueradeSources: [], out: '', isolate: ['wbd507'], guard: null,
    expressBytes: 200, snat: [{ dev: 'wbx*', to: '10.213.7.2' }], isolateExpress: ['wbd507x*'],
  };
  const fw = renderNft(spec);
  const c = `-m comment --comment "wanbond ${fw.tag}"`;
  assert.match(fw.script, /  set bulk \{\n    typeof ct id\n    flags dynamic, timeout\n    timeout 10m\n    size 65536\n  \}\n  chain express \{\n    type filter hook prerouting priority mangle; policy accept;\n    ip length > 200 update @bulk \{ ct id \}\n    iifname != "wb\*" meta l4proto != tcp ip length <= 200 ct id != @bulk meta mark set meta mark and 0xff00 or 0x574200ff\n  \}/);
  assert.match(fw.script, /  chain nat \{\n    type nat hook postrouting priority srcnat; policy accept;\n    oifname "wbx\*" snat ip to 10\.213\.7\.2\n  \}/, 'SNAT alone is enough for the nat chain');
  assert.match(fw.script, /iifname "wbd507x\*" oifname "wb\*" drop/);
  assert.deepEqual(IPT_CHAINS.express, { table: 'mangle', chain: 'WANBOND_EXP', from: 'PREROUTING' });
  assert.deepEqual(fw.ipt.express, [
    `-m length --length 201:65535 ${c} -j CONNMARK --set-xmark 0x400000/0x400000`,
    `! -i wb+ ! -p tcp -m length --length 0:200 -m connmark --mark 0x0/0x400000 ${c} -j MARK --set-xmark 0x574200ff/0xffff00ff`,
  ]);
  assert.deepEqual(fw.ipt.nat, [`-o wbx+ ${c} -j SNAT --to-source 10.213.7.2`]);
  assert.deepEqual(fw.ipt.isolate, [`-i wbd507 -o wb0 ${c} -j DROP`, `-i wbd507x+ -o wb+ ${c} -j DROP`]);
  const off = renderNft({ ...spec, expressBytes: 0, snat: [], isolateExpress: [] });
  assert.doesNotMatch(off.script, /chain express|chain nat|snat|x\*/);
  assert.deepEqual([off.ipt.express, off.ipt.nat], [[], []]);
});

// steer() with a round trip per link: express is the fastest carrying link of each group.
const rtts = (r: Record<string, number | null>, over: Partial<Record<string, Partial<SteerInput>>> = {}): SteerInput[] =>
  Object.entries(r).map(([name, rtt]) => ({
    name, in_set: true, capacity_kbit: 2000, owd_ms: 20, rtt_ms: rtt, ...(name.includes('/') ? { group: name.split('/')[0]! } : {}), ...over[name],
  }));
const expressOf = (m: SteerMemory) => Object.keys(m.steering).filter((k) => m.steering[k]!.express);

test('steer: express is the carrying link with the lowest RTT, one per group', () => {
  assert.deepEqual(expressOf(steer(rtts({ a: 40, b: 25, c: 60 }))), ['b']);
  assert.deepEqual(expressOf(steer(rtts({ 'home/a': 40, 'home/b': 25, 'shop/c': 60, 'shop/d': 30 }))), ['home/b', 'shop/d']);
  assert.deepEqual(expressOf(steer(rtts({ a: 40, b: 25, c: 60 }, { b: { in_set: false } }))), ['a'], 'a link out of the set never carries express');
  assert.deepEqual(expressOf(steer(rtts({ a: 40, b: null }))), ['a'], 'a link without an RTT is not a candidate');
});

test('steer: no RTT known, no express link', () => {
  const m = steer(rtts({ a: null, b: null }));
  assert.deepEqual(expressOf(m), []);
  assert.ok(Object.values(m.steering).every((l) => l.express === false));
  assert.deepEqual(expressOf(steer(rtts({ a: 10, b: 20 }, { a: { in_set: false }, b: { in_set: false } }))), []);
});

test('steer: the held express link stays unless beaten by more than max(10 ms, a fifth of its RTT)', () => {
  const first = steer(rtts({ a: 40, b: 25 }));
  assert.deepEqual(expressOf(first), ['b']);
  const noisy = steer(rtts({ a: 25, b: 33 }), {}, first);
  assert.deepEqual(expressOf(noisy), ['b'], 'beaten by 8 ms: held');
  assert.deepEqual(expressOf(steer(rtts({ a: 25, b: 35 }), {}, noisy)), ['b'], 'by exactly the margin: held');
  assert.deepEqual(expressOf(steer(rtts({ a: 25, b: 36 }), {}, noisy, 10_000)), ['a'], 'by 11 ms: moves');
  // A slow held link: the margin is a fifth of its RTT.
  const slow = steer(rtts({ a: 300, b: 200 }));
  assert.deepEqual(expressOf(steer(rtts({ a: 165, b: 200 }), {}, slow)), ['b'], 'beaten by 35 ms < 40: held');
  assert.deepEqual(expressOf(steer(rtts({ a: 155, b: 200 }), {}, slow, 10_000)), ['a'], 'beaten by 45 ms > 40: moves');
  assert.deepEqual(expressOf(steer(rtts({ a: 25, b: 33 }), { expressHysteresisMs: 0 }, first, 10_000)), ['a'], 'no floor: a fifth of 33 ms < 8 ms');
});

test('steer: after a move the express link dwells 5 s whatever the round trips say, unless it leaves the set', () => {
  const first = steer(rtts({ a: 40, b: 25 }), {}, undefined, 1000);
  assert.deepEqual(expressOf(first), ['b']);
  assert.deepEqual(expressOf(steer(rtts({ a: 25, b: 300 }), {}, first, 5999)), ['b'], 'late by far, 5 s not over: stays');
  const moved = steer(rtts({ a: 25, b: 300 }), {}, first, 6000);
  assert.deepEqual(expressOf(moved), ['a'], 'dwell over: moves');
  assert.equal(moved.express_at?.[''], 6000);
  assert.deepEqual(expressOf(steer(rtts({ a: 25, b: 20 }, { a: { in_set: false } }), {}, moved, 6100)), ['b'], 'the held link left the set: moves at once');
  assert.deepEqual(expressOf(steer(rtts({ a: 300, b: 20 }), { expressDwellMs: 0 }, moved, 6100)), ['b']);
});

test('steer: a held express link that turns late (a cut, a spike) is left even while dwelling', () => {
  const first = steer(rtts({ a: 40, b: 25 }), {}, undefined, 1000);
  assert.deepEqual(expressOf(steer(rtts({ a: 40, b: 300 }, { b: { late: true } }), {}, first, 1100)), ['a']);
  assert.deepEqual(expressOf(steer(rtts({ a: 40, b: 300 }), {}, first, 1100)), ['b'], 'only slow, not late: dwells');
});

test('steer: a held express link leaving the set, or its RTT unknown, hands express on at once; that is a change', () => {
  const first = steer(rtts({ 'home/a': 30, 'home/b': 20, 'shop/c': 50 }));
  assert.deepEqual(expressOf(first), ['home/b', 'shop/c']);
  const left = steer(rtts({ 'home/a': 30, 'home/b': 20, 'shop/c': 50 }, { 'home/b': { in_set: false } }), {}, first);
  assert.deepEqual(expressOf(left), ['home/a', 'shop/c'], 'the other group keeps its link');
  assert.equal(left.steering['home/b']!.express, false);
  assert.ok(!sameSteering(first.steering, left.steering));
  const lost = steer(rtts({ 'home/a': 30, 'home/b': null, 'shop/c': 50 }), {}, first);
  assert.deepEqual(expressOf(lost), ['home/a', 'shop/c']);
  // Back: the new holder keeps it until beaten by the margin.
  assert.deepEqual(expressOf(steer(rtts({ 'home/a': 30, 'home/b': 22, 'shop/c': 50 }), {}, left)), ['home/a', 'shop/c']);
});

test('steer: express off chooses no link, so express makes no steering change', () => {
  const off = steer(rtts({ a: 40, b: 25 }), { express: false });
  assert.deepEqual(expressOf(off), []);
  assert.ok(sameSteering(off.steering, steer(rtts({ a: 20, b: 300 }, { b: { late: true } }), { express: false }, off, 9000).steering));
});

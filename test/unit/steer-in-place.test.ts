// Steering applied in place (src/agent/steer-in-place.ts): links leaving or joining and shapers
// and delays retuned become slave moves and `tc ... change` steps from the plan last applied,
// without reading the kernel; everything else is left to the reconcile.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { GLOBALS_DEFAULTS, HEALTH_DEFAULTS, MQTT_DEFAULTS } from '../../src/config/defaults.ts';
import type { Config, Link } from '../../src/config/types.ts';
import { planConcentrator, planRouter } from '../../src/plan/index.ts';
import type { LinkRuntime, LinkSteering, Plan } from '../../src/plan/index.ts';
import { inPlaceSteps, type BondView, type InPlace } from '../../src/agent/steer-in-place.ts';
import { plannedChain, qdiscSteps } from '../../src/kernel/qdisc-diff.ts';
import { classedSteps, plannedClassed } from '../../src/kernel/class-diff.ts';
import { formatStep } from '../../src/kernel/step.ts';

const KEY = (c: string) => c.repeat(42) + 'A=';
const link = (id: number): Link => ({ name: `lte${id}`, id, enabled: true, weight: 1, role: 'active', private_key_file: `/k/lte${id}.key`, interface: `wwan${id}` });
const config: Config = {
  globals: { ...GLOBALS_DEFAULTS, enabled: true, express_bytes: 0 },
  concentrator: { host: '203.0.113.10', port: 51820, public_key: KEY('C'), site: 'home', subnet: '10.213.7.0/24' },
  links: [link(1), link(2), link(3)], health: HEALTH_DEFAULTS, sites: [], mqtt: MQTT_DEFAULTS,
};
const runtime: Record<string, LinkRuntime> = Object.fromEntries([1, 2, 3].map((i) => [`lte${i}`, { name: `lte${i}`, up: true, device: `wan${i}`, gateway: `192.168.${i}.1`, mtu: 1500 }]));
// hetero-3's download as steering sets it: four, two and one gretaps, shaped, the faster links delayed.
const links: Record<string, Partial<LinkSteering>> = {
  lte1: { paths: 4, shape_kbit: 3800, rtt_ms: 150, extra_delay_ms: 45 },
  lte2: { paths: 2, shape_kbit: 1900, rtt_ms: 150, extra_delay_ms: 30 },
  lte3: { shape_kbit: 950, rtt_ms: 150 },
};
const plan = (l: Record<string, Partial<LinkSteering>>) => planRouter({ config, runtime, endpoint: '203.0.113.10', steering: { links: l } });
const gretapsOf = (p: Plan, key: string) => p.planLinks.find((l) => l.key === key)!.gretaps;
const lines = (r: InPlace | null) => r?.steps.map((s) => formatStep(s));
/** The kernel as `applied` left it, less the gretaps released since (`free`). */
const kernel = (applied: Plan, free: Set<string> = new Set()): BondView => ({
  masterOf: (g) => (free.has(g) ? null : applied.links.find((l) => l.name === g)?.master ?? null),
  slavesOf: (b) => applied.bonds.find((x) => x.name === b)?.slaves.filter((g) => !free.has(g)) ?? null,
});

test('a link leaving: the bond slows in place, nothing else is read or rebuilt', () => {
  const all = plan(links), without1 = plan({ ...links, lte1: { ...links.lte1, in_bond: false } });
  const gone = new Set(gretapsOf(all, 'lte1'));
  const r = inPlaceSteps(without1, all, kernel(all, gone));
  const steps = r?.steps;
  assert.ok(r && steps && steps.length > 0, String(lines(r)));
  assert.deepEqual(r.joins, []);
  assert.ok(steps.every((s) => s.argv.slice(0, 3).join(' ') === 'tc qdisc change'), lines(r)!.join('\n'));
  assert.ok(steps.some((s) => /dev wbond root handle 1: tbf rate 2850kbit/.test(formatStep(s))), lines(r)!.join('\n'));
  // The released gretaps' delay waits for the next reconcile: nothing is sent on them.
  assert.ok(!steps.some((s) => gone.has(s.argv[4]!)));
  // What the kernel stands for afterwards: the released gretaps keep the delay they had.
  for (const g of gone) assert.deepEqual(r.applied.qdiscs.find((q) => q.dev === g), all.qdiscs.find((q) => q.dev === g), g);
  assert.deepEqual(r.applied.bonds, without1.bonds);
  const again = inPlaceSteps(without1, without1, kernel(without1));
  assert.deepEqual(again && { ...again, applied: undefined }, { drain: [], drainMs: 0, joins: [], steps: [], applied: undefined }, 'applied again: nothing');
});

test('a link joining: its gretaps go into the bond in the planned order, then the bond speeds up', () => {
  const all = plan(links), without1 = plan({ ...links, lte1: { ...links.lte1, in_bond: false } });
  const free = new Set(gretapsOf(all, 'lte1'));
  const r = inPlaceSteps(all, without1, kernel(all, free));
  assert.ok(r, 'applied in place');
  assert.equal(r.joins.length, 1);
  const j = r.joins[0]!;
  assert.equal(j.bond, 'wbond');
  // The kernel only appends: four gretaps of one link in a row would be uneven, so the slaves
  // behind the first place that differs are released and enslaved again, in order.
  const after = [...all.bonds[0]!.slaves.filter((g) => !free.has(g) && !j.release.includes(g)), ...j.enslave];
  assert.deepEqual(after, all.bonds[0]!.slaves, JSON.stringify(j));
  assert.ok(lines(r)!.some((s) => /^tc qdisc change dev wbond root handle 1: tbf rate \d+kbit/.test(s)), lines(r)!.join('\n'));
  assert.ok(lines(r)!.every((s) => s.startsWith('tc qdisc change ')), lines(r)!.join('\n'));
  // What the released slaves' delays hold leaves before they are closed, and the delays come back.
  const delayed = j.release.filter((g) => (without1.qdiscs.find((q) => q.dev === g)?.delayMs ?? 0) > 0);
  assert.ok(delayed.length > 0, 'lte2 is delayed: the test needs a delayed slave released');
  assert.deepEqual(r.drain.map((s) => formatStep(s)), delayed.map((g) => `tc qdisc change dev ${g} root handle 1: netem delay 0ms`));
  assert.equal(r.drainMs, Math.max(...delayed.map((g) => without1.qdiscs.find((q) => q.dev === g)!.delayMs!)) + 20);
  for (const g of delayed) {
    const want = all.qdiscs.find((q) => q.dev === g)!.delayMs;
    assert.ok(lines(r)!.includes(`tc qdisc change dev ${g} root handle 1: netem delay ${want}ms`), `${g} back to ${want} ms: ${lines(r)!.join('\n')}`);
  }

  // A link of one gretap comes back at the end of the round: nothing else moves.
  const without3 = plan({ ...links, lte3: { ...links.lte3, in_bond: false } });
  const r3 = inPlaceSteps(all, without3, kernel(all, new Set(gretapsOf(all, 'lte3'))));
  assert.deepEqual(r3?.joins, [{ bond: 'wbond', release: [], enslave: gretapsOf(all, 'lte3') }]);
  assert.deepEqual(r3?.drain, [], 'nothing released, nothing to drain');
});

test('a gretap the bond still holds (its release failed), one held elsewhere, a bond not as planned, or gretaps added: the reconcile', () => {
  const all = plan(links), without1 = plan({ ...links, lte1: { ...links.lte1, in_bond: false } });
  assert.equal(inPlaceSteps(without1, all, kernel(all)), null, 'not released');
  const g1 = gretapsOf(all, 'lte1');
  const joining = kernel(all, new Set(g1));
  assert.equal(inPlaceSteps(all, without1, { ...joining, masterOf: (g) => (g === g1[0] ? 'other' : joining.masterOf(g)) }), null, 'a joining gretap enslaved elsewhere');
  assert.equal(inPlaceSteps(all, without1, { ...joining, slavesOf: (b) => joining.slavesOf(b)!.slice(1) }), null, 'a slave missing from the bond');
  assert.equal(inPlaceSteps(all, without1, { ...joining, slavesOf: () => null }), null, 'the bond unreadable');
  assert.equal(inPlaceSteps(plan({ ...links, lte2: { ...links.lte2, paths: 3 } }), all, kernel(all)), null, 'a gretap more');
});

test('delays and rates retuned with the same links: changed in place', () => {
  const all = plan(links);
  const retuned = plan({ ...links, lte1: { ...links.lte1, extra_delay_ms: 40 }, lte3: { ...links.lte3, shape_kbit: 900 } });
  const steps = lines(inPlaceSteps(retuned, all, kernel(all)))!;
  assert.ok(steps.length > 0 && steps.every((s) => s.startsWith('tc qdisc change dev ')), steps.join('\n'));
  assert.ok(steps.some((s) => /^tc qdisc change dev wbg1p1 root handle 1: netem delay 40ms/.test(s)), steps.join('\n'));
  assert.ok(steps.some((s) => /^tc qdisc change dev wbond root handle 1: tbf rate \d+kbit/.test(s)), steps.join('\n'));
});

test('the planned chain is what diffing the plan against itself leaves alone (routers and concentrators)', () => {
  for (const p of [plan(links), plan({ ...links, lte2: { ...links.lte2, in_bond: false } })]) {
    for (const q of p.qdiscs) assert.deepEqual(qdiscSteps(q.dev, q, plannedChain(q.dev, q)), [], q.dev);
  }
  const conc = planConcentrator({
    config: {
      globals: { ...GLOBALS_DEFAULTS, enabled: true, role: 'concentrator' }, links: [], health: HEALTH_DEFAULTS, mqtt: MQTT_DEFAULTS,
      sites: [{ name: 'home', enabled: true, subnet: '10.213.7.0/24', mode: 'balance-rr', peers: [1, 2, 3].map((id) => ({ id, name: `lte${id}`, public_key: KEY(String.fromCharCode(64 + id)) })), lan: [] }],
    },
    steering: { links: Object.fromEntries(Object.entries(links).map(([k, v]) => [`home/${k}`, v])) },
  });
  const c = plannedClassed(conc.classed!);
  assert.deepEqual(classedSteps(conc.classed!, c.qdiscs, c.classes), []);
  for (const q of conc.qdiscs) assert.deepEqual(qdiscSteps(q.dev, q, plannedChain(q.dev, q)), [], q.dev);
});

test('a concentrator link leaving: its site\'s bond slows and the link classes are retuned in place', () => {
  const concPlan = (l: Record<string, Partial<LinkSteering>>) => planConcentrator({
    config: {
      globals: { ...GLOBALS_DEFAULTS, enabled: true, role: 'concentrator' }, links: [], health: HEALTH_DEFAULTS, mqtt: MQTT_DEFAULTS,
      sites: [{ name: 'home', enabled: true, subnet: '10.213.7.0/24', mode: 'balance-rr', peers: [1, 2, 3].map((id) => ({ id, name: `lte${id}`, public_key: KEY(String.fromCharCode(64 + id)) })), lan: [] }],
    },
    steering: { links: Object.fromEntries(Object.entries(l).map(([k, v]) => [`home/${k}`, v])) },
  });
  const all = concPlan(links), without1 = concPlan({ ...links, lte1: { ...links.lte1, in_bond: false } });
  const gone = new Set(gretapsOf(all, 'home/lte1'));
  const steps = lines(inPlaceSteps(without1, all, kernel(all, gone)));
  assert.ok(steps && steps.length > 0 && steps.every((s) => /^tc (qdisc change|class replace) /.test(s)), String(steps));
  assert.ok(steps.some((s) => /^tc qdisc change dev wbd507 root handle 1: tbf rate 2850kbit/.test(s)), steps.join('\n'));
});

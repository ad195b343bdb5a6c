import { test } from 'node:test';
import assert from 'node:assert/strict';
import { apportion, pathsFor, shareError } from '../../src/steer/paths.ts';
import { extraDelays, effectiveDelay } from '../../src/steer/delay.ts';
import { steer, sameSteering, type SteerInput } from '../../src/steer/steer.ts';
import { CapacityEstimator } from '../../src/steer/capacity.ts';

test('paths: gretaps in proportion to capacity, fewest that fit, bounded', () => {
  assert.deepEqual(pathsFor([4000, 2000, 1000]), [4, 2, 1]);
  assert.deepEqual(pathsFor([4000, 4000, 4000]), [1, 1, 1]);
  assert.deepEqual(pathsFor([6000, 3000, 1500]), [4, 2, 1]);
  const p = pathsFor([65000, 12000]);
  assert.ok(p.reduce((a, b) => a + b) <= 16);
  assert.ok(shareError([65000, 12000], p) <= 0.03, `${p}`);
  const many = pathsFor([100000, 1000, 1000, 1000, 1000, 1000, 1000, 1000], { maxTotal: 16 });
  assert.ok(many.reduce((a, b) => a + b) <= 16 && many.every((x) => x >= 1), `${many}`);
  assert.deepEqual(apportion([1, 1, 1], 3), [1, 1, 1]);
  assert.deepEqual(apportion([], 5), []);
});

test('delay: faster links get the difference in effective one-way delay, bounded', () => {
  // hetero-3: 15/30/60 ms at 4/2/1 Mbit/s: a 1400-byte packet adds 2.8/5.6/11.2 ms.
  assert.equal(Math.round(effectiveDelay({ owd_ms: 60, capacity_kbit: 1000 })), 71);
  assert.deepEqual(extraDelays([{ owd_ms: 15, capacity_kbit: 4000 }, { owd_ms: 30, capacity_kbit: 2000 }, { owd_ms: 60, capacity_kbit: 1000 }]), [53, 36, 0]);
  assert.deepEqual(extraDelays([{ owd_ms: 10, capacity_kbit: 0 }, { owd_ms: 500, capacity_kbit: 0 }], { maxExtraMs: 80 }), [80, 0]);
});

const hetero = (over: Partial<Record<string, Partial<SteerInput>>> = {}): SteerInput[] =>
  [
    { name: 'a', in_set: true, capacity_kbit: 4000, owd_ms: 15 },
    { name: 'b', in_set: true, capacity_kbit: 2000, owd_ms: 30 },
    { name: 'c', in_set: true, capacity_kbit: 1000, owd_ms: 60 },
  ].map((l) => ({ ...l, ...over[l.name] }));

test('steer: weights and equalises; a link leaving the set drops out of the delay target', () => {
  const s = steer(hetero()).steering;
  const common = { in_bond: true, shape_kbit: 0, rtt_ms: 120, express: false }; // no link's RTT known: no express link
  assert.deepEqual(s, { a: { ...common, paths: 4, extra_delay_ms: 53 }, b: { ...common, paths: 2, extra_delay_ms: 36 }, c: { ...common, paths: 1, extra_delay_ms: 0 } });
  const cut = steer(hetero({ c: { in_set: false } })).steering;
  assert.equal(cut.c!.in_bond, false);
  assert.equal(cut.c!.paths, 1, 'gretaps stay for its return');
  assert.equal(cut.a!.extra_delay_ms, 18);
  assert.equal(cut.b!.extra_delay_ms, 0);
});

test('steer: equalises by the peer\'s one-way delays where every carrying link has one', () => {
  // Half the round trip says 15 / 30 / 60; the peer measured this direction 3 ms longer on a
  // (offset by its clock: only differences count).
  const fwd = steer(hetero({ a: { fwd_ms: 1018 }, b: { fwd_ms: 1030 }, c: { fwd_ms: 1060 } })).steering;
  const half = steer(hetero()).steering;
  assert.equal(fwd.a!.extra_delay_ms, half.a!.extra_delay_ms - 3);
  assert.equal(fwd.b!.extra_delay_ms, half.b!.extra_delay_ms);
  // One link without: half round trips for all.
  assert.deepEqual(steer(hetero({ a: { fwd_ms: 1018 }, b: { fwd_ms: 1030 } })).steering, half);
});

test('steer: unknown capacity borrows the mean of the known; variants can be switched off', () => {
  const s = steer(hetero({ b: { capacity_kbit: null } })).steering;
  assert.ok(s.b!.paths >= 2);
  const plain = steer(hetero(), { weight: false, equalise: false }).steering;
  assert.ok(Object.values(plain).every((l) => l.paths === 1 && l.extra_delay_ms === 0));
});

test('steer: weighting that turns on later (the last capacity just measured) computes its gretaps then', () => {
  const off = steer(hetero(), { weight: false, equalise: false });
  assert.deepEqual(Object.values(off.steering).map((l) => l.paths), [1, 1, 1]);
  const on = steer(hetero(), {}, off);
  assert.deepEqual(Object.values(on.steering).map((l) => l.paths), [4, 2, 1]);
});

test('steer: measurement noise does not churn the kernel, real change does', () => {
  const first = steer(hetero());
  // Capacity within a fifth, delays within 2 ms: the extra delays move by less than the hysteresis.
  const noisy = steer(hetero({ a: { capacity_kbit: 4400, owd_ms: 15.5 }, c: { capacity_kbit: 950, owd_ms: 60.5 } }), {}, first);
  assert.ok(sameSteering(first.steering, noisy.steering), JSON.stringify(noisy.steering));
  const changed = steer(hetero({ a: { capacity_kbit: 1000 } }), {}, noisy);
  assert.notEqual(changed.steering.a!.paths, 4);
  const slower = steer(hetero({ c: { owd_ms: 90 } }), {}, first);
  assert.equal(slower.steering.a!.extra_delay_ms, 80, 'bounded');
  assert.equal(noisy.steering.a!.rtt_ms, 120, 'the bond\'s round trip holds through noise');
  assert.equal(slower.steering.a!.rtt_ms, 180, 'and follows a real change');
});

test('capacity: peak arrival rate, decaying when not matched', () => {
  const c = new CapacityEstimator({ sampleMs: 1000, halfLifeMs: 10_000 });
  let bytes = 0;
  c.sample(bytes, 0);
  for (let t = 1000; t <= 5000; t += 1000) c.sample((bytes += 500_000), t); // 4 Mbit/s
  assert.equal(c.estimate(5000), 4000);
  for (let t = 6000; t <= 15000; t += 1000) c.sample((bytes += 1000), t); // idle
  assert.equal(c.current, 8);
  assert.ok(Math.abs(c.estimate(15000) - 2000) < 10, `${c.estimate(15000)}`);
});

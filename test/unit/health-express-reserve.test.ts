// What a link's shaper leaves for the express traffic this end sends on it (src/health/express-reserve.ts).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ExpressReserve } from '../../src/health/express-reserve.ts';

/** A call: 50 packets a second of 188 bytes (IP) for `seconds`, counters sampled each second. */
function call(r: ExpressReserve, from: number, seconds: number, start = { bytes: 0, packets: 0 }) {
  const c = { ...start };
  for (let s = 0; s <= seconds; s++) {
    r.sample({ ...c }, from + s * 1000);
    c.bytes += 50 * 188;
    c.packets += 50;
  }
  return c;
}

test('a call on the link: its wire rate (GRE, WireGuard and modem headers counted) in 32 kbit/s steps', () => {
  const r = new ExpressReserve();
  assert.equal(r.kbit(0, 1900), 0, 'nothing measured yet');
  call(r, 0, 5);
  // 50 x (188 + 28 + 60 + 14) bytes x 8 = 116 kbit/s -> 128.
  assert.equal(r.kbit(5000, 1900), 128);
});

test('after the call the reservation decays (half-life 5 s) and is gone below 16 kbit/s; at most half the shaped rate', () => {
  const r = new ExpressReserve();
  const c = call(r, 0, 5);
  for (let s = 6; s <= 40; s++) r.sample(c, s * 1000);
  assert.equal(r.kbit(11_000, 1900), 64, 'five seconds after the last busy second: half the peak, rounded up');
  assert.equal(r.kbit(40_000, 1900), 0);
  const slow = new ExpressReserve();
  call(slow, 0, 5);
  assert.equal(slow.kbit(5000, 200), 100, 'a 200 kbit/s shaper keeps half for the bond');
});

test('a DNS query or a ping now and then reserves nothing; missing counters are skipped', () => {
  const r = new ExpressReserve();
  let c = { bytes: 0, packets: 0 };
  for (let s = 0; s <= 10; s++) {
    r.sample(s === 4 ? null : c, s * 1000);
    c = { bytes: c.bytes + 2 * 90, packets: c.packets + 2 };
  }
  assert.equal(r.kbit(10_000, 1900), 0);
});

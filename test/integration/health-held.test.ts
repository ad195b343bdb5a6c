// Two health monitors, a router's and a concentrator's, talking over real UDP on loopback
// addresses (each link's tunnel addresses): what one end takes out of its transmit set, the
// other follows, because a gretap out of a bond no longer receives.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { HealthMonitor, type MonitoredLink } from '../../src/health/monitor.ts';
import { HEALTH_DEFAULTS } from '../../src/config/defaults.ts';

const port = 20000 + Math.floor(Math.random() * 20000);
const link = (key: string, name: string, id: number, local: string, peer: string): MonitoredLink =>
  ({ key, name, id, local, peer, role: 'active', enabled: true, rx_devs: [] });

async function until(what: string, cond: () => boolean, ms = 5000): Promise<void> {
  const end = Date.now() + ms;
  while (!cond()) {
    if (Date.now() > end) assert.fail(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

test('a link the router disables leaves the concentrator’s transmit set too, and comes back with it', async (t) => {
  const health = { ...HEALTH_DEFAULTS, up: 3 };
  const fallback = { enabled: false, timeout_s: 30 };
  const router = new HealthMonitor({ role: 'router', health, fallback, port, startupGraceMs: 0 });
  const conc = new HealthMonitor({ role: 'concentrator', health, fallback, port, startupGraceMs: 0 });
  router.setLinks([link('a', 'a', 1, '127.0.77.1', '127.0.78.1'), link('b', 'b', 2, '127.0.77.2', '127.0.78.2')]);
  conc.setLinks([link('home/a', 'a', 1, '127.0.78.1', '127.0.77.1'), link('home/b', 'b', 2, '127.0.78.2', '127.0.77.2')]);
  t.after(() => { router.stop(); conc.stop(); });
  const concEvents: string[] = [];
  conc.on('link', (ev) => concEvents.push(`${ev.link} ${ev.from}->${ev.to}: ${ev.reason}`));
  router.start();
  conc.start();
  const inSet = (m: HealthMonitor, k: string) => m.steering().members.includes(k);
  const allUp = (m: HealthMonitor) => m.status().every((s) => s.status === 'up');
  await until('both links up at both ends', () => allUp(router) && allUp(conc), 10_000);

  router.setEnabled('b', false);
  await until('the concentrator to follow', () => !inSet(conc, 'home/b'), 2000);
  assert.equal(inSet(conc, 'home/a'), true);
  assert.equal(conc.steering().links['home/b']?.in_bond, false, 'its steering takes the link out of the bond');
  const st = conc.status().find((s) => s.key === 'home/b')!;
  assert.equal(st.status, 'down');
  assert.match(st.reason, /the router holds it out/);
  assert.ok(concEvents.some((e) => /^home\/b up->down: the router holds it out/.test(e)), concEvents.join('\n'));
  // The concentrator's own probes on b still succeed: it reports nothing held back.
  await new Promise((r) => setTimeout(r, 1200));
  assert.equal(inSet(router, 'a'), true, 'the router does not follow what the concentrator only follows');

  router.setEnabled('b', true);
  await until('the link back at the concentrator', () => inSet(conc, 'home/b'), 2000);
  assert.equal(conc.status().find((s) => s.key === 'home/b')!.status, 'up');
});

test('a change in the same tick as the second’s report is still taken (it is stamped later)', async (t) => {
  let now = 0;
  const clock = () => now;
  const health = { ...HEALTH_DEFAULTS, up: 3 };
  const fallback = { enabled: false, timeout_s: 30 };
  const p2 = port + 1;
  const router = new HealthMonitor({ role: 'router', health, fallback, port: p2, clock, startupGraceMs: 0 });
  const conc = new HealthMonitor({ role: 'concentrator', health, fallback, port: p2, clock, startupGraceMs: 0 });
  router.setLinks([link('a', 'a', 1, '127.0.79.1', '127.0.80.1'), link('b', 'b', 2, '127.0.79.2', '127.0.80.2')]);
  conc.setLinks([link('home/a', 'a', 1, '127.0.80.1', '127.0.79.1'), link('home/b', 'b', 2, '127.0.80.2', '127.0.79.2')]);
  t.after(() => { router.stop(); conc.stop(); });
  const step = async () => {
    now += 100;
    router.tick();
    conc.tick();
    await new Promise((r) => setTimeout(r, 30)); // the datagrams cross loopback between ticks
  };
  while (now < 2900) await step();
  assert.deepEqual(conc.status().map((s) => s.status), ['up', 'up'], 'both links up at the concentrator');
  // The router's next tick (now 3000) sends its second's report (nothing held) and then, deciding
  // after the link is disabled, the change: both in one tick, the report first.
  router.setEnabled('b', false);
  await step();
  await step();
  assert.equal(now, 3100);
  assert.ok(!conc.steering().members.includes('home/b'), 'the concentrator follows within a tick, not a second later');
});

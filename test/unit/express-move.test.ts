// When steering moves express, its routes move at once (src/agent/express-move.ts): pure lines for
// one `ip -batch`, from the last plan and the new steering.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { GLOBALS_DEFAULTS, HEALTH_DEFAULTS, MQTT_DEFAULTS } from '../../src/config/defaults.ts';
import type { Config, Link } from '../../src/config/types.ts';
import { planRouter } from '../../src/plan/index.ts';
import type { Steering } from '../../src/plan/index.ts';
import { expressMoves, withExpressRoutes, withoutExpress } from '../../src/agent/express-move.ts';

const link = (id: number): Link => ({ name: `lte${id}`, id, enabled: true, weight: 1, role: 'active', private_key_file: `/k/lte${id}.key`, interface: `wwan${id}` });
const config: Config = {
  globals: { ...GLOBALS_DEFAULTS, enabled: true, express_bytes: 256 },
  concentrator: { host: '203.0.113.10', port: 51820, public_key: 'C'.repeat(42) + 'A=', site: 'home', subnet: '10.213.7.0/24' },
  links: [link(1), link(2), link(3)], health: HEALTH_DEFAULTS, sites: [], mqtt: MQTT_DEFAULTS,
};
const runtime = Object.fromEntries([1, 2, 3].map((i) => [`lte${i}`, { name: `lte${i}`, up: true, device: `wan${i}`, gateway: `192.168.${i}.1`, mtu: 1500 }]));
const steering = (express: string | null, out: string[] = []): Steering =>
  ({ links: Object.fromEntries([1, 2, 3].map((i) => [`lte${i}`, { express: express === `lte${i}`, in_bond: !out.includes(`lte${i}`) }])) });
const plan = planRouter({ config, runtime, endpoint: '203.0.113.10', steering: steering('lte1') });

test('the plan routes express by the link steering chose', () => {
  assert.deepEqual(plan.routes.filter((r) => r.table === 5717), [{ table: 5717, dst: 'default', dev: 'wbx1' }]);
});

test('steering moves express to link 2: one route replaced onto wbx2', () => {
  assert.deepEqual(expressMoves(plan, steering('lte2')), { lines: ['route replace default dev wbx2 table 5717 proto 87'], routes: [{ table: 5717, dst: 'default', dev: 'wbx2' }] });
});

test('the same choice again: nothing to do', () => {
  assert.deepEqual(expressMoves(plan, steering('lte1')).lines, []);
});

test('the express link leaves the bond and no other is chosen yet: its route goes (express falls through to the bond)', () => {
  assert.deepEqual(expressMoves(plan, steering('lte1', ['lte1'])), { lines: ['route del default dev wbx1 table 5717 proto 87'], routes: [] });
  assert.deepEqual(expressMoves(plan, steering(null)).lines, ['route del default dev wbx1 table 5717 proto 87']);
});

test('status reads the moved routes until the next observe: the express table replaced, every other route kept', () => {
  const observed = [
    { table: '5717', dst: 'default', dev: 'wbx1', proto: '87' },
    { table: '5700', dst: 'default', via: '10.213.7.1', dev: 'wbond', proto: '87' },
    { table: '5717', dst: '192.0.2.0/24', dev: 'eth9', proto: 'static' },
  ];
  assert.deepEqual(withExpressRoutes(observed, expressMoves(plan, steering('lte3')).routes), [
    { table: '5700', dst: 'default', via: '10.213.7.1', dev: 'wbond', proto: '87' },
    { table: '5717', dst: '192.0.2.0/24', dev: 'eth9', proto: 'static' },
    { table: '5717', dst: 'default', dev: 'wbx3', proto: '87' },
  ]);
});

test('a decision that changes only the express link is told apart from one that changes anything else', () => {
  const a = steering('lte1');
  const b = steering('lte2');
  assert.deepEqual(withoutExpress(a), withoutExpress(b));
  assert.notDeepEqual(withoutExpress(a), withoutExpress(steering('lte2', ['lte3'])));
  assert.equal(a.links['lte1']!.express, true, 'the input is left as it was');
});

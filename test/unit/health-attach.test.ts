import { test } from 'node:test';
import assert from 'node:assert/strict';
import { GLOBALS_DEFAULTS, HEALTH_DEFAULTS, MQTT_DEFAULTS } from '../../src/config/defaults.ts';
import type { Config, Link } from '../../src/config/types.ts';
import type { Plan, PlanLink } from '../../src/plan/types.ts';
import { monitoredLinks } from '../../src/health/attach.ts';

const link = (name: string, id: number, extra: Partial<Link> = {}): Link => ({
  name, id, enabled: true, weight: 1, role: 'active', private_key_file: `/k/${name}`, ...extra,
});
const planWith = (links: PlanLink[]): Plan => ({
  role: 'router', links: [], addrs: [], routes: [], rules: [], wg: [], qdiscs: [], nft: null, forwarding: true, bonds: [], planLinks: links, warnings: [],
});

test('router: each planned link is probed from its tunnel address to the concentrator, with its rates and role', () => {
  const config: Config = {
    globals: { ...GLOBALS_DEFAULTS, enabled: true },
    concentrator: { host: '198.51.100.1', port: 51820, public_key: 'x'.repeat(43) + '=', site: 'home', subnet: '10.213.7.0/24' },
    links: [link('wan1', 1, { rate_down: 4000, rate_up: 1000 }), link('lte', 3, { role: 'backup' })],
    health: HEALTH_DEFAULTS, sites: [], mqtt: MQTT_DEFAULTS,
  };
  const plan = planWith([
    { key: 'wan1', name: 'wan1', id: 1, tunnel: 'wbl1', gretaps: ['wbg1p1', 'wbg1p2'], in_bond: true },
    { key: 'lte', name: 'lte', id: 3, tunnel: 'wbl3', gretaps: ['wbg3p1'], in_bond: false },
  ]);
  const m = monitoredLinks(config, plan);
  assert.deepEqual(m[0], {
    key: 'wan1', name: 'wan1', id: 1, local: '10.213.7.6', peer: '10.213.7.5', role: 'active', enabled: true,
    tx_rate_kbit: 1000, rx_rate_kbit: 4000, rx_devs: ['wbg1p1', 'wbg1p2'],
  });
  assert.equal(m[1]!.role, 'backup');
  assert.equal(m[1]!.local, '10.213.7.14');
  assert.equal(m[1]!.tx_rate_kbit, undefined);
});

test('concentrator: links keyed site/link, probed from the site tunnel addresses; unknown sites skipped', () => {
  const config: Config = {
    globals: { ...GLOBALS_DEFAULTS, enabled: true, role: 'concentrator' },
    links: [], health: HEALTH_DEFAULTS, mqtt: MQTT_DEFAULTS,
    sites: [{ name: 'home', enabled: true, subnet: '10.213.9.0/24', mode: 'balance-rr', peers: [], lan: [] }],
  };
  const plan = planWith([
    { key: 'home/wan2', site: 'home', name: 'wan2', id: 2, tunnel: 'wb0', gretaps: ['wb0709g2p1'], in_bond: true },
    { key: 'gone/wan1', site: 'gone', name: 'wan1', id: 1, tunnel: 'wb0', gretaps: [], in_bond: true },
  ]);
  const m = monitoredLinks(config, plan);
  assert.equal(m.length, 1);
  assert.equal(m[0]!.key, 'home/wan2');
  assert.equal(m[0]!.local, '10.213.9.9');
  assert.equal(m[0]!.peer, '10.213.9.10');
});

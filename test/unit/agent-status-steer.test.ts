// What the agent reports and asks of link health: bond membership in status comes from the
// kernel (the device's master), not from the last plan; weighting and delay equalisation only
// where the router's link rates are configured.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { GLOBALS_DEFAULTS, HEALTH_DEFAULTS, MQTT_DEFAULTS } from '../../src/config/defaults.ts';
import type { Config, Link, Site } from '../../src/config/types.ts';
import type { KernelState, KRoute } from '../../src/kernel/state.ts';
import { planConcentrator, planRouter } from '../../src/plan/index.ts';
import { buildStatus } from '../../src/agent/status.ts';
import { steerOptions } from '../../src/agent/wire.ts';
import type { LinkCapacity } from '../../src/status/types.ts';

const KEY = (c: string) => c.repeat(42) + 'A=';
const link = (id: number, extra: Partial<Link> = {}): Link => ({
  name: `lte${id}`, id, enabled: true, weight: 1, role: 'active', private_key_file: `/k/lte${id}.key`, device: `wan${id}`, gateway: `192.168.${id}.1`, ...extra,
});
const config = (links: Link[]): Config => ({
  globals: { ...GLOBALS_DEFAULTS, enabled: true },
  concentrator: { host: '203.0.113.10', port: 51820, public_key: KEY('C'), site: 'home', subnet: '10.213.7.0/24' },
  links, health: HEALTH_DEFAULTS, sites: [], mqtt: MQTT_DEFAULTS,
});

test('status: in_bond and bond.members are what the kernel has enslaved, whatever the plan says', () => {
  const cfg = config([link(1), link(2), link(3)]);
  const runtime = Object.fromEntries([1, 2, 3].map((i) => [`lte${i}`, { name: `lte${i}`, up: true, device: `wan${i}`, gateway: `192.168.${i}.1` }]));
  const plan = planRouter({ config: cfg, runtime, endpoint: '203.0.113.10' }); // wants all three in
  const kernel: Record<string, string | null> = { wbg1p1: null, wbg2p1: 'wbond', wbg3p1: 'wbond' }; // link 1 released
  const s = buildStatus({
    config: cfg, plan, state: undefined, runtime, adminOff: new Set(), memory: new Map(),
    health: [{ key: 'lte1', status: 'down', rtt_ms: null, jitter_ms: null, loss_pct: 100, since: 1, reason: 'cut' }],
    startedAt: Date.now(), version: 't', hostname: 'h', fallback: false, emit: () => {}, masterOf: (d) => kernel[d] ?? null,
  });
  assert.deepEqual(s.links.map((l) => [l.name, l.status, l.in_bond]), [['lte1', 'down', false], ['lte2', 'down', true], ['lte3', 'down', true]]);
  assert.deepEqual(s.bond.members, ['lte2', 'lte3']);
  kernel.wbg1p1 = 'wbond';
  kernel.wbg3p1 = 'other';
  const s2 = buildStatus({
    config: cfg, plan, state: undefined, runtime, adminOff: new Set(), memory: new Map(), health: [],
    startedAt: Date.now(), version: 't', hostname: 'h', fallback: false, emit: () => {}, masterOf: (d) => kernel[d] ?? null,
  });
  assert.deepEqual(s2.bond.members, ['lte1', 'lte2']);
});

const kernelWith = (routes: KRoute[]): KernelState => ({
  links: [], addrs: [], rules: [], routes, wg: [], qdiscs: [], nftTag: null, nftExists: false, firewall: 'nft', ipt: null, forwarding: true, wgKernel: true,
});

test('status: express is the link whose tunnel the kernel\'s express table routes into, whatever the plan says', () => {
  const cfg = config([link(1), link(2), link(3)]);
  const runtime = Object.fromEntries([1, 2, 3].map((i) => [`lte${i}`, { name: `lte${i}`, up: true, device: `wan${i}`, gateway: `192.168.${i}.1` }]));
  const plan = planRouter({ config: cfg, runtime, endpoint: '203.0.113.10', steering: { links: { lte1: { express: true } } } }); // wants lte1
  const express = (routes: KRoute[] | undefined) => buildStatus({
    config: cfg, plan, state: routes && kernelWith(routes), runtime, adminOff: new Set(), memory: new Map(), health: [],
    startedAt: Date.now(), version: 't', hostname: 'h', fallback: false, emit: () => {}, masterOf: () => null,
  }).links.map((l) => [l.name, l.express]);
  const route = (dev: string, over: Partial<KRoute> = {}): KRoute => ({ table: '5717', dst: 'default', dev, proto: '87', ...over });
  // the kernel still routes express by lte2 (the move has not happened yet)
  assert.deepEqual(express([route('wbx2'), { table: '5700', dst: 'default', via: '10.213.7.1', dev: 'wbond', proto: '87' }]), [['lte1', false], ['lte2', true], ['lte3', false]]);
  // not wanbond's (another protocol), not the express table, no device, no route at all, no kernel state yet: none
  assert.deepEqual(express([route('wbx1', { proto: 'boot' }), route('wbx2', { table: '5701' }), route('', { dev: undefined })]), [['lte1', false], ['lte2', false], ['lte3', false]]);
  assert.deepEqual(express([]).map(([, x]) => x), [false, false, false]);
  assert.deepEqual(express(undefined).map(([, x]) => x), [false, false, false]);
});

test('status: on the concentrator, express per site from the kernel\'s per-prefix routes', () => {
  const site = (name: string, subnet: string, ids: number[]): Site => ({
    name, enabled: true, subnet, mode: 'balance-rr', peers: ids.map((id) => ({ id, name: `l${id}`, public_key: KEY(String.fromCharCode(64 + id)) })), lan: [],
  });
  const cfg: Config = {
    globals: { ...GLOBALS_DEFAULTS, enabled: true, role: 'concentrator' }, links: [], health: HEALTH_DEFAULTS, mqtt: MQTT_DEFAULTS,
    sites: [site('home', '10.213.7.0/24', [1, 2]), site('shop', '10.213.8.0/24', [1])],
  };
  const plan = planConcentrator({ config: cfg, publicMtu: 1500 });
  const routes: KRoute[] = [
    { table: '5717', dst: '10.213.7.2/32', dev: 'wbd507x2', proto: '87' },
    { table: '5717', dst: '192.168.7.0/24', dev: 'wbd507x2', proto: '87' },
    { table: 'main', dst: '10.213.8.0/24', dev: 'wbd508x1', proto: 'kernel' },
  ];
  const s = buildStatus({
    config: cfg, plan, state: kernelWith(routes), runtime: {}, adminOff: new Set(), memory: new Map(), health: [],
    startedAt: Date.now(), version: 't', hostname: 'h', fallback: false, emit: () => {}, masterOf: () => null,
  });
  assert.deepEqual(s.links.map((l) => [l.name, l.express]), [['home/l1', false], ['home/l2', true], ['shop/l1', false]]);
});

test('steering options: the router weights and equalises (once capacities are known); the concentrator follows its paths; express only where on', () => {
  assert.deepEqual(steerOptions(config([link(1), link(2)])), { express: false });
  const conc: Config = { ...config([]), globals: { ...GLOBALS_DEFAULTS, enabled: true, role: 'concentrator' } };
  assert.deepEqual(steerOptions(conc), { weight: false, express: false });
  const on = config([link(1)]);
  assert.deepEqual(steerOptions({ ...on, globals: { ...on.globals, express_bytes: 256 } }), { express: true });
});

test('status: capacities and steering come from link health; without it, from the configured rates', () => {
  const cfg = config([link(1, { rate_down: 4000, rate_up: 1000 }), link(2)]);
  const runtime = Object.fromEntries([1, 2].map((i) => [`lte${i}`, { name: `lte${i}`, up: true, device: `wan${i}`, gateway: `192.168.${i}.1` }]));
  const plan = planRouter({ config: cfg, runtime, endpoint: '203.0.113.10' });
  const base = { config: cfg, plan, state: undefined, runtime, adminOff: new Set<string>(), startedAt: Date.now(), version: 't', hostname: 'h', fallback: false, emit: () => {}, masterOf: () => null };
  const view = (l: ReturnType<typeof buildStatus>['links'][number]) =>
    [l.name, l.capacity_down_kbit, l.capacity_down_source, l.capacity_up_kbit, l.capacity_up_source, l.gretaps, l.added_delay_ms, l.shaped_kbit];
  const plain = buildStatus({ ...base, memory: new Map(), health: [] });
  assert.deepEqual(plain.links.map(view), [['lte1', 4000, 'configured', 1000, 'configured', 1, 0, 0], ['lte2', null, null, null, null, 1, 0, 0]]);
  const h = (key: string, capacity: LinkCapacity, gretaps: number, delay: number, shaped: number) =>
    ({ key, status: 'up' as const, rtt_ms: 30, jitter_ms: 1, loss_pct: 0, since: 1, reason: 'ok', capacity, gretaps, added_delay_ms: delay, shaped_kbit: shaped });
  const steered = buildStatus({
    ...base, memory: new Map(),
    health: [
      h('lte1', { down_kbit: 4000, down_source: 'configured', up_kbit: 1000, up_source: 'configured' }, 4, 45, 950),
      h('lte2', { down_kbit: 1020, down_source: 'measured', up_kbit: null, up_source: null }, 1, 0, 0),
    ],
  });
  assert.deepEqual(steered.links.map(view), [['lte1', 4000, 'configured', 1000, 'configured', 4, 45, 950], ['lte2', 1020, 'measured', null, null, 1, 0, 0]]);
});

// Each bond's gretaps hand what they receive to the bond, enslaved or not: their ingress qdiscs
// point at the bond's tc block, whose one filter redirects to the bond (src/kernel/ingress-diff.ts).
// The filter's JSON is test/fixtures/kernel/router-block.json, as the lab's tc printed it.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { ingressSteps } from '../../src/kernel/ingress-diff.ts';
import { parseBlockFilter, parseQdiscs, type KernelState, type KQdisc } from '../../src/kernel/state.ts';
import { formatStep } from '../../src/kernel/step.ts';
import type { Plan } from '../../src/plan/types.ts';

const B = 0x77620000;
const plan = (gretaps: string[]): Plan => ({
  role: 'router', links: [], addrs: [], routes: [], rules: [], wg: [], qdiscs: [], nft: null, forwarding: true, planLinks: [], warnings: [],
  bonds: [{ name: 'wbond', mode: 'balance-rr', mtu: 1398, members: [], slaves: [], ingress: { block: B, gretaps } }],
});
const ingress = (dev: string, block?: number): KQdisc => ({ dev, kind: 'ingress', handle: 'ffff:', parent: 'ffff:fff1', root: false, ...(block !== undefined ? { block } : {}) });
const state = (qdiscs: KQdisc[], filter?: string): KernelState => ({
  links: [], addrs: [], rules: [], routes: [], wg: [], qdiscs, nftTag: null, nftExists: false, firewall: 'nft', ipt: null, forwarding: true, wgKernel: true,
  ...(filter !== undefined ? { blockFilters: { [B]: filter } } : {}),
});
const lines = (p: Plan, st: KernelState, fresh: string[] = []) => ingressSteps(p, st, new Set(fresh)).map(formatStep);
const FILTER = `tc filter replace block ${B} protocol all pref 1 handle 800::800 u32 match u32 0 0 action skbedit ptype host pipe action mirred ingress redirect dev wbond`;

test('the recorded filter reads back as a redirect to its bond; anything else as none', () => {
  assert.equal(parseBlockFilter(readFileSync(new URL('../fixtures/kernel/router-block.json', import.meta.url), 'utf8')), 'wbond');
  assert.equal(parseBlockFilter('[]'), '');
  // A redirect without skbedit would lose a released gretap's frames (addressed to the bond's MAC).
  assert.equal(parseBlockFilter(JSON.stringify([{ pref: 1, kind: 'u32', options: { actions: [{ kind: 'mirred', mirred_action: 'redirect', direction: 'ingress', to_dev: 'wbond' }] } }])), '');
  assert.equal(parseQdiscs(JSON.stringify([{ kind: 'ingress', handle: 'ffff:', dev: 'wbg1p1', parent: 'ffff:fff1', ingress_block: B, options: {} }]))[0]!.block, B);
});

test('new gretaps: each ingress qdisc on the block, then the filter', () => {
  assert.deepEqual(lines(plan(['wbg1p1', 'wbg2p1']), state([]), ['wbg1p1', 'wbg2p1']), [
    `tc qdisc add dev wbg1p1 ingress_block ${B} ingress`,
    `tc qdisc add dev wbg2p1 ingress_block ${B} ingress`,
    FILTER,
  ]);
});

test('in place: nothing; a missing filter or qdisc is added, a foreign ingress replaced', () => {
  const have = [ingress('wbg1p1', B), ingress('wbg2p1', B)];
  assert.deepEqual(lines(plan(['wbg1p1', 'wbg2p1']), state(have, 'wbond')), []);
  assert.deepEqual(lines(plan(['wbg1p1', 'wbg2p1']), state(have, '')), [FILTER]);
  assert.deepEqual(lines(plan(['wbg1p1', 'wbg2p1', 'wbg3p1']), state(have, 'wbond')), [`tc qdisc add dev wbg3p1 ingress_block ${B} ingress`]);
  assert.deepEqual(lines(plan(['wbg1p1', 'wbg2p1']), state([ingress('wbg1p1', B), ingress('wbg2p1')], 'wbond')), [
    'tc qdisc del dev wbg2p1 ingress',
    `tc qdisc add dev wbg2p1 ingress_block ${B} ingress`,
  ]);
});

test('every gretap recreated: the block went with them, so its filter is added again whatever was read before', () => {
  const have = [ingress('wbg1p1', B)];
  assert.deepEqual(lines(plan(['wbg1p1']), state(have, 'wbond'), ['wbg1p1']), [`tc qdisc add dev wbg1p1 ingress_block ${B} ingress`, FILTER]);
});

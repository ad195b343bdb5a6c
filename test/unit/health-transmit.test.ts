import { test } from 'node:test';
import assert from 'node:assert/strict';
import { transmitSet, transmitSetByGroup, type LinkView } from '../../src/health/transmit-set.ts';
import { FallbackTracker } from '../../src/health/fallback.ts';

const L = (name: string, health: LinkView['health'], role: LinkView['role'] = 'active', enabled = true): LinkView => ({ name, health, role, enabled });

test('transmit set: up active links carry; down, degraded and disabled ones do not', () => {
  const d = transmitSet([L('a', 'up'), L('b', 'down'), L('c', 'degraded'), L('d', 'up', 'active', false)]);
  assert.deepEqual(d.members, ['a']);
  assert.deepEqual(d.states, { a: 'up', b: 'down', c: 'degraded', d: 'disabled' });
});

test('transmit set: a backup link carries only when no active link is up', () => {
  let d = transmitSet([L('a', 'up'), L('bk', 'up', 'backup')]);
  assert.deepEqual(d.members, ['a']);
  assert.equal(d.states.bk, 'backup');
  d = transmitSet([L('a', 'down'), L('bk', 'up', 'backup')]);
  assert.deepEqual(d.members, ['bk']);
  assert.equal(d.states.bk, 'up');
  assert.match(d.reason, /backup/);
  d = transmitSet([L('a', 'down'), L('bk', 'down', 'backup')]);
  assert.deepEqual(d.members, ['a'], 'nothing answers: the active links stay in');
  assert.equal(d.answering, 0);
  assert.equal(d.states.bk, 'down');
});

test('transmit set: with nothing up, degraded links carry rather than an empty bond', () => {
  const d = transmitSet([L('a', 'degraded'), L('b', 'down'), L('bk', 'degraded', 'backup')]);
  assert.deepEqual(d.members, ['a', 'bk']);
  assert.equal(d.answering, 2);
});

test('transmit set: silence on every link keeps them all in, but counts no answering link', () => {
  const d = transmitSet([L('a', 'down'), L('b', 'down'), L('c', 'up', 'active', false)]);
  assert.deepEqual(d.members, ['a', 'b']);
  assert.equal(d.answering, 0);
  assert.match(d.reason, /no link answers/);
  assert.equal(d.states.a, 'down');
});

test('transmit set by group: one site’s up links do not keep another site off its backup', () => {
  const links = [
    { ...L('home/a', 'down'), group: 'home' }, { ...L('home/bk', 'up', 'backup'), group: 'home' },
    { ...L('boat/a', 'up'), group: 'boat' }, { ...L('boat/bk', 'up', 'backup'), group: 'boat' },
  ];
  const d = transmitSetByGroup(links);
  assert.deepEqual(d.members.sort(), ['boat/a', 'home/bk']);
  assert.equal(d.states['boat/bk'], 'backup');
  assert.equal(d.states['home/bk'], 'up');
  assert.equal(d.answering, 3);
  assert.deepEqual(transmitSet(links).members, ['boat/a'], 'decided together, home would lose its backup');
});

test('fallback: only after every tunnel is down for the timeout, and back as soon as one returns', () => {
  const f = new FallbackTracker(true, 30_000, 0);
  assert.equal(f.update(2, 1000), null);
  assert.equal(f.update(0, 2000), null);
  assert.equal(f.update(0, 31_000), null, '29 s: not yet');
  const on = f.update(0, 32_001);
  assert.equal(on?.fallback, true);
  assert.match(on!.reason, /every tunnel down/);
  assert.equal(f.update(0, 40_000), null, 'no repeated decision');
  const off = f.update(1, 41_000);
  assert.equal(off?.fallback, false);
  // A short outage resets the clock.
  f.update(0, 50_000);
  f.update(1, 60_000);
  assert.equal(f.update(0, 85_000), null);
  assert.equal(f.update(0, 89_999), null);
});

test('fallback: disabled in config never triggers', () => {
  const f = new FallbackTracker(false, 1000, 0);
  f.update(0, 0);
  assert.equal(f.update(0, 100_000), null);
  assert.equal(f.decision.fallback, false);
});

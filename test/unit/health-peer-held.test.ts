import { test } from 'node:test';
import assert from 'node:assert/strict';
import { heldByJudgement, PeerHeld, PEER_HELD_TTL_MS } from '../../src/health/peer-held.ts';
import { transmitSet, transmitSetByGroup, type LinkView } from '../../src/health/transmit-set.ts';
import { decodeMessage, encodeMessage } from '../../src/health/probe-message.ts';

const L = (name: string, health: LinkView['health'], role: LinkView['role'] = 'active', enabled = true): LinkView => ({ name, health, role, enabled });

test('held by judgement: down, degraded-out and disabled links; not a waiting backup, not links kept in because nothing answers', () => {
  assert.deepEqual(heldByJudgement(transmitSet([L('a', 'up'), L('b', 'down'), L('c', 'degraded'), L('d', 'up', 'active', false), L('bk', 'up', 'backup')])), ['b', 'c', 'd']);
  assert.deepEqual(heldByJudgement(transmitSet([L('a', 'down'), L('b', 'down')])), [], 'nothing answers: every link stays in, none held');
  assert.deepEqual(heldByJudgement(transmitSet([L('a', 'degraded'), L('b', 'down')])), ['b'], 'degraded links carry when nothing is up');
  assert.deepEqual(heldByJudgement(transmitSet([L('a', 'down'), L('bk', 'up', 'backup')])), ['a'], 'the backup carries: the active link is held');
});

test('peer held: the latest report by the peer clock wins; reports that crossed are dropped; silence forgets', () => {
  const p = new PeerHeld();
  assert.equal(p.holds('', 2, 0), false, 'nothing reported: nothing held');
  assert.equal(p.accept('', 1000, [2], 0), true);
  assert.equal(p.holds('', 2, 10), true);
  assert.equal(p.holds('', 1, 10), false);
  assert.equal(p.accept('', 1100, [], 20), true, 'the change, over a fast link');
  assert.equal(p.accept('', 1000, [2], 60), false, 'the older report, over a slow link, arrives after it');
  assert.equal(p.holds('', 2, 70), false);
  assert.equal(p.accept('', 1200, [3], 100), true);
  assert.equal(p.holds('', 3, 100 + PEER_HELD_TTL_MS - 1), true);
  assert.equal(p.holds('', 3, 100 + PEER_HELD_TTL_MS), false, 'not refreshed: forgotten');
  assert.equal(p.accept('', 5, [1], 100 + PEER_HELD_TTL_MS), true, 'a restarted peer (its clock from zero) is heard once the old report lapsed');
  assert.equal(p.holds('', 1, 100 + PEER_HELD_TTL_MS), true);
});

test('peer held: each group (a concentrator site) has its own report', () => {
  const p = new PeerHeld();
  p.accept('home', 50, [1], 0);
  p.accept('boat', 10, [2], 0);
  assert.equal(p.holds('home', 1, 1), true);
  assert.equal(p.holds('boat', 1, 1), false);
  assert.equal(p.holds('boat', 2, 1), true);
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

test('held message: validated like every other', () => {
  const ok = decodeMessage(encodeMessage({ v: 1, t: 'held', link: 1, at: 12.5, ids: [2, 3] }));
  assert.equal(ok.ok, true);
  for (const bad of [{ v: 1, t: 'held', link: 1, at: 1, ids: [0] }, { v: 1, t: 'held', link: 1, at: -1, ids: [] }, { v: 1, t: 'held', link: 1, at: 1, ids: Array(17).fill(1) }, { v: 1, t: 'held', link: 1, ids: [] }]) {
    assert.equal(decodeMessage(Buffer.from(JSON.stringify(bad))).ok, false, JSON.stringify(bad));
  }
});

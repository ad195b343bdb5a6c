import { test } from 'node:test';
import assert from 'node:assert/strict';
import { transmitSet, transmitSetByGroup, type LinkView } from '../../src/health/transmit-set.ts';

const L = (name: string, health: LinkView['health'], role: LinkView['role'] = 'active', enabled = true): LinkView => ({ name, health, role, enabled });

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

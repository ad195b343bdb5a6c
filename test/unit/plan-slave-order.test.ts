import { test } from 'node:test';
import assert from 'node:assert/strict';
import { enslaveOrder, interleave, slaveOrder, unevenness } from '../../src/plan/slave-order.ts';

test('each link appears as often as its paths, spread over the round', () => {
  assert.deepEqual(interleave([4, 2, 1]), [0, 1, 0, 2, 0, 1, 0]);
  assert.deepEqual(interleave([1, 1, 1]), [0, 1, 2]);
  assert.deepEqual(interleave([1, 3]), [1, 0, 1, 1]);
  assert.deepEqual(interleave([2, 0, 2]), [0, 2, 0, 2]);
  assert.deepEqual(interleave([]), []);
  // No link gets two packets in a row while another still waits, over any mix up to 8 paths.
  for (let a = 1; a <= 8; a++) {
    for (let b = 1; b <= a; b++) {
      const seq = interleave([a, b]);
      assert.equal(seq.filter((i) => i === 0).length, a);
      const longest = Math.max(...seq.join('').split('1').map((r) => r.length));
      assert.ok(longest <= Math.ceil(a / b), `${a}/${b}: ${seq.join('')}`);
    }
  }
});

test('gretap names in enslave order, each link\'s in key order', () => {
  assert.deepEqual(slaveOrder([['a1', 'a2', 'a3', 'a4'], ['b1', 'b2'], ['c1']]), ['a1', 'b1', 'a2', 'c1', 'a3', 'b2', 'a4']);
  assert.deepEqual(slaveOrder([]), []);
});

test('a round is as even as it gets when each link\'s gaps differ by one at most', () => {
  assert.equal(unevenness(['1', '2', '1', '3', '1', '2', '1']), 1);
  assert.equal(unevenness(['1', '1', '1', '1', '2', '2', '3']), 5); // 2's gaps: 1 and 6
  assert.equal(unevenness(['1', '3', '2']), 0);
});

test('entering slaves are appended when that keeps the round even, else the ones out of place go behind', () => {
  const linkOf = (g: string) => g[0]!;
  const planned = ['a1', 'b1', 'a2', 'c1', 'a3', 'b2', 'a4'];
  // c comes back (one gretap): appended, nothing released.
  assert.deepEqual(enslaveOrder(planned, linkOf, ['a1', 'b1', 'a2', 'a3', 'b2', 'a4'], new Set(['c1'])), { release: [], enslave: ['c1'] });
  // a comes back (four gretaps) behind b and c: b2 and c1 stand where a's belong.
  assert.deepEqual(enslaveOrder(planned, linkOf, ['b1', 'c1', 'b2'], new Set(['a1', 'a2', 'a3', 'a4'])), {
    release: ['b1', 'c1', 'b2'],
    enslave: ['a1', 'b1', 'a2', 'c1', 'a3', 'b2', 'a4'],
  });
  // Which gretap of a link takes a place does not matter: a1 first in the kernel is a's place.
  assert.deepEqual(enslaveOrder(planned, linkOf, ['a2', 'b1'], new Set(['a1', 'c1', 'a3', 'b2', 'a4'])), { release: [], enslave: ['a1', 'c1', 'a3', 'b2', 'a4'] });
  // A link of one gretap coming back is appended: as even as the planned round, for every mix of
  // three links up to 8 gretaps each.
  for (let a = 1; a <= 8; a++) {
    for (let b = 1; b <= 8; b++) {
      const full = interleave([a, b, 1]).map(String);
      assert.ok(unevenness([...full.filter((x) => x !== '2'), '2']) <= unevenness(full), `${a}/${b}/1`);
    }
  }
  // A fresh bond: the planned order.
  assert.deepEqual(enslaveOrder(planned, linkOf, [], new Set(planned)), { release: [], enslave: planned });
});

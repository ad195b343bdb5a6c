// The concentrator's per-link shapers on wb0: HTB, one class per link, fq_codel under each. The
// fixtures are the lab kernel's (6.1, iproute2 6.1) `tc -j qdisc show` and `tc class show dev wb0`
// for classes 1:10, 1:11, 1:12 at 3800, 1900 and 950 kbit/s with overhead 82.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { classedSteps } from '../../src/kernel/class-diff.ts';
import { parseClasses, parseQdiscs } from '../../src/kernel/state.ts';
import { formatStep } from '../../src/kernel/step.ts';
import { linkShape } from '../../src/plan/shaping.ts';
import type { ClassedShaper } from '../../src/plan/types.ts';

const qdiscs = parseQdiscs(readFileSync(new URL('../fixtures/kernel/link-shapers-qdisc.json', import.meta.url), 'utf8')).filter((q) => q.dev === 'wb0');
const classes = parseClasses('wb0', readFileSync(new URL('../fixtures/kernel/wb0-classes.txt', import.meta.url), 'utf8'));
const shape = (kbit: number, targetMs: number) => ({ ...linkShape(kbit), burstBytes: 3044, targetMs, intervalMs: 100 + targetMs - 5 });
const want = (extra: Partial<Record<number, ReturnType<typeof shape> | null>> = {}): ClassedShaper => ({
  dev: 'wb0',
  classes: ([[0x10, shape(3800, 10)], [0x11, shape(1900, 15)], [0x12, shape(950, 18)]] as const)
    .map(([minor, s]) => ({ minor, dst: `10.213.1.${minor}`, shape: extra[minor] === undefined ? s : extra[minor]! }))
    .filter((c) => c.shape !== null) as ClassedShaper['classes'],
});
const lines = (w: ClassedShaper, q = qdiscs, k = classes) => classedSteps(w, q, k).map(formatStep);

test('tc class show: class id, rate in kbit/s and overhead', () => {
  assert.deepEqual(classes.map((c) => [c.classid, c.rateKbit, c.overhead]).sort(), [['1:10', 3800, 82], ['1:11', 1900, 82], ['1:12', 950, 82]]);
  assert.deepEqual(parseClasses('wb0', 'class htb 1:20 root prio 0 rate 2Mbit ceil 2Mbit burst 1600b cburst 1600b\nclass htb 1:21 root rate 500bit ceil 500bit\n'), [
    { dev: 'wb0', classid: '1:20', rateKbit: 2000, overhead: 0 }, { dev: 'wb0', classid: '1:21', rateKbit: 1, overhead: 0 },
  ]);
});

test('what is there is left alone', () => {
  assert.deepEqual(lines(want()), []);
});

test('a changed rate or CoDel target is replaced in place; a gone link loses its class; a new one gets one', () => {
  assert.deepEqual(lines(want({ 0x11: shape(1000, 15) })), ['tc class replace dev wb0 parent 1: classid 1:11 htb rate 1000kbit burst 3044 overhead 82']);
  assert.deepEqual(lines(want({ 0x12: shape(950, 30) })), ['tc qdisc replace dev wb0 parent 1:12 handle 12: fq_codel target 30ms interval 125ms']);
  assert.deepEqual(lines(want({ 0x12: null })), ['tc class del dev wb0 classid 1:12']);
  const more = want();
  more.classes.push({ minor: 0x13, dst: '10.213.2.2', shape: shape(500, 20) });
  assert.deepEqual(lines(more), [
    'tc class replace dev wb0 parent 1: classid 1:13 htb rate 500kbit burst 3044 overhead 82',
    'tc qdisc replace dev wb0 parent 1:13 handle 13: fq_codel target 20ms interval 115ms',
  ]);
});

test('no root, or one not ours: built whole, unclassified traffic unshaped with a real queue', () => {
  const built = [
    'tc qdisc replace dev wb0 root handle 1: htb default 0 direct_qlen 1000',
    'tc class replace dev wb0 parent 1: classid 1:10 htb rate 3800kbit burst 3044 overhead 82',
    'tc qdisc replace dev wb0 parent 1:10 handle 10: fq_codel target 10ms interval 105ms',
  ];
  const one: ClassedShaper = { dev: 'wb0', classes: [want().classes[0]!] };
  assert.deepEqual(lines(one, [], []), built);
  const foreign = [{ dev: 'wb0', kind: 'htb', handle: '1:', root: true, htbDefault: 1 }];
  assert.deepEqual(lines(one, foreign, classes), ['tc qdisc del dev wb0 root', ...built], 'an HTB with a default class is rebuilt');
});

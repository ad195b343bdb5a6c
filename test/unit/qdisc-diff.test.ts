// Qdiscs on a gretap: delay, then tbf + fq_codel. The fixture is `tc -j qdisc show` as the lab
// kernel (6.1) printed it for netem delay 30ms -> tbf 950kbit overhead 110 -> fq_codel target 18ms.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { qdiscSteps } from '../../src/kernel/qdisc-diff.ts';
import { parseQdiscs } from '../../src/kernel/state.ts';
import { formatStep } from '../../src/kernel/step.ts';
import { gretapShape } from '../../src/plan/shaping.ts';

const have = parseQdiscs(readFileSync(new URL('../fixtures/kernel/shaped-qdisc.json', import.meta.url), 'utf8'));
const on = (dev: string) => have.filter((q) => q.dev === dev);
const lines = (dev: string, want: Parameters<typeof qdiscSteps>[1]) => qdiscSteps(dev, want, on(dev)).map(formatStep);
const shape = { ...gretapShape(950, 1), targetMs: 18, intervalMs: 113 };

test('tc -j qdisc show: the chain with its rate (bytes/s), delay (s) and target (us) in our units', () => {
  assert.deepEqual(on('wbg1p1').map((q) => [q.kind, q.handle, q.parent ?? 'root', q.delayMs ?? q.rateKbit ?? q.targetMs]), [
    ['netem', '1:', 'root', 30], ['tbf', '2:', '1:1', 950], ['fq_codel', '3:', '2:1', 18],
  ]);
  assert.equal(on('wbg1p1')[1]!.overhead, 110);
});

test('shaper: overhead counts GRE, WireGuard and the modem frame; slow links get a longer CoDel target', () => {
  const fast = gretapShape(4000, 4);
  assert.equal(fast.rateKbit, 1000);
  assert.equal(fast.overheadBytes, 28 + 60 + 8 + 14);
  assert.equal(gretapShape(4000, 4, { ipv6Endpoint: true }).overheadBytes, 28 + 80 + 8 + 14);
  assert.ok(fast.targetMs > 5 && fast.targetMs < 25, String(fast.targetMs));
  assert.equal(gretapShape(100_000, 1).targetMs, 5);
  const slow = gretapShape(250, 1);
  assert.ok(slow.targetMs > 60 && slow.intervalMs === 100 + slow.targetMs - 5);
  assert.ok(slow.burstBytes >= 2 * 1500);
  const long = gretapShape(4000, 4, { rttMs: 160 });
  assert.equal(long.targetMs, 40, 'a bond with a 160 ms round trip: CoDel keeps a quarter of it');
  assert.equal(long.intervalMs, 160 + 40);
  // A full frame is the bond's MTU plus the inner Ethernet: a smaller bond (WireGuard over IPv6,
  // or a configured mtu) has a shorter packet time, so a slow link's CoDel target is shorter too.
  const small = gretapShape(250, 1, { bondMtu: 1280 });
  assert.equal(small.burstBytes, 2 * (1280 + 14 + small.overheadBytes));
  assert.equal(slow.burstBytes, 2 * (1398 + 14 + slow.overheadBytes));
  assert.ok(small.targetMs < slow.targetMs, `${small.targetMs} < ${slow.targetMs}`);
});

test('what is there is left alone', () => {
  assert.deepEqual(lines('wbg1p1', { dev: 'wbg1p1', delayMs: 30, shape }), []);
  assert.deepEqual(lines('wbg1p1', { dev: 'wbg1p1', delayMs: 30, shape: { ...shape, rateKbit: 955 } }), [], 'tc rounds rates');
  assert.deepEqual(lines('wbg2p1', undefined), [], 'the default qdisc is not ours');
});

test('a new delay is one change; the shaper and its queue stay', () => {
  assert.deepEqual(lines('wbg1p1', { dev: 'wbg1p1', delayMs: 12, shape }), ['tc qdisc change dev wbg1p1 root handle 1: netem delay 12ms']);
});

test('changed parameters are changed in place; other kinds rebuild the chain; nothing wanted removes it', () => {
  assert.deepEqual(lines('wbg1p1', { dev: 'wbg1p1', delayMs: 0, shape }), ['tc qdisc change dev wbg1p1 root handle 1: netem delay 0ms'], 'no delay: netem stays, at 0');
  assert.deepEqual(lines('wbg1p1', { dev: 'wbg1p1', delayMs: 30, shape: { ...shape, targetMs: 40 } }), [
    'tc qdisc change dev wbg1p1 parent 2:1 handle 3: fq_codel target 40ms interval 113ms',
  ], 'a new CoDel target in place');
  assert.deepEqual(lines('wbg1p1', { dev: 'wbg1p1', delayMs: 10, shape: { ...shape, rateKbit: 500 } }), [
    'tc qdisc change dev wbg1p1 root handle 1: netem delay 10ms',
    'tc qdisc change dev wbg1p1 parent 1:1 handle 2: tbf rate 500kbit burst 3044 latency 300ms overhead 110',
  ]);
  assert.deepEqual(lines('wbg2p1', { dev: 'wbg2p1', delayMs: 20, shape }), [
    'tc qdisc replace dev wbg2p1 root handle 1: netem delay 20ms',
    'tc qdisc replace dev wbg2p1 parent 1:1 handle 2: tbf rate 950kbit burst 3044 latency 300ms overhead 110',
    'tc qdisc replace dev wbg2p1 parent 2:1 handle 3: fq_codel target 18ms interval 113ms',
  ]);
  const delayOnly = on('wbg1p1').filter((q) => q.kind === 'netem');
  assert.deepEqual(qdiscSteps('wbg1p1', { dev: 'wbg1p1', delayMs: 30, shape }, delayOnly).map(formatStep), [
    'tc qdisc del dev wbg1p1 root',
    'tc qdisc replace dev wbg1p1 root handle 1: netem delay 30ms',
    'tc qdisc replace dev wbg1p1 parent 1:1 handle 2: tbf rate 950kbit burst 3044 latency 300ms overhead 110',
    'tc qdisc replace dev wbg1p1 parent 2:1 handle 3: fq_codel target 18ms interval 113ms',
  ], 'shaping added under a delay-only netem: rebuilt');
  assert.deepEqual(lines('wbg1p1', undefined), ['tc qdisc del dev wbg1p1 root']);
});

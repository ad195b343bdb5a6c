// Qdiscs on one device: a gretap's delay (netem), a router tunnel's shaper (tbf + fq_codel). The
// fixtures are `tc -j qdisc show` as the lab kernel (6.1) printed it: shaped-qdisc.json for the
// chain older wanbond put on each gretap (netem delay 30ms -> tbf 950kbit overhead 110 -> fq_codel
// target 18ms), link-shapers-qdisc.json for the shaper on a router tunnel (wbl1) before tbf had a
// peak bucket, and the concentrator's classes (wb0, see class-diff.test.ts), bond-shaper-qdisc.json
// for today's shaper on a bond (tbf with its peak bucket, `minburst`, then fq_codel).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { qdiscSteps } from '../../src/kernel/qdisc-diff.ts';
import { parseQdiscs } from '../../src/kernel/state.ts';
import { formatStep } from '../../src/kernel/step.ts';
import { bondShape, linkShape } from '../../src/plan/shaping.ts';

const have = [
  ...parseQdiscs(readFileSync(new URL('../fixtures/kernel/shaped-qdisc.json', import.meta.url), 'utf8')),
  ...parseQdiscs(readFileSync(new URL('../fixtures/kernel/link-shapers-qdisc.json', import.meta.url), 'utf8')),
  ...parseQdiscs(readFileSync(new URL('../fixtures/kernel/bond-shaper-qdisc.json', import.meta.url), 'utf8')),
];
const on = (dev: string) => have.filter((q) => q.dev === dev);
const lines = (dev: string, want: Parameters<typeof qdiscSteps>[1]) => qdiscSteps(dev, want, on(dev)).map(formatStep);
const shape = { ...linkShape(950), overheadBytes: 110, burstBytes: 3044, targetMs: 18, intervalMs: 113 };
const tunnelShape = { ...linkShape(950), burstBytes: 3044, targetMs: 18, intervalMs: 113 };

test('tc -j qdisc show: the chain with its rate (bytes/s), delay (s) and target (us) in our units', () => {
  assert.deepEqual(on('wbg1p1').map((q) => [q.kind, q.handle, q.parent ?? 'root', q.delayMs ?? q.rateKbit ?? q.targetMs]), [
    ['netem', '1:', 'root', 30], ['tbf', '2:', '1:1', 950], ['fq_codel', '3:', '2:1', 18],
  ]);
  assert.equal(on('wbg1p1')[1]!.overhead, 110);
  assert.deepEqual(on('wbl1').map((q) => [q.kind, q.handle, q.parent ?? 'root', q.rateKbit ?? q.targetMs]), [['tbf', '1:', 'root', 950], ['fq_codel', '2:', '1:1', 18]]);
  assert.equal(on('wb0').find((q) => q.root)!.htbDefault, 0);
});

test('shaper: a full packet at the tunnel is the bond MTU plus the gretap; it grows by WireGuard and the modem frame', () => {
  const fast = linkShape(4000);
  assert.equal(fast.rateKbit, 4000);
  assert.equal(fast.overheadBytes, 60 + 8 + 14);
  assert.equal(linkShape(4000, { ipv6Endpoint: true }).overheadBytes, 80 + 8 + 14);
  assert.ok(fast.targetMs >= 5 && fast.targetMs < 10, String(fast.targetMs));
  assert.equal(linkShape(100_000).targetMs, 5);
  const slow = linkShape(250);
  assert.ok(slow.targetMs > 60 && slow.intervalMs === 100 + slow.targetMs - 5);
  assert.ok(slow.burstBytes >= 2 * 1500);
  const long = linkShape(4000, { rttMs: 160 });
  assert.equal(long.targetMs, 40, 'a bond with a 160 ms round trip: CoDel keeps a quarter of it');
  assert.equal(long.intervalMs, 160 + 40);
  // A smaller bond (WireGuard over IPv6, or a configured mtu) has a shorter packet time, so a
  // slow link's CoDel target is shorter too.
  const small = linkShape(250, { bondMtu: 1280 });
  assert.equal(small.burstBytes, 2 * (1280 + 42 + small.overheadBytes));
  assert.equal(slow.burstBytes, 2 * (1398 + 42 + slow.overheadBytes));
  assert.ok(small.targetMs < slow.targetMs, `${small.targetMs} < ${slow.targetMs}`);
  // Four gretaps: one flow is four in fq_codel, each drained at a quarter of the rate.
  const four = linkShape(4000, { paths: 4 });
  assert.equal(four.targetMs, Math.ceil(1.5 * ((1398 + 42 + 82) * 8 * 4) / 4000));
  assert.equal(four.rateKbit, 4000);
  assert.equal(four.burstBytes, fast.burstBytes, 'the bucket is the link\'s');
});

test('a router tunnel: its shaper is changed in place, built, or removed', () => {
  // The fixture's tbf has no peak bucket (older wanbond): it gains one in place, its queue stays.
  assert.deepEqual(lines('wbl1', { dev: 'wbl1', shape: tunnelShape }), [
    'tc qdisc change dev wbl1 root handle 1: tbf rate 950kbit burst 3044 mtu 1504 peakrate 1900kbit latency 300ms overhead 82',
  ]);
  assert.deepEqual(lines('wbl2', { dev: 'wbl2', shape: tunnelShape }), [
    'tc qdisc replace dev wbl2 root handle 1: tbf rate 950kbit burst 3044 mtu 1504 peakrate 1900kbit latency 300ms overhead 82',
    'tc qdisc replace dev wbl2 parent 1:1 handle 2: fq_codel target 18ms interval 113ms',
  ]);
  assert.deepEqual(lines('wbl1', undefined), ['tc qdisc del dev wbl1 root'], 'shaping 0');
});

test('a bond\'s shaper: one packet in tbf\'s peak bucket, so GSO batches are split and counted packet by packet', () => {
  // As the lab kernel printed it for `tbf rate 6650kbit burst 4156 mtu 1476 peakrate 13300kbit
  // latency 300ms overhead 110` > `fq_codel target 38ms interval 188ms` on a bond: the target of
  // a bond whose round trip is 38 ms.
  const want = { ...bondShape(6650, { rttMs: 38 }), burstBytes: 4156 };
  assert.equal(want.packetBytes, 1398 + 14, 'the bond\'s Ethernet frame');
  assert.equal(want.overheadBytes, 110);
  assert.deepEqual(lines('wbond', { dev: 'wbond', shape: want }), [], 'what is there is left alone');
  assert.deepEqual(lines('wbond', { dev: 'wbond', shape: { ...want, rateKbit: 5700 } }), [
    'tc qdisc change dev wbond root handle 1: tbf rate 5700kbit burst 4156 mtu 1476 peakrate 11400kbit latency 300ms overhead 110',
  ], 'a link left: the sum changes in place');
  assert.deepEqual(lines('wbond', { dev: 'wbond', shape: { ...want, packetBytes: 1294 } }), [
    'tc qdisc change dev wbond root handle 1: tbf rate 6650kbit burst 4156 mtu 1358 peakrate 13300kbit latency 300ms overhead 110',
  ], 'a smaller MTU: a smaller bucket');
  assert.deepEqual(lines('wbond', undefined), ['tc qdisc del dev wbond root']);
});

test('a gretap shaped by an older wanbond: its chain becomes the delay alone', () => {
  assert.deepEqual(lines('wbg1p1', { dev: 'wbg1p1', delayMs: 30 }), ['tc qdisc del dev wbg1p1 root', 'tc qdisc replace dev wbg1p1 root handle 1: netem delay 30ms']);
});

test('what is there is left alone', () => {
  const bond = { ...bondShape(6650, { rttMs: 38 }), burstBytes: 4156 };
  assert.deepEqual(lines('wbond', { dev: 'wbond', shape: { ...bond, rateKbit: 6680 } }), [], 'tc rounds rates');
  assert.equal(lines('wbg1p1', { dev: 'wbg1p1', delayMs: 30 }).length, 2, 'an older chain is rebuilt (see above)');
  assert.deepEqual(lines('wbg2p1', undefined), [], 'the default qdisc is not ours');
});

test('a new delay is one change; the shaper and its queue stay', () => {
  const oldTbf = 'tc qdisc change dev wbg1p1 parent 1:1 handle 2: tbf rate 950kbit burst 3044 mtu 1504 peakrate 1900kbit latency 300ms overhead 110';
  assert.deepEqual(lines('wbg1p1', { dev: 'wbg1p1', delayMs: 12, shape }), ['tc qdisc change dev wbg1p1 root handle 1: netem delay 12ms', oldTbf]);
});

test('changed parameters are changed in place; other kinds rebuild the chain; nothing wanted removes it', () => {
  const tbf = (kbit: number) => `tbf rate ${kbit}kbit burst 3044 mtu 1504 peakrate ${2 * kbit}kbit latency 300ms overhead 110`;
  assert.deepEqual(lines('wbg1p1', { dev: 'wbg1p1', delayMs: 0, shape }), [
    'tc qdisc change dev wbg1p1 root handle 1: netem delay 0ms', `tc qdisc change dev wbg1p1 parent 1:1 handle 2: ${tbf(950)}`,
  ], 'no delay: netem stays, at 0');
  assert.deepEqual(lines('wbg1p1', { dev: 'wbg1p1', delayMs: 30, shape: { ...shape, targetMs: 40 } }), [
    `tc qdisc change dev wbg1p1 parent 1:1 handle 2: ${tbf(950)}`,
    'tc qdisc change dev wbg1p1 parent 2:1 handle 3: fq_codel target 40ms interval 113ms',
  ], 'a new CoDel target in place');
  assert.deepEqual(lines('wbg1p1', { dev: 'wbg1p1', delayMs: 10, shape: { ...shape, rateKbit: 500 } }), [
    'tc qdisc change dev wbg1p1 root handle 1: netem delay 10ms',
    `tc qdisc change dev wbg1p1 parent 1:1 handle 2: ${tbf(500)}`,
  ]);
  assert.deepEqual(lines('wbg2p1', { dev: 'wbg2p1', delayMs: 20, shape }), [
    'tc qdisc replace dev wbg2p1 root handle 1: netem delay 20ms',
    `tc qdisc replace dev wbg2p1 parent 1:1 handle 2: ${tbf(950)}`,
    'tc qdisc replace dev wbg2p1 parent 2:1 handle 3: fq_codel target 18ms interval 113ms',
  ]);
  const delayOnly = on('wbg1p1').filter((q) => q.kind === 'netem');
  assert.deepEqual(qdiscSteps('wbg1p1', { dev: 'wbg1p1', delayMs: 30, shape }, delayOnly).map(formatStep), [
    'tc qdisc del dev wbg1p1 root',
    'tc qdisc replace dev wbg1p1 root handle 1: netem delay 30ms',
    'tc qdisc replace dev wbg1p1 parent 1:1 handle 2: tbf rate 950kbit burst 3044 mtu 1504 peakrate 1900kbit latency 300ms overhead 110',
    'tc qdisc replace dev wbg1p1 parent 2:1 handle 3: fq_codel target 18ms interval 113ms',
  ], 'shaping added under a delay-only netem: rebuilt');
  assert.deepEqual(lines('wbg1p1', undefined), ['tc qdisc del dev wbg1p1 root']);
});

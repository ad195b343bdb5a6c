// Capacity by packet train: the dispersion arithmetic, the median over trains, and when the
// router starts trains (a fake socket records what would be sent).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { TrainEstimate, trainRate, trainWireBytes, type TrainArrival } from '../../src/steer/train.ts';
import { LinkTrains, sendTrain, TRAIN_BYTES, TRAIN_PACKETS } from '../../src/health/link-trains.ts';
import { decodeMessage, encodeMessage, MAX_MESSAGE_BYTES, type HealthMessage, type TrainMessage } from '../../src/health/probe-message.ts';
import { silentLogger } from '../../src/log.ts';

const wire = trainWireBytes(1200);
/** Pad that makes a train packet's JSON 1200 bytes long (as sendTrain does). */
const PAD = 'x'.repeat(1200 - JSON.stringify({ v: 1, t: 'train', link: 1, id: 5, k: 10, n: 24, pad: '' }).length);
/** Arrivals of an n-packet train through a bottleneck of `kbit`, each delayed by jitter(k) ms. */
const train = (kbit: number, n = 24, jitter = (_k: number) => 0): TrainArrival[] =>
  Array.from({ length: n }, (_, k) => ({ k, at: 1000 + (k * wire * 8) / kbit + jitter(k), wireBytes: wire }));

test('train: a 1200-byte datagram is 1306 bytes on the modem link (WireGuard padding, headers, Ethernet)', () => {
  assert.equal(wire, 1232 + 32 + 8 + 20 + 14);
});

test('train: the rate is the bottleneck\'s, through jitter and a lost packet', () => {
  for (const kbit of [250, 1000, 4000, 50_000]) assert.equal(trainRate(train(kbit), 24), kbit);
  const jittery = trainRate(train(2000, 24, (k) => (k % 2 ? 0.8 : -0.8)), 24)!;
  assert.ok(Math.abs(jittery - 2000) < 100, String(jittery));
  const late = train(1000).map((a) => (a.k < 3 ? { ...a, at: a.at + 20 } : a));
  assert.ok(Math.abs(trainRate(late, 24)! - 1000) < 200, `the first three read 20 ms late: ${trainRate(late, 24)}`);
  const lossy = train(1000).filter((a) => a.k !== 7);
  assert.ok(Math.abs(trainRate(lossy, 24)! - 1000) < 50);
  assert.equal(trainRate(train(1000).slice(0, 8), 24), null, 'most of the train lost');
  assert.equal(trainRate(train(1000).map((a) => ({ ...a, at: 5000 })), 24), null, 'read as one backlog: no spread to time');
  // The first ten read together when the tenth came (a receiver busy for 100 ms): the spread
  // shrinks by 40 % and the slope would say ~1.5 Mbit/s; the gaps outside the burst say 1.
  const bursty = train(1000).map((a, i, all) => (a.k < 10 ? { ...a, at: all[9]!.at - (9 - a.k) * 0.05 } : a));
  assert.equal(trainRate(bursty, 24), 1000, 'read in a burst');
  // Recorded in the lab (a 4 Mbit/s link, the receiver reading six at a time): most gaps
  // squeezed, so no gap is the link's; the train is not used (it read as 86 Mbit/s).
  const recorded = [0, 4.3, 4.4, 4.5, 4.6, 4.7, 4.8, 7.5, 10.1, 12.5, 15.0, 21.9, 32.2, 32.3, 32.4, 32.5, 32.6, 32.7, 34.2, 36.9, 39.5, 52.1, 52.2, 52.3];
  assert.equal(trainRate(recorded.map((at, k) => ({ k, at, wireBytes: wire })), 24), null, 'read mostly in bursts');
  // Gaps widened by other traffic on the link are not bursts: the slope stays, a bit slower.
  const crossed = train(1000, 24, (k) => (k >= 12 ? 15 : 0));
  assert.ok(trainRate(crossed, 24)! < 1000 && trainRate(crossed, 24)! > 800, `a probe between two train packets: ${trainRate(crossed, 24)}`);
  // A fast link's packets (0.2 ms apart) come in batches anyway: that train is still used.
  const batched = train(50_000).map((a) => ({ ...a, at: 1000 + Math.floor(a.k / 4) * 4 * (wire * 8) / 50_000 }));
  assert.ok(Math.abs(trainRate(batched, 24)! - 50_000) < 15_000, `batched fast link: ${trainRate(batched, 24)}`);
});

test('train: the estimate is the median of the last three (five by default)', () => {
  const e = new TrainEstimate(3);
  assert.equal(e.value(), null);
  e.add(4000, 1);
  e.add(9000, 2);
  assert.equal(e.value(), 4000);
  e.add(3900, 3);
  assert.equal(e.value(), 4000);
  e.add(3800, 4);
  assert.equal(e.value(), 3900, 'the oldest drops out');
  assert.equal(e.measuredAt, 4);
});

test('train: trains measured quiet replace those measured under load', () => {
  const e = new TrainEstimate();
  e.add(2000, 1, false);
  e.add(2100, 2, false);
  e.add(1900, 3, false);
  assert.equal(e.value(), 2000, 'only loaded trains: their median');
  e.add(4000, 4, true);
  assert.equal(e.value(), 4000, 'one quiet train outweighs any number measured under load');
  assert.equal(e.quietCount, 1);
});

class FakeSock {
  sent: HealthMessage[] = [];
  send(m: HealthMessage) {
    this.sent.push(decodeMessage(encodeMessage(m)).ok ? m : ({ bad: m } as never));
  }
}

test('train messages: a full train fits the channel and validates; a padded one too big is refused', () => {
  const s = new FakeSock();
  sendTrain(s, 3, 9);
  assert.equal(s.sent.length, TRAIN_PACKETS);
  const last = s.sent.at(-1) as TrainMessage;
  assert.equal(last.k, TRAIN_PACKETS - 1);
  const len = encodeMessage(last).length;
  assert.ok(len <= TRAIN_BYTES && len > TRAIN_BYTES - 3 && len <= MAX_MESSAGE_BYTES, String(len));
  assert.deepEqual(decodeMessage(Buffer.from(JSON.stringify({ ...last, pad: 'x'.repeat(1301) }))), { ok: false, why: 'invalid' });
  assert.equal(decodeMessage(Buffer.from(JSON.stringify({ v: 1, t: 'train_req', link: 1, id: 1, n: 1000, bytes: 1200 }))).ok, false);
});

test('router: five trains each way once the link is up, one at a time, then only a refresh while quiet', () => {
  const t = new LinkTrains(2, 'wan2', silentLogger);
  const s = new FakeSock();
  const o = { up: true, wantDown: true, wantUp: true, quietDown: false, quietUp: false };
  t.tickRouter(0, s, { ...o, up: false });
  assert.equal(s.sent.length, 0, 'nothing while the link is not up');
  const kinds = () => s.sent.map((m) => m.t).filter((k, i, a) => k !== 'train' || a[i - 1] !== 'train');
  for (let now = 0; now <= 60_000; now += 1000) {
    const started = t.tickRouter(now, s, o);
    assert.equal(started, s.sent.length === 0 ? null : s.sent[0]!.t === 'train_req' ? 'down' : 'up');
    assert.ok(s.sent.filter((m) => m.t === 'train_req').length + Math.min(1, s.sent.filter((m) => m.t === 'train').length) <= 1, 'one train at a time');
    for (const m of s.sent.splice(0)) {
      if (m.t === 'train_req') {
        // The concentrator's train arrives; measured here.
        for (const a of train(2000)) t.onTrain({ v: 1, t: 'train', link: 2, id: m.id, k: a.k, n: 24, pad: PAD }, now + a.at - 1000);
        const got = t.collect(now + 200)!;
        t.measuredDown(got.id, got.kbit, now);
      } else if (m.t === 'train' && m.k === 0) {
        t.onResult(m.id, 500, now);
        t.onResult(m.id + 100, 9999, now); // not ours: ignored
      }
    }
  }
  assert.equal(t.down.count, 5);
  assert.equal(t.up.count, 5);
  assert.ok(Math.abs(t.down.value()! - 2000) < 40, String(t.down.value()));
  assert.equal(t.up.value(), 500);
  t.tickRouter(700_000, s, o);
  assert.equal(s.sent.length, 0, 'busy: no refresh');
  t.tickRouter(701_000, s, { ...o, quietDown: true });
  assert.deepEqual(kinds(), ['train_req']);
  s.sent.length = 0;
  t.tickRouter(702_000, s, { ...o, wantDown: false, quietUp: true });
  assert.deepEqual(kinds(), ['train']);
});

test('a train not completed is judged after 2 s on what arrived', () => {
  const t = new LinkTrains(1, 'wan1', silentLogger);
  for (const a of train(1000).slice(0, 20)) t.onTrain({ v: 1, t: 'train', link: 1, id: 5, k: a.k, n: 24, pad: PAD }, a.at);
  assert.equal(t.collect(1500), null, 'still waiting for the rest');
  const r = t.collect(3100)!;
  assert.equal(r.id, 5);
  assert.equal(r.firstAt, train(1000)[0]!.at, 'when its first packet came (the monitor drops trains it read late)');
  assert.ok(r.kbit !== null && Math.abs(r.kbit - 1000) < 150, String(r.kbit));
});

test('concentrator: one train a second per link at most, whatever the router asks', () => {
  const t = new LinkTrains(3, 'home/wan3', silentLogger);
  const s = new FakeSock();
  const answered = [0, 400, 999, 1000].map((at) => t.answer(s, { id: at, n: 8, bytes: 600 }, at));
  assert.deepEqual(answered, [true, false, false, true]);
  assert.deepEqual([...new Set(s.sent.map((m) => (m as TrainMessage).id))], [0, 1000]);
  assert.equal(s.sent.length, 16);
});

test('router: first trains taken under load are re-measured every 10 s once the link is quiet, until three quiet ones', () => {
  const t = new LinkTrains(1, 'wan1', silentLogger);
  const s = new FakeSock();
  let rate = 2000; // what the busy link leaves a train
  const run = (now: number, quietDown: boolean) => {
    const started = t.tickRouter(now, s, { up: true, wantDown: true, wantUp: false, quietDown, quietUp: true });
    for (const m of s.sent.splice(0)) {
      if (m.t !== 'train_req') continue;
      for (const a of train(rate)) t.onTrain({ v: 1, t: 'train', link: 1, id: m.id, k: a.k, n: 24, pad: PAD }, now + a.at - 1000);
      const got = t.collect(now + 200)!;
      t.measuredDown(got.id, got.kbit, now);
    }
    return started;
  };
  for (let now = 0; now < 30_000; now += 1000) run(now, false);
  assert.equal(t.down.count, 5);
  assert.ok(Math.abs(t.down.value()! - 2000) < 40, `under load: ${t.down.value()}`);
  assert.equal(run(31_000, false), null, 'still busy: no train');
  rate = 4000;
  const starts: number[] = [];
  for (let now = 32_000; now < 120_000; now += 1000) if (run(now, true)) starts.push(now);
  assert.deepEqual(starts, [32_000, 42_000, 52_000], 'every 10 s while quiet, until three quiet trains');
  assert.ok(Math.abs(t.down.value()! - 4000) < 80, `quiet: ${t.down.value()}`);
  assert.equal(t.down.quietCount, 3);
});

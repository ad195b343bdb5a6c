import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ProbeWindow } from '../../src/health/probe-window.ts';
import { decodeMessage, encodeMessage, GarbageCounter, MAX_MESSAGE_BYTES } from '../../src/health/probe-message.ts';

/** A window at 10 probes/s whose probes 0-9 (sent 0-900 ms) each came back after 40 ms. */
function answeredWindow(): ProbeWindow {
  const w = new ProbeWindow({ intervalMs: 100 });
  for (let s = 0; s < 10; s++) {
    w.sent(s, s * 100);
    w.replied(s, s * 100 + 40);
  }
  return w;
}

test('probe window: RTT, jitter and loss over short and long windows', () => {
  const w = new ProbeWindow({ intervalMs: 100, shortSize: 10, longSize: 100 });
  let t = 0;
  // 20 probes answered after 40 ms, 50 ms alternately.
  for (let seq = 0; seq < 20; seq++, t += 100) {
    w.sent(seq, t);
    assert.equal(w.replied(seq, t + (seq % 2 ? 50 : 40)), seq % 2 ? 50 : 40);
  }
  let m = w.metrics(t);
  assert.ok(m.rtt_ms! > 40 && m.rtt_ms! < 50);
  assert.equal(m.min_rtt_ms, 40);
  assert.equal(m.min_fwd_ms, null, 'no peer sample yet');
  assert.ok(m.jitter_ms! > 9 && m.jitter_ms! <= 10, `jitter ${m.jitter_ms}`);
  assert.equal(m.loss_short_pct, 0);
  assert.equal(m.silent, false);
  assert.equal(m.last_reply, 1950);
  // Then 5 probes without reply: lost once older than the loss timeout.
  for (let seq = 20; seq < 25; seq++, t += 100) w.sent(seq, t);
  m = w.metrics(t + 1000);
  assert.equal(m.lost_in_row, 5);
  assert.equal(m.silent, true);
  assert.equal(m.pending_age_ms, 1500);
  assert.equal(m.loss_short_pct, 50);
  assert.equal(m.loss_long_pct, 20);
  assert.equal(w.metrics(t).silent, true, 'silence is noticed after ~RTT+margin, long before loss statistics');
  assert.equal(w.metrics(t).loss_short_pct, 0, 'not yet counted as lost');
});

test('probe window: a fresh probe is not lost yet; duplicates and unknown replies are ignored', () => {
  const w = new ProbeWindow({ intervalMs: 100 });
  w.sent(1, 0);
  w.replied(1, 30);
  w.sent(2, 100);
  assert.equal(w.metrics(120).silent, false);
  assert.equal(w.replied(1, 140), null, 'duplicate');
  assert.equal(w.replied(99, 140), null, 'unknown seq');
  assert.equal(w.metrics(140).received, 1);
});

test('probe window: a queue building up (RTT 120 -> 450 ms, replies still flowing) is not silence', () => {
  const w = new ProbeWindow({ intervalMs: 100 });
  const replies: [number, number][] = [];
  let silentSeen = false;
  for (let t = 0, seq = 0; t <= 6000; t += 10) {
    for (const [s, at] of replies.filter(([, at]) => at === t)) w.replied(s, at);
    if (t % 100 === 0) {
      silentSeen ||= t > 0 && w.metrics(t).silent;
      const rtt = t < 3000 ? 120 : Math.min(450, 120 + (t - 3000)); // +330 ms within a third of a second
      w.sent(seq, t);
      replies.push([seq++, t + Math.round(rtt / 10) * 10]);
    }
  }
  assert.equal(silentSeen, false);
  assert.equal(w.metrics(6000).loss_short_pct, 0);
});

test('probe window: silence timeout follows the RTT but stays within bounds', () => {
  const w = new ProbeWindow({ intervalMs: 100, maxLossTimeoutMs: 2000 });
  for (let s = 0; s < 10; s++) {
    w.sent(s, s * 100);
    w.replied(s, s * 100 + 120);
  }
  const to = w.lossTimeout();
  assert.ok(to >= 200 && to < 300, `timeout ${to}`);
  const slow = new ProbeWindow({ intervalMs: 100, maxLossTimeoutMs: 2000 });
  for (let s = 0; s < 10; s++) {
    slow.sent(s, s * 100);
    slow.replied(s, s * 100 + 3000);
  }
  assert.equal(slow.lossTimeout(), 2000);
});

test('peer messages: valid ones round-trip, garbage is refused with a reason', () => {
  const probe = { v: 1, t: 'probe', link: 3, seq: 7, ts: 123.5 } as const;
  assert.deepEqual(decodeMessage(encodeMessage(probe)), { ok: true, msg: probe });
  const cap = { v: 1, t: 'cap', link: 1, rx_kbit: 4000, now_kbit: 10 } as const;
  assert.deepEqual(decodeMessage(encodeMessage(cap)), { ok: true, msg: cap });
  const rates = { ...cap, paths: 4, backup: false, rate_kbit: 4000, shape_kbit: 3800 } as const;
  // A reply's one-way sample may be negative (the clocks' offset); older peers send none.
  const reply = { v: 1, t: 'reply', link: 2, seq: 7, ts: 1234.56, d: -98765.43 } as const;
  assert.deepEqual(decodeMessage(encodeMessage(reply)), { ok: true, msg: reply });
  assert.deepEqual(decodeMessage(encodeMessage(rates)), { ok: true, msg: rates });
  const stall = { v: 1, t: 'stall', link: 1, id: 4_000_000_000, ms: 1238 } as const;
  assert.deepEqual(decodeMessage(encodeMessage(stall)), { ok: true, msg: stall });
  const bad: [string | Buffer, string][] = [
    ['not json{', 'not_json'],
    ['{"v":1,"t":"probe","link":0,"seq":1,"ts":1}', 'invalid'],
    ['{"v":1,"t":"probe","link":1,"seq":-1,"ts":1}', 'invalid'],
    ['{"v":2,"t":"probe","link":1,"seq":1,"ts":1}', 'invalid'],
    ['{"v":1,"t":"reply","link":1,"seq":1,"ts":1,"extra":true}', 'invalid'],
    ['{"v":1,"t":"reply","link":1,"seq":1,"ts":1,"d":"late"}', 'invalid'],
    ['{"v":1,"t":"cap","link":1,"rx_kbit":"fast","now_kbit":1}', 'invalid'],
    ['{"v":1,"t":"cap","link":1,"rx_kbit":1,"now_kbit":1,"shape_kbit":0}', 'invalid'],
    ['{"v":1,"t":"stall","link":1,"id":1,"ms":-5}', 'invalid'],
    ['{"v":1,"t":"stall","link":1,"id":1,"ms":3600000}', 'invalid'],
    ['[]', 'invalid'],
    ['null', 'invalid'],
    [Buffer.alloc(MAX_MESSAGE_BYTES + 1, 0x20), 'too_big'],
  ];
  const g = new GarbageCounter();
  for (const [raw, why] of bad) {
    const r = decodeMessage(Buffer.from(raw));
    assert.equal(r.ok, false, String(raw));
    if (!r.ok) {
      assert.equal(r.why, why, String(raw));
      g.add(r.why);
    }
  }
  assert.equal(g.total, bad.length);
  assert.equal(g.counts.invalid, 11);
});

test('probe window: probes in flight while this end stalled are forgotten, not counted as lost', () => {
  const w = answeredWindow();
  w.sent(10, 1000);
  w.sent(11, 1100);
  // The process sleeps 2 s after its tick at 1100; at 3100 it runs again and forgets what was in flight.
  w.forgetPending(1100, 3100);
  const m = w.metrics(3100);
  assert.equal(m.silent, false);
  assert.equal(m.pending_age_ms, null);
  assert.equal(m.loss_long_pct, 0);
  assert.equal(w.replied(10, 3105), null, 'a reply read late is ignored');
});

test('probe window: a stall forgets only probes due during it; those already overdue before it stay as evidence', () => {
  const w = answeredWindow();
  // The link is cut at 1000; this end ticks until 1500, then stalls until 3500.
  for (let s = 10; s <= 15; s++) w.sent(s, s * 100);
  const before = w.metrics(1500);
  assert.equal(before.loss_timeout_ms, 200);
  assert.equal(before.lost_in_row, 3, 'probes 10-12 overdue before the stall');
  w.forgetPending(1500, 3500);
  const m = w.metrics(3500);
  assert.equal(m.silent, true, 'the cut is still seen right after the stall');
  assert.equal(m.lost_in_row, 3, 'probes 13-15 came due in the stall: forgotten');
  assert.equal(w.replied(14, 3510), null, 'a late reply to a forgotten probe is ignored');
  // The link was alive after all: the backlog brings the kept probes' replies, which neither
  // leave the link silent nor count the stall as its round trip.
  w.replied(10, 3520);
  const alive = w.metrics(3530);
  assert.equal(alive.silent, false);
  assert.equal(alive.rtt_ms, 40);
});

test('probe window: a reply this end read late counts as an answer, not as the link\'s round trip', () => {
  const w = answeredWindow();
  w.sent(10, 1000);
  assert.equal(w.replied(10, 2300, undefined, true), 1300);
  const m = w.metrics(2300);
  assert.equal(m.rtt_ms, 40);
  assert.equal(m.last_rtt_ms, 40);
  assert.equal(m.pending_age_ms, null, 'answered');
  assert.equal(m.received, 11);
});

test('probe window: probes that reached the peer while it stalled are forgotten; those before are still evidence', () => {
  const w = answeredWindow();
  // Probes 10-19 go out from 1000 to 1900; the peer, 20 ms away, stalls from 1230 to 1830 and
  // says so once it runs again.
  for (let s = 10; s < 20; s++) w.sent(s, s * 100);
  w.replied(10, 1040);
  w.replied(11, 1140);
  const held = w.metrics(1900);
  assert.equal(held.silent, true, 'seen from here, the link went silent');
  w.peerStalled(1230 - 20 - 100, 1850);
  const m = w.metrics(1900);
  assert.equal(m.silent, false, 'probes 12-18 met the stall: not judged');
  assert.equal(m.lost_in_row, 0);
  assert.equal(m.pending_age_ms, 0, 'probe 19, sent after, is still waited for');
  assert.equal(w.replied(13, 1860), null, 'a reply the stall held is not measured');
  assert.equal(w.metrics(1900).rtt_ms, 40);
  // A probe sent before the stall and unanswered by then stays: a cut is not hidden by a stall after it.
  const cut = answeredWindow();
  for (let s = 10; s < 20; s++) cut.sent(s, s * 100);
  cut.peerStalled(1500, 1850);
  const c = cut.metrics(1900);
  assert.equal(c.silent, true);
  assert.equal(c.lost_in_row, 5, 'probes 10-14, sent before the stall, are overdue');
});

test('probe window: probes our own packet train held up are neither judged nor measured; the link is, before and after', () => {
  const w = answeredWindow();
  // An upload train at 1000 holds the link's queue for 0.9 s: the probes sent meanwhile come back
  // up to 0.9 s late. Shadowed from the start (a train this end sent) ...
  w.shadow(1000, 1900);
  for (let s = 10; s < 19; s++) {
    w.sent(s, s * 100);
    w.heard(s * 100 + 20); // the peer's own probes keep coming the other way
  }
  const held = w.metrics(1800);
  assert.equal(held.silent, false, 'not silence');
  assert.equal(held.lost_in_row, 0);
  assert.equal(held.pending_age_ms, null, 'nothing pending that counts');
  for (let s = 10; s < 19; s++) w.replied(s, 1950 + s);
  const after = w.metrics(1980);
  assert.equal(after.last_rtt_ms, 40, 'their round trips are not the link\'s');
  assert.equal(after.rtt_ms, 40);
  assert.equal(after.loss_long_pct, 0);
  assert.equal(after.last_reply, 1968, 'their replies show the link alive');
  // ... or afterwards (a train seen arriving marks the probes behind it), and only those.
  w.sent(19, 1920);
  w.sent(20, 2000);
  w.shadow(1950, 2050);
  w.sent(21, 2100);
  w.heard(2650);
  const m = w.metrics(2700);
  assert.equal(m.silent, true, 'a probe after the train unanswered is judged');
  assert.equal(m.lost_in_row, 2, 'probes 19 and 21, not 20');
});

test('probe window: a link cut during our own train falls silent both ways, and its shadowed probes are judged', () => {
  const w = answeredWindow();
  // An upload train at 1000 while the rate is unknown: 2 s of shadow. The link is cut at 1050.
  w.shadow(1000, 3000);
  for (let s = 10; s < 14; s++) w.sent(s, s * 100);
  w.heard(1040);
  const m = w.metrics(1400);
  assert.equal(m.silent, true, 'nothing heard from the peer for longer than the timeout: no excuse');
  assert.equal(m.lost_in_row, 2, 'probes 10 and 11 are overdue');
  assert.equal(m.loss_long_pct, 0, 'none of them counted lost yet (under lossAfterMs)');
  assert.equal(w.metrics(1400, 1395).silent, true, 'the peer is heard on its other links meanwhile: the cut is judged');
  // A peer running late falls quiet on every link: last heard elsewhere at 1045, the same probes are excused.
  assert.equal(w.metrics(1400, 1045).silent, false);
  // Had the peer's probes kept coming, the same probes would be excused.
  w.heard(1390);
  assert.equal(w.metrics(1400).silent, false);
});

test('probe window: the lowest one-way sample the peer reported over the last minute', () => {
  const w = new ProbeWindow({ intervalMs: 100, longSize: 5 });
  // One a second for 70 s: 901 first, 904 at 30 s, the rest higher.
  for (let seq = 0; seq < 70; seq++) {
    w.sent(seq, seq * 1000);
    w.replied(seq, seq * 1000 + 30, seq === 0 ? 901 : seq === 30 ? 904 : 910 + (seq % 3));
  }
  assert.equal(w.metrics(70_000).min_fwd_ms, 904, 'the 901 is over a minute old; older than the probe window is kept');
});

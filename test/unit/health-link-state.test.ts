import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { Health } from '../../src/config/types.ts';
import { ProbeWindow } from '../../src/health/probe-window.ts';
import { classify, LinkStateMachine, silenceIsLinks, type Transition } from '../../src/health/link-state.ts';

const H: Health = { interval: 0.1, failure_latency: 500, recovery_latency: 300, failure_loss: 20, recovery_loss: 5, down: 3, up: 5 };

/** Drives one link through window + classifier + state machine on a simulated clock. rtt(t) = null: lost. */
function simulate(rtt: (t: number) => number | null, untilMs: number, h: Health = H) {
  const w = new ProbeWindow({ intervalMs: h.interval * 1000 });
  const sm = new LinkStateMachine(h, 0);
  const pending: { seq: number; at: number }[] = [];
  const transitions: Transition[] = [];
  const states: { t: number; s: string }[] = [];
  let seq = 0;
  for (let t = 0; t <= untilMs; t += 10) {
    for (const p of pending.filter((p) => p.at <= t)) w.replied(p.seq, t);
    pending.splice(0, pending.length, ...pending.filter((p) => p.at > t));
    if (t % (h.interval * 1000) === 0) {
      const tr = sm.step(classify(w.metrics(t), h), t);
      if (tr) transitions.push(tr);
      states.push({ t, s: sm.state });
      w.sent(seq, t);
      const r = rtt(t);
      if (r !== null) pending.push({ seq, at: t + r });
      seq++;
    }
  }
  const stateAt = (t: number) => [...states].reverse().find((x) => x.t <= t)!.s;
  return { transitions, stateAt, sm };
}

test('a healthy link comes up after `up` good probes and stays up', () => {
  const { transitions, stateAt } = simulate(() => 40, 5000);
  assert.equal(transitions.length, 1);
  assert.equal(transitions[0]!.to, 'up');
  assert.ok(transitions[0]!.time <= 1000);
  assert.match(transitions[0]!.reason, /good probes/);
  assert.equal(stateAt(5000), 'up');
});

test('a cut link is down within 1 s and back after `up` good probes', () => {
  const cutAt = 5000, backAt = 8000;
  const { transitions } = simulate((t) => (t >= cutAt && t < backAt ? null : 60), 12000);
  const down = transitions.find((x) => x.to === 'down' && x.time >= cutAt)!;
  assert.ok(down, 'went down');
  assert.ok(down.time - cutAt <= 1000, `down after ${down.time - cutAt} ms`);
  assert.equal(down.from, 'up');
  assert.match(down.reason, /no reply/);
  const up = transitions.find((x) => x.to === 'up' && x.time > backAt)!;
  assert.ok(up, 'came back');
  assert.ok(up.time - backAt >= H.up * 100, 'not before `up` good probes');
  assert.ok(up.time - backAt <= 2000, `up after ${up.time - backAt} ms`);
});

test('a delay spike past failure_latency takes the link out within 1 s; it returns when the spike ends', () => {
  const spikeAt = 5000, endAt = 25000;
  const { transitions, stateAt } = simulate((t) => (t >= spikeAt && t < endAt ? 3120 : 120), 30000);
  const out = transitions.find((x) => x.from === 'up' && x.time >= spikeAt)!;
  assert.ok(out.time - spikeAt <= 1000, `left after ${out.time - spikeAt} ms`);
  assert.equal(stateAt(15000), 'degraded', 'replies arrive, too late: degraded, not down');
  // First it looks silent (down); once the late replies arrive it is degraded, with its reason.
  assert.ok(transitions.some((x) => x.to === 'degraded' && /unanswered|failure_latency/.test(x.reason)));
  assert.equal(stateAt(29000), 'up');
});

test('sparse loss and jitter below the thresholds never take the link out', () => {
  let n = 0;
  const { transitions } = simulate(() => (++n % 25 === 0 ? null : 100 + ((n * 37) % 60)), 60000);
  assert.deepEqual(transitions.map((x) => x.to), ['up']);
});

test('loss above failure_loss degrades the link', () => {
  let n = 0;
  const { transitions, stateAt } = simulate((t) => (t > 5000 && ++n % 2 === 0 ? null : 50), 10000);
  assert.ok(transitions.some((x) => x.from === 'up' && x.time > 5000));
  assert.notEqual(stateAt(10000), 'up');
});

test('RTT between recovery and failure latency keeps an up link up but does not bring a link up', () => {
  const a = simulate((t) => (t < 3000 ? 50 : 400), 10000);
  assert.equal(a.stateAt(10000), 'up');
  const b = simulate(() => 400, 10000);
  assert.equal(b.stateAt(10000), 'down');
  assert.equal(b.transitions.length, 0);
});

test('flapping: the link leaves and rejoins at most once per flap, and damping slows its return', () => {
  // 10 s up, then five times: 2 s cut, 2 s fine.
  const flapStart = 10000;
  const cut = (t: number) => t >= flapStart && t < flapStart + 20000 && (t - flapStart) % 4000 < 2000;
  const { transitions, sm } = simulate((t) => (cut(t) ? null : 60), 40000);
  const during = transitions.filter((x) => x.time >= flapStart && x.time < flapStart + 20000 + 2000);
  const leaves = during.filter((x) => x.from === 'up').length;
  const joins = during.filter((x) => x.to === 'up').length;
  assert.ok(leaves >= 1 && leaves <= 5, `leaves ${leaves}`);
  assert.ok(joins <= leaves, `joins ${joins}`);
  assert.ok(leaves < 5, 'damping kept the link out for some flaps');
  assert.equal(sm.state, 'up', 'back up once the link is stable');
  assert.ok(sm.upNeeded(40000) > H.up, 'recent flaps still raise the bar');
  assert.equal(sm.upNeeded(40000 + 61000), H.up, 'damping decays');
});

test('silence is blamed on a link only when another link still answers, or after everything stayed silent', () => {
  const w = (rtts: (number | null)[], until: number) => {
    const pw = new ProbeWindow({ intervalMs: 100 });
    rtts.forEach((r, i) => {
      pw.sent(i, i * 100);
      if (r !== null && i * 100 + r <= until) pw.replied(i, i * 100 + r);
    });
    return pw.metrics(until);
  };
  // Probes every 100 ms; link a stops answering from probe 10 (t = 1000 ms).
  const cut = Array.from({ length: 20 }, (_, i) => (i < 10 ? 30 : null));
  const fine = Array.from({ length: 20 }, () => 60);
  const a = w(cut, 1950);
  assert.equal(a.silent, true);
  assert.equal(silenceIsLinks(a, [w(fine, 1950)], 1950, 3000), true, 'another link answered probes sent after the silence began');
  assert.equal(silenceIsLinks(a, [w(cut, 1950)], 1950, 3000), false, 'every link silent together: a stall, not yet a link');
  assert.equal(silenceIsLinks(a, [], 1950, 3000), true, 'a lone link has nothing to compare with');
  const long = Array.from({ length: 50 }, (_, i) => (i < 10 ? 30 : null));
  assert.equal(silenceIsLinks(w(long, 4100), [w(long, 4100)], 4100, 3000), true, 'silent everywhere for longer than the grace: the links are judged');
  const b = w(fine, 1950);
  assert.equal(silenceIsLinks(b, [a], 1950, 3000), true, 'a link that answers is not held back');
});

test('a peer that stalls: a fast link\'s probe sent a little after a slow link\'s is answered, yet the slow link is not blamed', () => {
  // The peer answers nothing from t = 1000 to 1800. Slow link: 60 ms each way, probes at 50, 150,
  // ...; fast link: 15 ms, probes at 70, 170, ... The slow probe sent at 950 reaches the peer at
  // 1010 (unanswered); the fast one sent at 970 at 985 (answered).
  const link = (phase: number, owd: number, until: number, stallEnd = 1800) => {
    const pw = new ProbeWindow({ intervalMs: 100 });
    for (let i = 0; i * 100 + phase <= until; i++) {
      const sent = i * 100 + phase;
      pw.sent(i, sent);
      const atPeer = sent + owd;
      const back = (atPeer >= 1000 && atPeer < stallEnd ? stallEnd : atPeer) + owd;
      if (back <= until) pw.replied(i, back);
    }
    return pw.metrics(until);
  };
  const slow = link(50, 60, 1700);
  const fast = link(70, 15, 1700);
  assert.equal(slow.silent, true);
  assert.equal(fast.answered_sent_at, 970);
  assert.equal(silenceIsLinks(slow, [fast], 1700, 3000), false, 'the fast link\'s last answer reached the peer before the slow link\'s silence did');
  // A real cut of the slow link: the fast link's probes keep being answered.
  const fastOn = link(70, 15, 1700, 1000);
  assert.equal(silenceIsLinks(slow, [fastOn], 1700, 3000), true);
});

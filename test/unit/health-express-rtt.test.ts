// The round trip express is chosen by (src/health/express-rtt.ts): a probe left unanswered well past
// the link's usual round trip counts as its round trip now, once a probe another link sent later
// has come back; a stall that holds every link's replies blames none.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { expressRtts } from '../../src/health/express-rtt.ts';
import type { LinkMetrics } from '../../src/health/probe-window.ts';

const NOW = 100_000;
/** rtt, the age of the oldest unanswered probe, and how long ago the newest answered probe was sent. */
const m = (rtt: number | null, pending: number | null, answeredAgo: number | null): LinkMetrics => ({
  rtt_ms: rtt, last_rtt_ms: rtt, min_rtt_ms: rtt, min_fwd_ms: null, jitter_ms: 1, loss_short_pct: 0, loss_long_pct: 0, last_reply: 0, since_reply_ms: 0,
  silent: false, lost_in_row: 0, pending_age_ms: pending, answered_sent_at: answeredAgo === null ? null : NOW - answeredAgo, loss_timeout_ms: 1000, sent: 10, received: 10,
});
const rtts = (links: { metrics: LinkMetrics | null; group: string }[]) => expressRtts(links, 100, NOW);

test('answering links: their smoothed round trip; a probe in flight for less than RTT + 2.5 intervals does not count', () => {
  assert.deepEqual(rtts([{ metrics: m(32, 40, 100), group: '' }, { metrics: m(63, null, 70), group: '' }]), [{ rtt_ms: 32, late: false }, { rtt_ms: 63, late: false }]);
  assert.deepEqual(rtts([{ metrics: m(32, 282, 300), group: '' }, { metrics: m(63, 10, 70), group: '' }]).map((x) => x.late), [false, false], 'two probes lost: no move');
});

test('a cut or spiking link: the wait of its oldest unanswered probe, once another link has answered a probe sent after it', () => {
  assert.deepEqual(rtts([{ metrics: m(32, 290, 390), group: '' }, { metrics: m(123, 20, 130), group: '' }]), [{ rtt_ms: 290, late: true }, { rtt_ms: 123, late: false }]);
});

test('a stall holds every link\'s replies: no link is late, however its round trip compares (the fast one would be first otherwise)', () => {
  // This end stalled 400 ms: the fast link's probe is overdue, the slow one's not yet; nothing sent since came back.
  assert.deepEqual(rtts([{ metrics: m(32, 400, 450), group: '' }, { metrics: m(123, 400, 520), group: '' }]).map((x) => x.late), [false, false]);
  // Concentrator: another site answering says nothing about this one.
  assert.deepEqual(rtts([
    { metrics: m(32, 900, 950), group: 'a' }, { metrics: m(63, 900, 960), group: 'a' }, { metrics: m(40, 300, 390), group: 'b' }, { metrics: m(20, 5, 30), group: 'b' },
  ]).map((x) => x.late), [false, false, true, false]);
});

test('no reply yet: unknown', () => {
  assert.deepEqual(rtts([{ metrics: null, group: '' }, { metrics: m(null, 500, null), group: '' }]), [{ rtt_ms: null, late: false }, { rtt_ms: null, late: false }]);
});

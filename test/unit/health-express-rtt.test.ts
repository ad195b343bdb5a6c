// The round trip express is chosen by (src/health/express-rtt.ts): a probe left unanswered well past
// the link's usual round trip counts as its round trip now, unless every link of the group is late.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { expressRtts as withLate } from '../../src/health/express-rtt.ts';
import type { LinkMetrics } from '../../src/health/probe-window.ts';

/** The round trips only; `late` is checked where it matters. */
const expressRtts = (...a: Parameters<typeof withLate>) => withLate(...a).map((x) => x.rtt_ms);
const m = (rtt: number | null, pending: number | null): LinkMetrics => ({
  rtt_ms: rtt, last_rtt_ms: rtt, min_rtt_ms: rtt, jitter_ms: 1, loss_short_pct: 0, loss_long_pct: 0, last_reply: 0, since_reply_ms: 0,
  silent: false, lost_in_row: 0, pending_age_ms: pending, answered_sent_at: 0, loss_timeout_ms: 1000, sent: 10, received: 10,
});

test('answering links: their smoothed round trip; a probe in flight for less than RTT + 2.5 intervals does not count', () => {
  assert.deepEqual(expressRtts([{ metrics: m(32, 40), group: '' }, { metrics: m(63, null), group: '' }], 100), [32, 63]);
  assert.deepEqual(expressRtts([{ metrics: m(32, 282), group: '' }, { metrics: m(63, 10), group: '' }], 100), [32, 63], 'one or two probes lost: no move');
});

test('a cut or spiking link: the wait of its oldest unanswered probe, once past RTT + 2.5 intervals, while another link answers', () => {
  assert.deepEqual(withLate([{ metrics: m(32, 290), group: '' }, { metrics: m(63, 20), group: '' }], 100), [{ rtt_ms: 290, late: true }, { rtt_ms: 63, late: false }]);
});

test('every link of the group late at once (this end or the peer stalled): no link is blamed', () => {
  assert.deepEqual(expressRtts([{ metrics: m(32, 900), group: '' }, { metrics: m(63, 900), group: '' }], 100), [32, 63]);
  // Concentrator: one site's router stalled, another site answering, changes nothing for the first.
  assert.deepEqual(expressRtts([
    { metrics: m(32, 900), group: 'a' }, { metrics: m(63, 900), group: 'a' }, { metrics: m(40, 300), group: 'b' }, { metrics: m(20, 5), group: 'b' },
  ], 100), [32, 63, 300, 20]);
});

test('no reply yet: unknown', () => {
  assert.deepEqual(expressRtts([{ metrics: null, group: '' }, { metrics: m(null, 500), group: '' }], 100), [null, null]);
});

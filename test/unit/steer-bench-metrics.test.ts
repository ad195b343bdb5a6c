// The bench's arithmetic (bench/metrics.ts): what its failover figures mean.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { bytesAtEnd, longestGap, median, spikeOnset, spikeRecovery, spikeRecoveryPerPacket, voipAliveAtEnd, voipLostSeconds } from '../../bench/metrics.ts';

const iperf = (bytes: number[], step = 0.1) => ({ intervals: bytes.map((b, i) => ({ sum: { start: i * step, end: (i + 1) * step, bytes: b } })) });

test('longest stall of a transfer and bytes at its end', () => {
  const raw = iperf([0, 0, 0, 5, 5, 0, 0, 0, 0, 5, 0, 5]);
  assert.equal(longestGap(raw, 0), 0.4);
  assert.equal(longestGap(raw, 0.35), 0.4, 'a stall before fromSec does not count');
  assert.equal(longestGap(iperf([5, 5, 5]), 0), 0);
  assert.equal(bytesAtEnd(raw, 0.35), 10);
  assert.equal(bytesAtEnd(iperf([5, 5, 0, 0, 0]), 0.25), 0);
});

test('VoIP stream: lost seconds, recovery after a spike, alive at the end', () => {
  // 50 packets/s from t=0 ms: 40 ms RTT, then packets 200..249 (4.0-5.0 s) lost, 250..299 at 400 ms.
  const rtt = Array.from({ length: 400 }, (_, i) => (i >= 200 && i < 250 ? null : i >= 250 && i < 300 ? 400 : 40));
  const t = { start_ms: 0, interval_ms: 20, rtt_ms: rtt };
  assert.equal(voipLostSeconds(t, 0, 8000), 1);
  assert.equal(voipLostSeconds(t, 0, 4000), 0);
  // Spike from 4.0 s to 7.0 s: bad packets until 6.0 s -> recovered 2.0 s after the start.
  assert.equal(spikeRecovery(t, 4000, 7000), 2);
  assert.equal(spikeRecovery({ ...t, rtt_ms: rtt.map(() => 40) }, 4000, 7000), 0);
  // Commanded at 3.7 s, the first packet hit was sent at 4.0 s.
  assert.equal(spikeOnset(t, 3700, 7000), 0.3);
  assert.equal(spikeOnset({ ...t, rtt_ms: rtt.map(() => 40) }, 4000, 7000), null, 'a spike that hit nothing');
  assert.equal(voipAliveAtEnd(t, 1), true);
  assert.equal(voipAliveAtEnd({ ...t, rtt_ms: [...rtt.slice(0, 300), ...Array(100).fill(null)] }, 1), false);
  assert.equal(median([3, 1, 2]), 2);
  assert.equal(median([4, 1, 2, 3]), 2.5);
});

test('spike recovery judges the stream\'s delay, not single packets on the slowest link', () => {
  // Round-robin over links of 30 and 120 ms round trip (every third packet on the slow one);
  // the spike (4.0-7.0 s) loses the packets sent in its first 0.6 s, then all is as before.
  const rtt = Array.from({ length: 400 }, (_, i) => (i >= 200 && i < 230 ? null : i % 3 === 2 ? 120 : 30));
  const t = { start_ms: 0, interval_ms: 20, rtt_ms: rtt };
  const r = spikeRecovery(t, 4000, 7000);
  assert.ok(r >= 0.5 && r <= 0.9, `recovered after ${r} s`);
  assert.ok(spikeRecoveryPerPacket(t, 4000, 7000) > 2.9, 'per packet, the slow link is always late');
  // A queue that stays full after the spike (every packet +150 ms) is not recovered.
  const queued = rtt.map((x, i) => (i >= 230 && i < 350 ? (x ?? 0) + 150 : x));
  assert.ok(spikeRecovery({ ...t, rtt_ms: queued }, 4000, 7000) > 2.9);
});

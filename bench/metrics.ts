// Pure arithmetic over what the bench recorded: medians, the longest stall of a TCP transfer,
// what a VoIP-like stream lost, and how fast its delay recovered from a spike.
import type { VoipTrace } from './voip.ts';

export function median(xs: number[]): number {
  if (xs.length === 0) return NaN;
  const s = [...xs].sort((a, b) => a - b);
  const m = Math.floor(s.length / 2);
  return s.length % 2 ? s[m]! : (s[m - 1]! + s[m]!) / 2;
}

interface IperfInterval {
  sum?: { start?: number; end?: number; bytes?: number };
}

/** Longest run of seconds with no bytes delivered, from iperf3 -J -i <short> intervals, after `fromSec`. */
export function longestGap(raw: unknown, fromSec = 1): number {
  const ivs = ((raw as { intervals?: IperfInterval[] })?.intervals ?? []).map((i) => i.sum ?? {});
  let best = 0;
  let runStart: number | null = null;
  for (const s of ivs) {
    const start = s.start ?? 0;
    const end = s.end ?? start;
    if (end <= fromSec) continue;
    if ((s.bytes ?? 0) === 0) {
      runStart ??= start;
      best = Math.max(best, end - runStart);
    } else runStart = null;
  }
  return Math.round(best * 100) / 100;
}

/** Bytes delivered in the last `sec` seconds of the transfer (a session that died shows 0). */
export function bytesAtEnd(raw: unknown, sec: number): number {
  const ivs = ((raw as { intervals?: IperfInterval[] })?.intervals ?? []).map((i) => i.sum ?? {});
  const end = Math.max(0, ...ivs.map((s) => s.end ?? 0));
  return ivs.filter((s) => (s.start ?? 0) >= end - sec).reduce((a, s) => a + (s.bytes ?? 0), 0);
}

const sendTime = (t: VoipTrace, i: number) => t.start_ms + i * t.interval_ms;

/** Seconds of packets lost among those sent in [fromMs, toMs) (unix ms). */
export function voipLostSeconds(t: VoipTrace, fromMs: number, toMs: number): number {
  let lost = 0;
  t.rtt_ms.forEach((r, i) => {
    const at = sendTime(t, i);
    if (at >= fromMs && at < toMs && r === null) lost++;
  });
  return Math.round(((lost * t.interval_ms) / 1000) * 100) / 100;
}

/** Median round trip of packets sent in [fromMs, toMs). */
export function voipMedianRtt(t: VoipTrace, fromMs: number, toMs: number): number {
  const xs = t.rtt_ms.filter((r, i): r is number => r !== null && sendTime(t, i) >= fromMs && sendTime(t, i) < toMs);
  return median(xs);
}

/**
 * Seconds from the spike's start until the stream's delay is back within `marginMs` of its value
 * before (the median round trip over the 4 s before the spike). The stream's delay at a packet is
 * the median round trip of the packets around it (a window of `windowMs`, centred; a lost packet
 * counts as infinitely late): under round-robin consecutive packets take links of different base
 * delay, so single packets on the slowest link are always far above the stream's median, before
 * the spike as after it. The figure is the send time of the last packet in the spike whose window
 * is still too late. The margin is applied to the round trip.
 */
export function spikeRecovery(t: VoipTrace, spikeStartMs: number, spikeEndMs: number, marginMs = 50, windowMs = 500): number {
  const before = voipMedianRtt(t, spikeStartMs - 4000, spikeStartMs);
  const half = Math.max(0, Math.round(windowMs / t.interval_ms / 2));
  const late = (r: number | null) => (r === null ? Infinity : r);
  let last = spikeStartMs;
  t.rtt_ms.forEach((_, i) => {
    const at = sendTime(t, i);
    if (at < spikeStartMs || at >= spikeEndMs) return;
    const w = t.rtt_ms.slice(Math.max(0, i - half), i + half + 1).map(late);
    if (median(w) > before + marginMs) last = Math.max(last, at + t.interval_ms);
  });
  return Math.round(((last - spikeStartMs) / 1000) * 100) / 100;
}

/**
 * Seconds from the spike's command until the first packet it hit (lost, or late by `marginMs`):
 * the lab's own latency in starting it, which the spike figure above includes.
 */
export function spikeOnset(t: VoipTrace, spikeStartMs: number, spikeEndMs: number, marginMs = 50): number | null {
  const before = voipMedianRtt(t, spikeStartMs - 4000, spikeStartMs);
  const i = t.rtt_ms.findIndex((r, k) => sendTime(t, k) >= spikeStartMs && sendTime(t, k) < spikeEndMs && (r === null || r > before + marginMs));
  return i < 0 ? null : Math.round(((sendTime(t, i) - spikeStartMs) / 1000) * 100) / 100;
}

/** The same, judged per packet: the send time of the last packet in the spike that was lost or late. */
export function spikeRecoveryPerPacket(t: VoipTrace, spikeStartMs: number, spikeEndMs: number, marginMs = 50): number {
  return spikeRecovery(t, spikeStartMs, spikeEndMs, marginMs, 0);
}

/** True when the stream still got echoes in its last `sec` seconds. */
export function voipAliveAtEnd(t: VoipTrace, sec: number): boolean {
  const n = t.rtt_ms.length;
  const k = Math.round((sec * 1000) / t.interval_ms);
  return t.rtt_ms.slice(Math.max(0, n - k)).some((r) => r !== null);
}

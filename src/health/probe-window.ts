// Per-link probe bookkeeping: which probes went out, which came back and how fast, and what that
// says about the link (RTT, jitter, loss over a short and a long window, time of the last reply).
// Pure: the caller passes the clock (ms) in, so tests drive time by hand.

export interface WindowOptions {
  /** Probes kept for the long loss window (default 100 = 10 s at 10/s). */
  longSize?: number;
  /** Probes in the short loss window (default 10 = 1 s at 10/s). */
  shortSize?: number;
  /** Probe interval (ms): the floor of the loss timeout is three intervals. */
  intervalMs: number;
  /** A probe unanswered this long is lost whatever the RTT estimate says (ms). */
  maxLossTimeoutMs?: number;
}

export interface LinkMetrics {
  /** Smoothed RTT (ms), null before the first reply. */
  rtt_ms: number | null;
  /** RTT of the newest reply (ms). */
  last_rtt_ms: number | null;
  /** Lowest RTT in the long window: the link's base delay, what steering equalises. */
  min_rtt_ms: number | null;
  /** Mean variation between consecutive RTTs (RFC 3550 style), ms. */
  jitter_ms: number | null;
  loss_short_pct: number | null;
  loss_long_pct: number | null;
  /** Clock (ms) of the last reply, null if none yet. */
  last_reply: number | null;
  /** ms since the last reply (null if none yet). */
  since_reply_ms: number | null;
  /** The newest probe whose fate is known was lost (a link that just went silent). */
  newest_lost: boolean;
  /** How many of the newest decided probes were lost in a row. */
  lost_in_row: number;
  /** A probe counts as lost when unanswered after this long (ms). */
  loss_timeout_ms: number;
  sent: number;
  received: number;
}

interface Slot {
  seq: number;
  sentAt: number;
  rtt: number | null;
}

export class ProbeWindow {
  private readonly longSize: number;
  private readonly shortSize: number;
  private readonly intervalMs: number;
  private readonly maxLossTimeoutMs: number;
  private slots: Slot[] = [];
  private srtt: number | null = null;
  private rttvar = 0;
  private jitter: number | null = null;
  private lastRtt: number | null = null;
  private lastReply: number | null = null;
  private sentCount = 0;
  private receivedCount = 0;

  constructor(opts: WindowOptions) {
    this.intervalMs = opts.intervalMs;
    this.longSize = opts.longSize ?? 100;
    this.shortSize = opts.shortSize ?? 10;
    this.maxLossTimeoutMs = opts.maxLossTimeoutMs ?? 2000;
  }

  sent(seq: number, now: number): void {
    this.slots.push({ seq, sentAt: now, rtt: null });
    if (this.slots.length > this.longSize) this.slots.splice(0, this.slots.length - this.longSize);
    this.sentCount++;
  }

  /** Record a reply; returns its RTT, or null for an unknown or duplicate sequence number. */
  replied(seq: number, now: number): number | null {
    const slot = this.slots.find((s) => s.seq === seq);
    if (!slot || slot.rtt !== null || now < slot.sentAt) return null;
    const rtt = now - slot.sentAt;
    slot.rtt = rtt;
    this.receivedCount++;
    this.lastReply = now;
    if (this.lastRtt !== null) {
      const d = Math.abs(rtt - this.lastRtt);
      this.jitter = this.jitter === null ? d : this.jitter + (d - this.jitter) / 16;
    }
    this.lastRtt = rtt;
    if (this.srtt === null) {
      this.srtt = rtt;
      this.rttvar = rtt / 2;
    } else {
      this.rttvar = 0.75 * this.rttvar + 0.25 * Math.abs(this.srtt - rtt);
      this.srtt = 0.875 * this.srtt + 0.125 * rtt;
    }
    return rtt;
  }

  /** Like TCP's RTO, but tighter: a silent link must be noticed in a few hundred ms. */
  lossTimeout(): number {
    const floor = 3 * this.intervalMs;
    if (this.srtt === null) return Math.max(floor, Math.min(1000, this.maxLossTimeoutMs));
    const rto = this.srtt + Math.max(4 * this.rttvar, 50);
    return Math.min(this.maxLossTimeoutMs, Math.max(floor, rto));
  }

  metrics(now: number): LinkMetrics {
    const timeout = this.lossTimeout();
    // Decided = answered, or unanswered for longer than the loss timeout.
    const decided = this.slots.filter((s) => s.rtt !== null || now - s.sentAt > timeout);
    const lossOf = (xs: Slot[]) => (xs.length === 0 ? null : (100 * xs.filter((s) => s.rtt === null).length) / xs.length);
    let lostInRow = 0;
    for (let i = decided.length - 1; i >= 0 && decided[i]!.rtt === null; i--) lostInRow++;
    const rtts = this.slots.filter((s) => s.rtt !== null).map((s) => s.rtt as number);
    return {
      rtt_ms: this.srtt,
      last_rtt_ms: this.lastRtt,
      min_rtt_ms: rtts.length ? Math.min(...rtts) : null,
      jitter_ms: this.jitter,
      loss_short_pct: lossOf(decided.slice(-this.shortSize)),
      loss_long_pct: lossOf(decided),
      last_reply: this.lastReply,
      since_reply_ms: this.lastReply === null ? null : now - this.lastReply,
      newest_lost: lostInRow > 0,
      lost_in_row: lostInRow,
      loss_timeout_ms: timeout,
      sent: this.sentCount,
      received: this.receivedCount,
    };
  }
}

// Per-link probe bookkeeping: which probes went out, which came back and how fast, and what that
// says about the link (RTT, jitter, loss over a short and a long window, time of the last reply).
// Pure: the caller passes the clock (ms) in, so tests drive time by hand.

export interface WindowOptions {
  /** Probes kept for the long loss window (default 100 = 10 s at 10/s). */
  longSize?: number;
  /** Probes in the short loss window (default 10 = 1 s at 10/s). */
  shortSize?: number;
  /** Probe interval (ms): the floor of the loss timeout is two intervals. */
  intervalMs: number;
  /** Cap on the silence timeout (ms). Default 2000. */
  maxLossTimeoutMs?: number;
  /**
   * Loss statistics count a probe as lost once unanswered this long (ms; default 1000, set it to
   * failure_latency). Shorter would count probes held in a busy modem's queue as lost.
   */
  lossAfterMs?: number;
}

export interface LinkMetrics {
  /** Smoothed RTT (ms), null before the first reply. */
  rtt_ms: number | null;
  /** RTT of the newest reply (ms). */
  last_rtt_ms: number | null;
  /** Lowest RTT in the long window: the link's base delay. */
  min_rtt_ms: number | null;
  /**
   * Lowest one-way delay toward the peer over the last minute, plus a clock offset common to every
   * link (the peer's `d`): what steering equalises, where the peer reports it. Null before that.
   */
  min_fwd_ms: number | null;
  /** Mean variation between consecutive RTTs (RFC 3550 style), ms. */
  jitter_ms: number | null;
  loss_short_pct: number | null;
  loss_long_pct: number | null;
  /** Clock (ms) of the last reply, null if none yet. */
  last_reply: number | null;
  /** ms since the last reply (null if none yet). */
  since_reply_ms: number | null;
  /**
   * Nothing came back although replies were due: a probe is unanswered past the silence timeout
   * and no reply at all arrived within it (a cut link, or a delay spike beginning).
   */
  silent: boolean;
  /** The newest probes unanswered past the silence timeout, in a row. */
  lost_in_row: number;
  /** Age of the oldest probe still unanswered since the last reply: a lower bound on RTT now. */
  pending_age_ms: number | null;
  /** When the newest answered probe was sent: the link (and both ends) worked at least until then. */
  answered_sent_at: number | null;
  /** Silence timeout (ms): follows the RTT like TCP's RTO, but tighter. */
  loss_timeout_ms: number;
  sent: number;
  received: number;
}

interface Slot {
  seq: number;
  sentAt: number;
  rtt: number | null;
  /** Sent while one of our own packet trains held the link's queue (see shadow). */
  shadow: boolean;
}

/**
 * The peer's one-way samples are kept this long (ms), as one lowest per second: under load a probe
 * waits behind a full packet on the modem (48 ms on a 250 kbit/s uplink), and over 10 s the lowest
 * sample moved by 2-5 ms from one window to the next, each move a netem change. Longer is not
 * better: the two ends' clocks drift apart by their skew, and the links' lowest samples fall at
 * different times (free-running clocks, tens of ppm: a few ms a minute; NTP keeps it far less).
 */
const FWD_KEEP_MS = 60_000;

export class ProbeWindow {
  private readonly longSize: number;
  private readonly shortSize: number;
  private readonly intervalMs: number;
  private readonly maxLossTimeoutMs: number;
  private readonly lossAfterMs: number;
  private slots: Slot[] = [];
  private srtt: number | null = null;
  private rttvar = 0;
  private jitter: number | null = null;
  private lastRtt: number | null = null;
  private lastReply: number | null = null;
  private sentCount = 0;
  private receivedCount = 0;
  /** Lowest one-way sample per second (clock / 1000, floored). */
  private fwdBySecond = new Map<number, number>();
  private shadowUntil = -Infinity;
  /** Clock of the last datagram of any kind from the peer on this link (see shadow). */
  private lastHeard: number | null = null;

  constructor(opts: WindowOptions) {
    this.intervalMs = opts.intervalMs;
    this.longSize = opts.longSize ?? 100;
    this.shortSize = opts.shortSize ?? 10;
    this.maxLossTimeoutMs = opts.maxLossTimeoutMs ?? 2000;
    this.lossAfterMs = opts.lossAfterMs ?? 1000;
  }

  sent(seq: number, now: number): void {
    this.slots.push({ seq, sentAt: now, rtt: null, shadow: now <= this.shadowUntil });
    if (this.slots.length > this.longSize) this.slots.splice(0, this.slots.length - this.longSize);
    this.sentCount++;
  }

  /**
   * Record a reply (`fwd`: the peer's one-way delay sample, see min_fwd_ms); returns its RTT, or
   * null for an unknown or duplicate sequence number. `late`: this end read it late (it had
   * stalled): the probe counts as answered, its round trip is not the link's and is not measured.
   */
  replied(seq: number, now: number, fwd?: number, late = false): number | null {
    const slot = this.slots.find((s) => s.seq === seq);
    if (!slot || slot.rtt !== null || now < slot.sentAt) return null;
    if (late) slot.shadow = true;
    const rtt = now - slot.sentAt;
    slot.rtt = rtt;
    this.receivedCount++;
    this.lastReply = now;
    this.heard(now);
    if (slot.shadow) return rtt;
    if (fwd !== undefined) {
      const sec = Math.floor(now / 1000);
      this.fwdBySecond.set(sec, Math.min(fwd, this.fwdBySecond.get(sec) ?? Infinity));
      for (const k of this.fwdBySecond.keys()) if (k < sec - FWD_KEEP_MS / 1000) this.fwdBySecond.delete(k);
    }
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

  /**
   * This end could not run from `from` (its last tick) to `t` (a stalled process or starved CPU):
   * forget the unanswered probes whose silence deadline fell inside that gap, as their lateness
   * says nothing about the link. Replies to them, read at last, are ignored as unknown. Probes
   * already overdue at `from` were judged before the stall and stay: forgetting them as well threw
   * a cut's evidence away, and a cut link left the bond 1.5-2.7 s after the cut instead of 0.7-1.
   */
  forgetPending(from: number, t: number): void {
    const timeout = this.lossTimeout();
    this.slots = this.slots.filter((s) => s.rtt !== null || s.sentAt >= t || s.sentAt + timeout < from);
    // Those kept count as silence only if the peer stays silent (see heard): their replies may be
    // in the backlog, and their round trips, stall included, are not the link's (measured, they
    // made a live link `degraded`: "rtt 1222.6 ms > failure_latency").
    for (const s of this.slots) if (s.rtt === null && s.sentAt < t) s.shadow = true;
  }

  /**
   * The peer could not run while the probes sent from `from` to `until` reached it (it said so,
   * see stallSchema): forget those still unanswered. Their replies, if any, carry the peer's stall
   * in their round trip and are ignored as unknown; their silence says nothing about the link.
   * Judged, one link whose replies the peer sent last after a 1.2 s stall went down alone, and a
   * reply held through it made another `degraded` (stack-measure red in CI on a loaded host).
   */
  peerStalled(from: number, until: number): void {
    this.slots = this.slots.filter((s) => s.rtt !== null || s.sentAt < from || s.sentAt > until);
  }

  /**
   * Probes sent from `from` to `until` (past or future) shared the link's queue with one of this
   * product's own packet trains: what they show is the train (24 full packets hold a 250 kbit/s
   * uplink for 0.9 s), not the link. They are neither judged nor measured while the peer is still
   * heard on the link (see heard); a reply to one still shows the link alive. Judged on them, a
   * slow link left the bond at every train it was measured with, and trains wait for a link that
   * is up.
   */
  shadow(from: number, until: number): void {
    for (const s of this.slots) if (s.sentAt >= from && s.sentAt <= until) s.shadow = true;
    this.shadowUntil = Math.max(this.shadowUntil, until);
  }

  /**
   * A datagram from the peer arrived on this link (a probe, a reply, a train, a report). A train
   * holds one direction only, and the peer's probes keep coming the other way: while they do, a
   * shadowed probe is excused. A cut link falls silent both ways, and its shadowed probes are then
   * judged like any: a link the demo cut during one of its first trains (rate unknown: a 2 s
   * shadow) was judged down only after 4 s without a reply.
   */
  heard(at: number): void {
    if (this.lastHeard === null || at > this.lastHeard) this.lastHeard = at;
  }

  /**
   * Like TCP's RTO, but tighter: a silent link must be noticed in a few hundred ms. A link is down
   * after `down` silent checks, one per interval, counted from this timeout: with three intervals
   * (300 ms) a cut or spiking link left the bond 0.9-1.3 s after the bench's command, with two
   * 0.76-1.13 s (full bench, both profiles). Silence needs no reply at all for this long, so a
   * queue that grows while replies keep coming is not silence, and every link silent together is
   * judged a stall (silenceIsLinks).
   */
  lossTimeout(): number {
    const floor = 2 * this.intervalMs;
    if (this.srtt === null) return Math.max(floor, Math.min(1000, this.maxLossTimeoutMs));
    const rto = this.srtt + Math.max(4 * this.rttvar, 50);
    return Math.min(this.maxLossTimeoutMs, Math.max(floor, rto));
  }

  /** Clock of the last datagram from the peer on this link (see heard), null before any. */
  get heardAt(): number | null {
    return this.lastHeard;
  }

  /**
   * `heardElsewhere`: when the same peer was last heard on any of its other links (null: it has
   * none). A shadowed probe is excused while the peer is heard here about as recently as there:
   * a peer that runs late (a process start, a busy CPU) falls quiet on every link together, and
   * judged against the clock alone, the slow link under a train went down while the peer was
   * merely late. A cut link falls behind the others.
   */
  metrics(now: number, heardElsewhere: number | null = null): LinkMetrics {
    const timeout = this.lossTimeout();
    // Unexcused, the shadowed probes still pending count; those a train's queue dropped long
    // before stay out of the loss statistics.
    const ref = heardElsewhere === null ? now : Math.min(now, heardElsewhere);
    const excused = this.lastHeard !== null && ref - this.lastHeard <= timeout;
    const answeredUpTo = Math.max(-Infinity, ...this.slots.filter((s) => s.rtt !== null).map((s) => s.sentAt));
    const slots = this.slots.filter((s) => !s.shadow || (!excused && s.rtt === null && s.sentAt > answeredUpTo));
    let lastAnswered = -1;
    for (let i = slots.length - 1; i >= 0; i--) {
      if (slots[i]!.rtt !== null) {
        lastAnswered = i;
        break;
      }
    }
    // Loss statistics: a probe is decided when answered, unanswered for longer than lossAfterMs,
    // or unanswered past the silence timeout while a later probe came back (a gap, as TCP's RACK
    // sees it). Probes merely held in a growing queue are neither.
    const decided = slots.filter(
      (s, i) => s.rtt !== null || now - s.sentAt > this.lossAfterMs || (i < lastAnswered && now - s.sentAt > timeout),
    );
    const lossOf = (xs: Slot[]) => (xs.length === 0 ? null : (100 * xs.filter((s) => s.rtt === null).length) / xs.length);
    // Probes since the last answered one: the link's present, whatever the statistics say.
    const pending = slots.slice(lastAnswered + 1);
    const overdue = pending.filter((s) => now - s.sentAt > timeout);
    const sinceReply = this.lastReply === null ? null : now - this.lastReply;
    const rtts = slots.filter((s) => s.rtt !== null).map((s) => s.rtt as number);
    return {
      rtt_ms: this.srtt,
      last_rtt_ms: this.lastRtt,
      min_rtt_ms: rtts.length ? Math.min(...rtts) : null,
      min_fwd_ms: this.fwdBySecond.size ? Math.min(...this.fwdBySecond.values()) : null,
      jitter_ms: this.jitter,
      loss_short_pct: lossOf(decided.slice(-this.shortSize)),
      loss_long_pct: lossOf(decided),
      last_reply: this.lastReply,
      since_reply_ms: sinceReply,
      silent: overdue.length > 0 && (sinceReply === null || sinceReply > timeout),
      lost_in_row: overdue.length,
      pending_age_ms: pending.length ? now - pending[0]!.sentAt : null,
      answered_sent_at: lastAnswered >= 0 ? slots[lastAnswered]!.sentAt : null,
      loss_timeout_ms: timeout,
      sent: this.sentCount,
      received: this.receivedCount,
    };
  }
}

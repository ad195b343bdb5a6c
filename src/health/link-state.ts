// The per-link health state machine, mwan3's thresholds and counts with wanbond's two states
// for "replies come back but too slow or lossy" (degraded) and "nothing comes back" (down).
// Pure: one step per probe interval, the caller supplies the clock (ms).
import type { Health } from '../config/types.ts';
import type { LinkMetrics } from './probe-window.ts';

export type Health3 = 'up' | 'degraded' | 'down';

/** One probe interval's verdict on a link. */
export interface Check {
  kind: 'good' | 'bad' | 'neutral';
  /** bad because nothing comes back (down), as opposed to too slow / lossy (degraded). */
  silent: boolean;
  reason: string;
}

const fmt = (x: number) => (Math.round(x * 10) / 10).toString();

/** Classify the link's current metrics against the thresholds (mwan3's meanings). */
export function classify(m: LinkMetrics, h: Health): Check {
  if (m.silent) {
    const reason = m.since_reply_ms === null ? 'no probe answered' : `no reply for ${fmt(m.since_reply_ms)} ms (${m.lost_in_row} probe(s) overdue)`;
    return { kind: 'bad', silent: true, reason };
  }
  // Replies still come: judge how late. A pending probe older than the threshold counts already.
  const late = Math.max(m.last_rtt_ms ?? 0, m.pending_age_ms ?? 0);
  if (late > h.failure_latency) return { kind: 'bad', silent: false, reason: `rtt ${fmt(late)} ms > failure_latency ${h.failure_latency} ms` };
  if (m.loss_short_pct !== null && m.loss_short_pct > h.failure_loss)
    return { kind: 'bad', silent: false, reason: `loss ${fmt(m.loss_short_pct)} % > failure_loss ${h.failure_loss} %` };
  if (m.last_rtt_ms === null) return { kind: 'neutral', silent: false, reason: 'waiting for the first reply' };
  const loss = m.loss_short_pct ?? 0;
  if (late <= h.recovery_latency && loss <= h.recovery_loss) return { kind: 'good', silent: false, reason: `rtt ${fmt(m.last_rtt_ms)} ms, loss ${fmt(loss)} %` };
  return { kind: 'neutral', silent: false, reason: `rtt ${fmt(late)} ms, loss ${fmt(loss)} % between recovery and failure thresholds` };
}

/**
 * Whether a silent link's silence is its own. When every link falls silent at once, the likelier
 * cause is either end stalling (a busy CPU, an agent blocked starting a process) or the
 * concentrator being gone, not every modem failing in the same instant: taking links out one by
 * one then only churns the bond. So a silence counts once another link has answered a probe that
 * reached the peer after this link's first unanswered one would have (each sent time plus half
 * its link's lowest round trip: a peer that stalls answers a fast link's probes sent a little
 * later than a slow link's, and the slow link alone looked silent, 0.5-0.8 s stalls of an agent
 * starting `tc` in the lab), or once every link has been silent for `allSilentGraceMs` (the
 * concentrator really is gone: links go down and fallback can start). A lone link's silence
 * always counts.
 */
export function silenceIsLinks(m: LinkMetrics, others: LinkMetrics[], now: number, allSilentGraceMs: number): boolean {
  if (!m.silent || others.length === 0 || m.pending_age_ms === null) return true;
  const reach = (x: LinkMetrics) => (x.min_rtt_ms ?? 0) / 2;
  const from = now - m.pending_age_ms + reach(m);
  if (others.some((o) => o.answered_sent_at !== null && o.answered_sent_at + reach(o) >= from)) return true;
  return m.pending_age_ms >= allSilentGraceMs;
}

export interface Transition {
  from: Health3;
  to: Health3;
  reason: string;
  time: number;
}

export interface DampingOptions {
  /** Failures within this long count towards flap damping (ms). Default 60 s. */
  flapWindowMs?: number;
  /** The `up` count is multiplied by 2^flaps, at most by this. Default 8. */
  maxFactor?: number;
}

/**
 * up/degraded/down with consecutive-check hysteresis: `down` bad checks to leave up, `up` good
 * checks to return; each recent failure doubles the checks needed to return (flap damping), so a
 * link that comes and goes every couple of seconds stops bouncing the bond.
 */
export class LinkStateMachine {
  state: Health3 = 'down';
  since: number;
  reason = 'starting: no probe answered yet';
  private bad = 0;
  private good = 0;
  private silentBad = 0;
  private failures: number[] = [];
  private readonly flapWindowMs: number;
  private readonly maxFactor: number;

  constructor(
    private health: Health,
    now: number,
    opts: DampingOptions = {},
  ) {
    this.since = now;
    this.flapWindowMs = opts.flapWindowMs ?? 60_000;
    this.maxFactor = opts.maxFactor ?? 8;
  }

  setHealth(h: Health): void {
    this.health = h;
  }

  /** Good checks needed to come back now: `up`, doubled per recent failure beyond the first. */
  upNeeded(now: number): number {
    this.failures = this.failures.filter((t) => now - t <= this.flapWindowMs);
    const flaps = Math.max(0, this.failures.length - 1);
    return this.health.up * Math.min(this.maxFactor, 2 ** flaps);
  }

  step(c: Check, now: number): Transition | null {
    if (c.kind === 'bad') {
      this.bad++;
      this.silentBad = c.silent ? this.silentBad + 1 : 0;
      this.good = 0;
    } else if (c.kind === 'good') {
      this.good++;
      this.bad = 0;
      this.silentBad = 0;
    } else {
      // Between the thresholds: an up link stays up, a failed link does not get closer to up.
      this.good = 0;
      this.bad = 0;
      this.silentBad = 0;
    }
    const down = Math.max(1, this.health.down);
    let to: Health3 = this.state;
    if (this.state === 'up' && this.bad >= down) to = this.silentBad >= down ? 'down' : 'degraded';
    else if (this.state === 'degraded' && this.silentBad >= down) to = 'down';
    else if (this.state === 'down' && c.kind === 'bad' && !c.silent && this.bad >= down) to = 'degraded';
    else if (this.state !== 'up' && this.good >= this.upNeeded(now)) to = 'up';
    if (to === this.state) return null;
    if (this.state === 'up') this.failures.push(now);
    const t: Transition = {
      from: this.state,
      to,
      time: now,
      reason: to === 'up' ? `${this.good} good probes in a row (${c.reason})` : `${this.bad} bad probes in a row: ${c.reason}`,
    };
    this.state = to;
    this.since = now;
    this.reason = t.reason;
    if (to === 'up') this.good = 0;
    return t;
  }
}

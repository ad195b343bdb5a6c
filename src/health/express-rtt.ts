// The round trip express is chosen by. The smoothed RTT alone reacts to a cut or a delay spike
// only as late replies come in (a cut link sends none), and the link state machine takes `down`
// intervals: too slow for a call, whose every packet rides the express link. So a link whose
// oldest unanswered probe has waited well past its usual round trip counts that wait as its round
// trip now, and express leaves it within about a quarter second: but only once a probe another
// link sent later has come back. A stall of this end or of the peer (a busy router) holds every
// link's replies alike and blames none, whatever their round trips. Pure.
import type { LinkMetrics } from './probe-window.ts';

/** Probe intervals an unanswered probe may wait beyond the usual round trip before it counts. */
const LATE_INTERVALS = 2.5;

export interface ExpressRtt {
  rtt_ms: number | null;
  /** Counted by its unanswered probe's wait: express should leave it now. */
  late: boolean;
}

export function expressRtts(links: { metrics: LinkMetrics | null; group: string }[], intervalMs: number, now: number): ExpressRtt[] {
  return links.map(({ metrics: m, group }, i) => {
    if (!m || m.rtt_ms === null) return { rtt_ms: null, late: false };
    const overdue = m.pending_age_ms !== null && m.pending_age_ms > m.rtt_ms + LATE_INTERVALS * intervalMs;
    const stuckSince = now - (m.pending_age_ms ?? 0);
    const othersAnswered = links.some((o, j) => j !== i && o.group === group && (o.metrics?.answered_sent_at ?? -Infinity) >= stuckSince);
    return overdue && othersAnswered ? { rtt_ms: m.pending_age_ms!, late: true } : { rtt_ms: m.rtt_ms, late: false };
  });
}

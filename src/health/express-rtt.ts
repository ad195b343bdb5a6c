// The round trip express is chosen by. The smoothed RTT alone reacts to a cut or a delay spike
// only as late replies come in (a cut link sends none), and the link state machine takes `down`
// intervals: too slow for a call, whose every packet rides the express link. So a link whose
// oldest unanswered probe has waited well past its usual round trip counts that wait as its round
// trip now: express leaves it within about a quarter second. Unless every link of the group is
// late at once: then this end (or the peer) stalled, and no link is to blame. Pure.
import type { LinkMetrics } from './probe-window.ts';

/** Probe intervals an unanswered probe may wait beyond the usual round trip before it counts. */
const LATE_INTERVALS = 2.5;

export interface ExpressRtt {
  rtt_ms: number | null;
  /** Counted by its unanswered probe's wait: express should leave it now. */
  late: boolean;
}

export function expressRtts(links: { metrics: LinkMetrics | null; group: string }[], intervalMs: number): ExpressRtt[] {
  const late = (m: LinkMetrics | null) => !!m && m.rtt_ms !== null && (m.pending_age_ms ?? 0) > m.rtt_ms + LATE_INTERVALS * intervalMs;
  const answering = new Set(links.filter((l) => l.metrics?.rtt_ms != null && !late(l.metrics)).map((l) => l.group));
  return links.map(({ metrics: m, group }) => {
    if (!m || m.rtt_ms === null) return { rtt_ms: null, late: false };
    return late(m) && answering.has(group) ? { rtt_ms: m.pending_age_ms!, late: true } : { rtt_ms: m.rtt_ms, late: false };
  });
}

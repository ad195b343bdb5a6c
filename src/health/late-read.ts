// When a datagram really arrived, as far as this end can tell. A process that did not run for a
// while (a starved CPU, a process start, a long GC) reads everything that came meanwhile at once,
// stamped with the time it woke: a packet train's first packet read 460 ms late made the replies
// held behind it look like a silent link (see HealthMonitor's train handling).

/** A time this end did not tick for more than 2.5 probe intervals (clock ms). */
export interface LateSpan {
  from: number;
  to: number;
}

/**
 * The earliest a datagram read at `at` may have arrived: `at` itself, or when this end stopped
 * running if it was late then. Late now means no tick since `lastTick` for over 2.5 intervals (a
 * span the next tick will record); late before means a recorded span that ended at most one
 * interval before `at` (the tick that noticed it ran first, the backlog is read after it).
 */
export function earliestArrival(at: number, lastTick: number | null, spans: readonly LateSpan[], intervalMs: number): number {
  let since = at;
  if (lastTick !== null && at - lastTick > 2.5 * intervalMs) since = lastTick;
  for (const s of spans) if (s.from < since && at <= s.to + intervalMs) since = s.from;
  return since;
}

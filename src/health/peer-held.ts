// Which links the peer holds out of its transmit set, and which this end holds out by its own
// judgement. Releasing a gretap from a bond also stops it receiving: a link one end takes out
// alone (a stall at that end, a one-way failure, a link disabled there) would swallow everything
// the other end still sends on it. Each end reports what it holds; the other follows. Only what
// an end decides from its own probes is reported, never what it follows, so two ends cannot hold
// a link out for each other. Pure, the caller's clock (ms).
import type { TransmitDecision } from './transmit-set.ts';

/** A report not refreshed for this long is forgotten (reports come every second on every link). */
export const PEER_HELD_TTL_MS = 3000;

/**
 * Links this end keeps out of its transmit set because of their own health or because they are
 * disabled here: not a healthy backup waiting (the peer knows the roles) and not a link kept in
 * because nothing answers.
 */
export function heldByJudgement(own: TransmitDecision): string[] {
  return Object.entries(own.states)
    .filter(([name, state]) => !own.members.includes(name) && state !== 'backup')
    .map(([name]) => name);
}

interface Report {
  ids: Set<number>;
  at: number;
  receivedAt: number;
}

/** The peer's latest report per group (a concentrator's site; '' on the router). */
export class PeerHeld {
  private reports = new Map<string, Report>();

  /** Takes a report unless it is older (by the peer's clock) than one still current. */
  accept(group: string, at: number, ids: number[], now: number): boolean {
    const cur = this.current(group, now);
    if (cur && at <= cur.at) return false;
    this.reports.set(group, { ids: new Set(ids), at, receivedAt: now });
    return true;
  }

  holds(group: string, id: number, now: number): boolean {
    return this.current(group, now)?.ids.has(id) ?? false;
  }

  private current(group: string, now: number): Report | undefined {
    const r = this.reports.get(group);
    return r && now - r.receivedAt < PEER_HELD_TTL_MS ? r : undefined;
  }
}

// Router only: when every tunnel has been silent for `globals.fallback_timeout`, LAN traffic
// goes straight out of the WANs (mwan3-style) so the home stays online; it returns to the bond
// as soon as any tunnel answers well again. Pure; the stack applies the decision.

export interface FallbackDecision {
  fallback: boolean;
  reason: string;
  time: number;
}

export class FallbackTracker {
  private allDownSince: number | null = null;
  decision: FallbackDecision;

  constructor(
    private enabled: boolean,
    private timeoutMs: number,
    now: number,
  ) {
    this.decision = { fallback: false, reason: 'starting', time: now };
  }

  configure(enabled: boolean, timeoutMs: number): void {
    this.enabled = enabled;
    this.timeoutMs = timeoutMs;
  }

  /** Feed the number of links in the transmit set; returns the decision when it changes. */
  update(members: number, now: number): FallbackDecision | null {
    if (members > 0) {
      this.allDownSince = null;
      if (!this.decision.fallback) return null;
      return this.set(false, 'a tunnel answers again: back to the bond', now);
    }
    this.allDownSince ??= now;
    if (this.decision.fallback || !this.enabled) return null;
    const silentMs = now - this.allDownSince;
    if (silentMs < this.timeoutMs) return null;
    return this.set(true, `every tunnel down for ${Math.round(silentMs / 1000)} s: LAN traffic goes straight out of the WANs`, now);
  }

  private set(fallback: boolean, reason: string, now: number): FallbackDecision {
    this.decision = { fallback, reason, time: now };
    return this.decision;
  }
}

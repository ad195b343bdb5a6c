// Measured capacity of one link in one direction, from its interface byte counter: the peak
// arrival rate seen recently (a link shows its capacity only while it is busy), decaying slowly
// so that a link that got slower is believed after a while. Pure: caller passes counter and clock.

export interface CapacityOptions {
  /** Rate sample length (ms). Default 1000. */
  sampleMs?: number;
  /** The peak halves over this long without being matched (ms). Default 60 s. */
  halfLifeMs?: number;
}

export class CapacityEstimator {
  private lastBytes: number | null = null;
  private lastAt = 0;
  private peak = 0;
  private peakAt = 0;
  /** Rate of the last completed sample, kbit/s. */
  current = 0;
  private readonly sampleMs: number;
  private readonly halfLifeMs: number;

  constructor(opts: CapacityOptions = {}) {
    this.sampleMs = opts.sampleMs ?? 1000;
    this.halfLifeMs = opts.halfLifeMs ?? 60_000;
  }

  /** Feed the interface's cumulative byte counter. */
  sample(bytes: number, now: number): void {
    if (this.lastBytes === null || bytes < this.lastBytes) {
      this.lastBytes = bytes;
      this.lastAt = now;
      return;
    }
    const dt = now - this.lastAt;
    if (dt < this.sampleMs) return;
    this.current = ((bytes - this.lastBytes) * 8) / dt; // bytes per ms * 8 = kbit/s
    this.lastBytes = bytes;
    this.lastAt = now;
    if (this.current >= this.decayed(now)) {
      this.peak = this.current;
      this.peakAt = now;
    }
  }

  private decayed(now: number): number {
    return this.peak * 0.5 ** ((now - this.peakAt) / this.halfLifeMs);
  }

  /** Best estimate of capacity (kbit/s), 0 when never seen busy. */
  estimate(now: number): number {
    return Math.round(this.decayed(now));
  }
}

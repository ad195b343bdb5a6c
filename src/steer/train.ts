// Link capacity from a packet train: packets sent back to back leave the link's bottleneck spaced
// by their serialisation time there, so bytes over the spread of their arrivals is the bottleneck's
// rate (the dispersion method of pathrate/pathload). Used where no rate is configured: unlike the
// arrival rate under round-robin, it does not depend on the share the bond gives the link. Pure.
import { MODEM_ETHERNET, WG_OVERHEAD_V4 } from '../plan/addressing.ts';

export interface TrainArrival {
  k: number; // position in the train
  at: number; // arrival, ms (monotonic)
  wireBytes: number; // the packet's size on the modem's link
}

/** Bytes a health datagram of `payload` bytes takes on the modem's link (WireGuard over IPv4, Ethernet). */
export function trainWireBytes(payload: number): number {
  const inner = payload + 8 + 20; // UDP + IP inside the tunnel
  return Math.ceil(inner / 16) * 16 + WG_OVERHEAD_V4 + MODEM_ETHERNET; // WireGuard pads its payload to 16 bytes
}

/**
 * kbit/s from the arrivals of one train; null when too few arrived (a loss burst, a link going
 * down) or they came too close together to time (a receiver that read a backlog at once, or most
 * of the train in bursts). The
 * time per packet is the least-squares slope of arrival time over position, not the spread of the
 * first and last alone: a receiver busy for a moment reads a few packets late, and only those few
 * then move the line.
 */
export function trainRate(arrivals: TrainArrival[], sent: number): number | null {
  const a = [...arrivals].sort((x, y) => x.k - y.k);
  if (a.length < Math.max(4, Math.ceil(sent / 2))) return null;
  if (a[a.length - 1]!.at - a[0]!.at < 2) return null;
  const outside = msPerPacketOutsideBursts(a);
  if (outside === 'unusable') return null;
  const msPerPacket = outside === 'slope' ? slope(a) : outside;
  if (!(msPerPacket > 0)) return null;
  const bytes = a.reduce((s, x) => s + x.wireBytes, 0) / a.length;
  return Math.round((bytes * 8) / msPerPacket); // bits per ms = kbit/s
}

/** Least-squares slope of arrival time over position (ms per packet). */
function slope(a: TrainArrival[]): number {
  const n = a.length;
  const mk = a.reduce((s, x) => s + x.k, 0) / n;
  const mt = a.reduce((s, x) => s + x.at, 0) / n;
  const cov = a.reduce((s, x) => s + (x.k - mk) * (x.at - mt), 0);
  const vk = a.reduce((s, x) => s + (x.k - mk) ** 2, 0);
  return cov / vk;
}

/** Arrival gap per train position between consecutive arrivals (ms), a lost packet spread over its neighbours. */
function gapsOf(a: TrainArrival[]): number[] {
  const gaps: number[] = [];
  for (let i = 1; i < a.length; i++) gaps.push((a[i]!.at - a[i - 1]!.at) / (a[i]!.k - a[i - 1]!.k));
  return gaps;
}

/**
 * When many packets came much closer together than the train's mean spacing, the receiver read
 * them in bursts (its CPU busy a moment): their spread is not the link's, and the slope would make
 * the link look faster (in the lab one 1 Mbit/s upload read as 1.74). The gaps outside the bursts
 * are still the link's: their median is the time per packet, as long as fewer than half the gaps
 * are squeezed; with more, nothing in the train is the link's (seen in the lab: a 4 Mbit/s link
 * read as 86). Judged only where packets are 2 ms or more apart (links up to ~5 Mbit/s): a
 * receiver batches a faster link's packets anyway (interrupt coalescing), and there only the slope
 * over the whole train says anything. 'slope' when the train was not read in bursts, 'unusable'
 * when it was read mostly in bursts.
 */
function msPerPacketOutsideBursts(a: TrainArrival[]): number | 'slope' | 'unusable' {
  const first = a[0]!, last = a[a.length - 1]!;
  const mean = (last.at - first.at) / (last.k - first.k);
  if (mean < 2) return 'slope';
  const gaps = gapsOf(a);
  const squeezed = gaps.filter((g) => g < 0.25 * mean).length;
  if (squeezed <= 0.25 * gaps.length) return 'slope';
  if (squeezed >= 0.5 * gaps.length) return 'unusable';
  return [...gaps].sort((x, y) => x - y)[Math.floor(gaps.length / 2)]!;
}

/** Median of the last few estimates: a train or two disturbed by other traffic does not move it. */
export class TrainEstimate {
  private xs: { kbit: number; quiet: boolean }[] = [];
  /** When the last train was measured (ms), for re-measuring now and then. */
  measuredAt = -Infinity;
  constructor(private readonly keep = 5) {}

  /** `quiet`: the link carried little when the train started (a train under load sees only what the load leaves). */
  add(kbit: number, now: number, quiet = true): void {
    this.xs = [...this.xs, { kbit, quiet }].slice(-this.keep);
    this.measuredAt = now;
  }

  get count(): number {
    return this.xs.length;
  }

  get quietCount(): number {
    return this.xs.filter((x) => x.quiet).length;
  }

  /** kbit/s: the median of the trains measured quiet, else of all; null before the first train. */
  value(): number | null {
    const quiet = this.xs.filter((x) => x.quiet);
    const use = quiet.length ? quiet : this.xs;
    if (!use.length) return null;
    const s = use.map((x) => x.kbit).sort((a, b) => a - b);
    return s[Math.floor((s.length - 1) / 2)]!;
  }
}

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
 * down) or they came too close together to time (a receiver that read a backlog at once). The
 * time per packet is the least-squares slope of arrival time over position, not the spread of the
 * first and last alone: a receiver busy for a moment reads a few packets late, and only those few
 * then move the line.
 */
export function trainRate(arrivals: TrainArrival[], sent: number): number | null {
  const a = [...arrivals].sort((x, y) => x.k - y.k);
  if (a.length < Math.max(4, Math.ceil(sent / 2))) return null;
  if (a[a.length - 1]!.at - a[0]!.at < 2) return null;
  const n = a.length;
  const mk = a.reduce((s, x) => s + x.k, 0) / n;
  const mt = a.reduce((s, x) => s + x.at, 0) / n;
  const cov = a.reduce((s, x) => s + (x.k - mk) * (x.at - mt), 0);
  const vk = a.reduce((s, x) => s + (x.k - mk) ** 2, 0);
  const msPerPacket = cov / vk;
  if (!(msPerPacket > 0)) return null;
  const bytes = a.reduce((s, x) => s + x.wireBytes, 0) / n;
  return Math.round((bytes * 8) / msPerPacket); // bits per ms = kbit/s
}

/** Median of the last few estimates: a train or two disturbed by other traffic does not move it. */
export class TrainEstimate {
  private xs: number[] = [];
  /** When the last train was measured (ms), for re-measuring now and then. */
  measuredAt = -Infinity;
  constructor(private readonly keep = 5) {}

  add(kbit: number, now: number): void {
    this.xs = [...this.xs, kbit].slice(-this.keep);
    this.measuredAt = now;
  }

  get count(): number {
    return this.xs.length;
  }

  /** kbit/s, or null before the first train. */
  value(): number | null {
    if (!this.xs.length) return null;
    const s = [...this.xs].sort((a, b) => a - b);
    return s[Math.floor((s.length - 1) / 2)]!;
  }
}

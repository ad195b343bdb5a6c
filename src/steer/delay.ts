// Delay equalisation: extra delay (netem on a link's gretaps) so that a packet sent on any link
// arrives about when one sent on the slowest would, and a striped TCP flow sees its segments in
// order. Bounded: latency-sensitive traffic pays the extra delay on the fast links. Pure.

export interface DelayInput {
  /** One-way base delay (ms): half the link's lowest RTT, or configured. */
  owd_ms: number;
  /** Capacity of this direction (kbit/s), for the serialisation time of a full packet. */
  capacity_kbit: number;
}

export interface DelayOptions {
  /** Never add more than this to any link (ms). Default 80. */
  maxExtraMs?: number;
  /** Packet size the serialisation term uses (bytes). Default 1400. */
  packetBytes?: number;
}

/** A full packet's one-way time on the link: propagation plus serialisation at its rate. */
export function effectiveDelay(l: DelayInput, packetBytes = 1400): number {
  const ser = l.capacity_kbit > 0 ? (packetBytes * 8) / l.capacity_kbit : 0; // kbit/s -> bits per ms
  return l.owd_ms + ser;
}

export function extraDelays(links: DelayInput[], opts: DelayOptions = {}): number[] {
  if (links.length === 0) return [];
  const maxExtra = opts.maxExtraMs ?? 80;
  const eff = links.map((l) => effectiveDelay(l, opts.packetBytes));
  const target = Math.max(...eff);
  return eff.map((e) => Math.round(Math.min(maxExtra, Math.max(0, target - e))));
}

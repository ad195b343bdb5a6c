// Bounding the queues: this end's transmit is shaped just below what the links carry (token
// bucket) with fq_codel behind it, so the queue builds here, under AQM and flow isolation, not in
// a modem's long FIFO.
//
// Where the queue builds decides the order packets arrive in. With a shaper per link only, each
// link's queue held its own standing delay (0 to CoDel's target and more, independently), so
// packets the bond sent in order crossed each other: one download over hetero-3 arrived 60-70 %
// out of order at the receiver (its TCPOFOQueue count), and ~5 % of what the sender sent were
// retransmissions, a quarter of them for packets an AQM had dropped. So when every link in the
// bond has a rate, the bond itself gets the shaper (the sum of its links' shaped rates) and the
// one queue; each link keeps its own shaper a little above its share (SPLIT_HEADROOM), which only
// fills if the split is off, and which also carries what passes beside the bond: the express
// tunnel and the health probes. Pure: the parameters.
import { computeMtu, GRE_OVERHEAD, GRETAP_OVERHEAD, MODEM_ETHERNET, WG_OVERHEAD_V4, WG_OVERHEAD_V6 } from './addressing.ts';

export interface ShapeSpec {
  /** Token rate of the link (kbit/s), on the wire. */
  rateKbit: number;
  /** Bytes each packet grows by between the shaper and the modem's wire. */
  overheadBytes: number;
  /** The largest packet the shaper sees (bytes): a full one, not a GSO batch of them. */
  packetBytes: number;
  /** Token bucket depth (bytes). */
  burstBytes: number;
  /** fq_codel target and interval (ms). */
  targetMs: number;
  intervalMs: number;
}

/** The bond MTU with WireGuard over IPv4 at a 1500-byte path MTU, where none is given. */
const DEFAULT_BOND_MTU = computeMtu(1500, false).bond;
/** WireGuard pads its payload to 16 bytes: half of that on average. */
const WG_PADDING_AVG = 8;

export interface ShapeContext {
  /** WireGuard runs over IPv6 to the peer. */
  ipv6Endpoint?: boolean;
  /** Seconds between health probes (config `health.interval`): what they take of each link. */
  probeIntervalS?: number;
  /** Round trip of a flow through the bond (ms); 0 = unknown. */
  rttMs?: number;
  /** The bond's MTU: a full packet at the shaper is this plus the gretap's 42 bytes. */
  bondMtu?: number;
  /** The link's gretaps: fq_codel serves each as a flow of its own (its GRE key is in the flow hash). */
  paths?: number;
}

/** A link's own shaper runs this much above its share of the bond's: room for a split a little off. */
export const SPLIT_HEADROOM = 1.05;

const wgToWire = (ctx: ShapeContext) => (ctx.ipv6Endpoint ? WG_OVERHEAD_V6 : WG_OVERHEAD_V4) + WG_PADDING_AVG + MODEM_ETHERNET;

/** A probe or a reply as JSON (src/health/probe-message.ts) of an agent up for days: long numbers. */
const PROBE_PAYLOAD_BYTES = 72;

/**
 * What the health channel takes of one direction of a link (kbit/s): each probe interval, this
 * end's probe and its reply to the peer's, each a small datagram inside WireGuard. On a link of a
 * few hundred kbit/s that is a tenth of it.
 */
export function healthKbit(ctx: Pick<ShapeContext, 'ipv6Endpoint' | 'probeIntervalS'>): number {
  const inner = PROBE_PAYLOAD_BYTES + 8 + (ctx.ipv6Endpoint ? 40 : 20);
  const wire = Math.ceil(inner / 16) * 16 + wgToWire(ctx) - WG_PADDING_AVG;
  return (2 * wire * 8) / 1000 / (ctx.probeIntervalS ?? 0.1);
}

/**
 * The bond's rate over links shaped to `shapes` (kbit/s) with `paths` gretaps each: their sum,
 * unless round-robin would then hand a link more than its own shaper passes beside its health
 * traffic (paths are whole numbers, and a slow link's probes are a large part of it). A link's
 * shaper filling holds a standing queue on that link alone: its packets arrive late, out of order.
 */
export function bondRate(shapes: number[], paths: number[], ctx: Pick<ShapeContext, 'ipv6Endpoint' | 'probeIntervalS'> = {}): number {
  const sum = shapes.reduce((a, b) => a + b, 0);
  const allPaths = paths.reduce((a, b) => a + b, 0);
  const h = healthKbit(ctx);
  return Math.min(sum, ...shapes.map((s, i) => (Math.max(0, s * SPLIT_HEADROOM - h) * allPaths) / Math.max(1, paths[i]!)));
}

/**
 * Shaper of one link shaped to `linkKbit`. It sees the packets WireGuard is about to encrypt (a
 * full one: the bond MTU plus the gretap's Ethernet, IP and GRE); each grows by WireGuard's
 * framing and padding and the modem's Ethernet on the way out.
 */
export function linkShape(linkKbit: number, ctx: ShapeContext = {}): ShapeSpec {
  return shape(linkKbit, (ctx.bondMtu ?? DEFAULT_BOND_MTU) + GRETAP_OVERHEAD, wgToWire(ctx), ctx, LINK_RTT_SHARE);
}

/**
 * Shaper of the bond, to the sum of its links' shaped rates. It sees the bond's Ethernet frames;
 * each grows by the gretap's IP and GRE, WireGuard's framing and the modem's Ethernet. fq_codel
 * here sees the flows themselves, not yet split over gretaps: one TCP flow is one flow.
 */
export function bondShape(sumKbit: number, ctx: Omit<ShapeContext, 'paths'> = {}): ShapeSpec {
  // The frame is what the gretap carries inside: its overhead less the outer IP and GRE.
  const frame = (ctx.bondMtu ?? DEFAULT_BOND_MTU) + GRETAP_OVERHEAD - GRE_OVERHEAD;
  return shape(sumKbit, frame, GRE_OVERHEAD + wgToWire(ctx), { ...ctx, paths: 1 }, BOND_RTT_SHARE);
}

/**
 * CoDel's target as a share of the bond's round trip (below). At a link, a quarter: 0.4 of it
 * cost hetero-3's spike figure (2.0 s against 0.9 s: the bulk flow's longer queue on the links
 * left). At the bond, where fq_codel sees the flows before they are striped (a call never waits
 * behind a download's queue there), a whole round trip: one download over hetero-3 measured
 * 0.876 (0.83-0.88) against 0.76-0.83 (medians of four benches) with half and 0.71 with a quarter;
 * a flow backing off from a drop still has a round trip's worth queued to keep the links busy.
 * Its cost is a retransmission waiting behind that queue: a cut's TCP stall grew with it, which
 * the faster `down` count (config/defaults.ts) pays back.
 */
const LINK_RTT_SHARE = 0.25;
const BOND_RTT_SHARE = 1.0;

function shape(kbit: number, packetBytes: number, overheadBytes: number, ctx: ShapeContext, rttShare: number): ShapeSpec {
  const rttMs = ctx.rttMs ?? 0;
  const rateKbit = Math.max(8, Math.round(kbit));
  // At a link, one TCP flow in the bond is a flow per gretap (fq_codel hashes the GRE key too),
  // each drained at the link's rate over its gretaps: its packets wait that share's packet time.
  // At the bond, a flow is a flow (paths 1).
  const packetMs = ((packetBytes + overheadBytes) * 8 * Math.max(1, ctx.paths ?? 1)) / rateKbit;
  // CoDel's 5 ms target is below one packet's time on a slow link: it would drop every packet that
  // waits behind one other; 1.5 packet times at least (as sqm-scripts does). Same target as when
  // each gretap had its own shaper; with the link's own packet time instead, hetero-3's slow
  // uploads got a third of it and one upload measured 0.60 (0.48-0.69) against 0.65-0.70. And one TCP flow
  // keeps a link full after it backs off only with some standing queue: with 5 ms, one download
  // over equal-3 (40 ms round trip) got 0.74 of the links, with 15-30 ms 0.79-0.81 (lab A/B).
  const targetMs = Math.min(200, Math.max(5, Math.ceil(1.5 * packetMs), Math.round(rttShare * rttMs)));
  return {
    rateKbit,
    overheadBytes,
    packetBytes,
    burstBytes: Math.max(2 * (packetBytes + overheadBytes), Math.round((rateKbit * 1000) / 8 / 200)),
    targetMs,
    intervalMs: Math.max(100 + targetMs - 5, rttMs + targetMs),
  };
}

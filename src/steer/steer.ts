// The steering decision for this end's transmit direction: per link, whether it is in the bond,
// how many gretaps it gets (capacity weighting) and how much delay to add (equalisation).
// Hysteresis keeps measurement noise from churning the kernel. Pure.
import { pathsFor, type PathsOptions } from './paths.ts';
import { extraDelays, type DelayOptions } from './delay.ts';

/** Same shape as the planner's per-link steering input (src/plan). */
export interface SteerLink {
  in_bond: boolean;
  /** gretaps for the link (capacity weighting). */
  paths: number;
  /** netem delay on the link's gretaps (ms) to equalise one-way delay. */
  extra_delay_ms: number;
  /** This end's transmit on the link shaped to this (kbit/s, with AQM behind it); 0 = not shaped. */
  shape_kbit: number;
  /** Round trip of a flow through the bond (ms, the slowest carrying link's); 0 = unknown. Sizes the AQM. */
  rtt_ms: number;
  /** This end's express traffic goes over this link (one per group at most). */
  express: boolean;
}
export type Steering = Record<string, SteerLink>;

export interface SteerInput {
  name: string;
  /** In the health transmit set (src/health/transmit-set.ts). */
  in_set: boolean;
  /** Capacity that sets the gretap counts, kbit/s: configured rate, else measured; null = unknown. */
  capacity_kbit: number | null;
  /** This end's transmit capacity, for the serialisation term of the delay; default capacity_kbit. */
  tx_kbit?: number | null;
  /** One-way base delay, ms (half the lowest RTT); null = unknown. */
  owd_ms: number | null;
  /**
   * One-way base delay of this end's transmit direction plus an offset common to every link, ms
   * (measured by the peer: src/health/probe-window.ts min_fwd_ms); null = unknown. Equalisation
   * needs only differences between links, and these see what half a round trip cannot: unequal
   * directions (a slow uplink's share of the round trip) and which way the jitter fell.
   */
  fwd_ms?: number | null;
  /** Shape this end's transmit on the link to this (kbit/s); null or 0 = do not shape. */
  shape_kbit?: number | null;
  /** Round trip through the link's tunnel now (ms, smoothed); null = unknown. Chooses the express link. */
  rtt_ms?: number | null;
  /** Links of one group (a concentrator's site) share one express link. */
  group?: string;
  /** Its round trip is an unanswered probe's wait (a cut or a spike): express leaves it even while dwelling. */
  late?: boolean;
}

export interface SteerOptions extends PathsOptions, DelayOptions {
  /** Off = one gretap per link (plain round-robin). Default on. */
  weight?: boolean;
  /** Off = no added delay. Default on. */
  equalise?: boolean;
  /** Capacity must move by this fraction before the gretap counts are recomputed. Default 0.2. */
  capacityHysteresis?: number;
  /** Delay changes smaller than this (ms) are ignored. Default 3. */
  delayHysteresisMs?: number;
  /** The express link moves only to one faster by more than this (ms) or a fifth of its RTT, whichever is more. Default 10. */
  expressHysteresisMs?: number;
  /** After a move the express link stays this long (ms) unless it leaves the transmit set or turns late. Default 5000. */
  expressDwellMs?: number;
  /** Off = no express link is chosen (express_bytes 0). Default on. */
  express?: boolean;
}

/** What the last decision was computed from, to decide whether a new input is only noise. */
export interface SteerMemory {
  steering: Steering;
  capacities: Record<string, number>;
  /** The bond round trip the last decision used (ms; 0 = unknown). */
  rtt_ms?: number;
  /** Per group, when its express link was last chosen (ms, the caller's clock). */
  express_at?: Record<string, number>;
}

function filledCapacities(inputs: SteerInput[]): number[] {
  const known = inputs.map((l) => l.capacity_kbit).filter((c): c is number => c !== null && c > 0);
  const fill = known.length ? known.reduce((a, b) => a + b, 0) / known.length : 1;
  return inputs.map((l) => (l.capacity_kbit !== null && l.capacity_kbit > 0 ? l.capacity_kbit : fill));
}

/** `now`: the caller's clock (ms), for the express link's dwell time. */
export function steer(inputs: SteerInput[], opts: SteerOptions = {}, prev?: SteerMemory, now = 0): SteerMemory {
  const caps = filledCapacities(inputs);
  const capHyst = opts.capacityHysteresis ?? 0.2;
  const sameLinks = prev !== undefined && inputs.every((l) => prev.capacities[l.name] !== undefined) && Object.keys(prev.capacities).length === inputs.length;
  const capMoved = !sameLinks || inputs.some((l, i) => Math.abs(caps[i]! - prev!.capacities[l.name]!) > capHyst * prev!.capacities[l.name]!);
  // Gretap counts are computed over every link, carrying or not: a link leaving the set does not
  // change the ratio between the others, and its gretaps stay ready for its return.
  let paths: number[];
  let capsUsed: number[];
  if (opts.weight === false) {
    paths = inputs.map(() => 1);
    capsUsed = caps;
  } else if (capMoved) {
    paths = pathsFor(caps, opts);
    capsUsed = caps;
  } else {
    paths = inputs.map((l) => prev!.steering[l.name]!.paths);
    capsUsed = inputs.map((l) => prev!.capacities[l.name]!);
  }
  const carrying = inputs.map((l, i) => ({ l, i })).filter(({ l }) => l.in_set && l.owd_ms !== null);
  const extra = inputs.map(() => 0);
  if (opts.equalise !== false && carrying.length > 1) {
    const fwd = carrying.every(({ l }) => l.fwd_ms !== null && l.fwd_ms !== undefined);
    const d = extraDelays(
      carrying.map(({ l, i }) => ({ owd_ms: fwd ? l.fwd_ms! : l.owd_ms!, capacity_kbit: l.tx_kbit ?? caps[i]! })),
      opts,
    );
    carrying.forEach(({ i }, k) => (extra[i] = d[k]!));
  }
  const rtt = bondRtt(carrying.map(({ l }) => l.owd_ms!), prev);
  const dh = opts.delayHysteresisMs ?? 3;
  const { chosen: express, at: expressAt } = expressLinks(inputs, opts, now, prev);
  const steering: Steering = {};
  inputs.forEach((l, i) => {
    const before = prev?.steering[l.name]?.extra_delay_ms;
    const keep = before !== undefined && Math.abs(before - extra[i]!) < dh && !(extra[i] === 0 && before !== 0);
    steering[l.name] = {
      in_bond: l.in_set, paths: paths[i]!, extra_delay_ms: keep ? before : extra[i]!, shape_kbit: Math.max(0, Math.round(l.shape_kbit ?? 0)), rtt_ms: rtt,
      express: express.has(l.name),
    };
  });
  // Unweighted, nothing is remembered: when weighting turns on (the last capacity became known),
  // the gretap counts are computed then, not judged against capacities they never followed.
  const capacities: Record<string, number> = {};
  if (opts.weight !== false) inputs.forEach((l, i) => (capacities[l.name] = capsUsed[i]!));
  return { steering, capacities, rtt_ms: rtt, express_at: expressAt };
}

/**
 * Per group, the carrying link with the lowest round trip now. The one chosen before stays while it
 * carries and is not beaten by the hysteresis margin, and for a dwell time after each move unless it
 * turns late (a busy router's stalls make links look slower by turns): calls are not moved about
 * by noise, and each move is one `ip` run, not a storm of them.
 */
function expressLinks(inputs: SteerInput[], opts: SteerOptions, now: number, prev?: SteerMemory): { chosen: Set<string>; at: Record<string, number> } {
  const chosen = new Set<string>();
  const at: Record<string, number> = {};
  const groups = new Map<string, SteerInput[]>();
  if (opts.express === false) return { chosen, at };
  for (const l of inputs) if (l.in_set && l.rtt_ms !== null && l.rtt_ms !== undefined) groups.set(l.group ?? '', [...(groups.get(l.group ?? '') ?? []), l]);
  for (const [g, links] of groups) {
    const best = links.reduce((a, b) => (b.rtt_ms! < a.rtt_ms! ? b : a));
    const held = links.find((l) => prev?.steering[l.name]?.express);
    const since = prev?.express_at?.[g];
    const dwelling = held !== undefined && !held.late && since !== undefined && now - since < (opts.expressDwellMs ?? 5000);
    const margin = held ? Math.max(opts.expressHysteresisMs ?? 10, held.rtt_ms! / 5) : 0;
    const pick = held && (dwelling || held.rtt_ms! - best.rtt_ms! <= margin) ? held : best;
    chosen.add(pick.name);
    at[g] = pick === held && since !== undefined ? since : now;
  }
  return { chosen, at };
}

/**
 * A striped flow's round trip: that of the slowest carrying link (delay equalisation brings the
 * others up to it), in 10 ms steps, kept until it moves by more than a quarter.
 */
function bondRtt(owds: number[], prev?: SteerMemory): number {
  const before = prev?.rtt_ms ?? 0;
  if (!owds.length) return before;
  const now = Math.max(10, Math.round((2 * Math.max(...owds)) / 10) * 10);
  return before > 0 && Math.abs(now - before) <= before / 4 ? before : now;
}

/** True when two decisions would program the kernel the same way. */
export function sameSteering(a: Steering, b: Steering): boolean {
  const ka = Object.keys(a);
  if (ka.length !== Object.keys(b).length) return false;
  return ka.every((k) => {
    const x = a[k]!;
    const y = b[k];
    return y !== undefined && x.in_bond === y.in_bond && x.paths === y.paths && x.extra_delay_ms === y.extra_delay_ms && x.shape_kbit === y.shape_kbit && x.rtt_ms === y.rtt_ms && x.express === y.express;
  });
}

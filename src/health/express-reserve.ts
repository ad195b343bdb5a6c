// The express traffic a link carries from this end, in its shaper's budget. Express packets leave
// by the link's own tunnel, beside its shaped gretaps: at 95 % of a slow link (a 2 Mbit/s modem
// leaves 100 kbit/s), one call (about 110 kbit/s on the wire) would fill the modem's queue and
// wait in it. So the link's gretaps are shaped that much lower while express traffic flows on it:
// measured each second from the express tunnel's counters (wire bytes: its GRE, WireGuard and
// modem headers counted), held at its recent peak (half-life 5 s) so a call does not make the
// shaper churn, in 32 kbit/s steps, at most half the link's shaped rate; nothing below 16 kbit/s.
import { GRE_OVERHEAD, MODEM_ETHERNET, WG_OVERHEAD_V4 } from '../plan/addressing.ts';
import { CapacityEstimator } from '../steer/capacity.ts';

const PER_PACKET = GRE_OVERHEAD + WG_OVERHEAD_V4 + MODEM_ETHERNET;
const STEP_KBIT = 32;
/** Below this (a DNS query now and then, a ping a second) nothing is reserved: no shaper churn for it. */
const FLOOR_KBIT = 16;

export class ExpressReserve {
  private readonly rate = new CapacityEstimator({ halfLifeMs: 5000 });

  /** Feed the express tunnel's cumulative tx counters. */
  sample(c: { bytes: number; packets: number } | null, now: number): void {
    if (c) this.rate.sample(c.bytes + c.packets * PER_PACKET, now);
  }

  /** kbit/s to take off the link's shaped rate `shapeKbit` now. */
  kbit(now: number, shapeKbit: number): number {
    const r = this.rate.estimate(now);
    if (r < FLOOR_KBIT) return 0;
    return Math.min(Math.floor(shapeKbit / 2), Math.ceil(r / STEP_KBIT) * STEP_KBIT);
  }
}

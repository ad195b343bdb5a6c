// netem settings of an emulated link, one direction. netem with `rate` never reorders (each
// packet leaves after the one before it), so jitter varies delay without shuffling packets.

export interface Shape {
  rate_kbit: number;
  delay_ms: number;
  jitter_ms: number;
  loss_pct: number;
  queue_ms: number;
}

const MTU_BYTES = 1514;

/** Packets netem may hold: those in flight over the delay plus queue_ms worth at the rate. */
export function queueLimit(s: Shape): number {
  const bytesPerMs = (s.rate_kbit * 1000) / 8 / 1000;
  const ms = s.delay_ms + 3 * s.jitter_ms + s.queue_ms;
  return Math.max(32, Math.ceil((bytesPerMs * ms) / MTU_BYTES) + 16);
}

/** argv after `tc qdisc replace dev <dev> root`. */
export function netemArgs(s: Shape): string[] {
  const args = ['netem', 'limit', String(queueLimit(s))];
  if (s.delay_ms > 0 || s.jitter_ms > 0) {
    args.push('delay', `${s.delay_ms}ms`);
    if (s.jitter_ms > 0) args.push(`${s.jitter_ms}ms`, 'distribution', 'normal');
  }
  if (s.loss_pct > 0) args.push('loss', `${s.loss_pct}%`);
  args.push('rate', `${Math.round(s.rate_kbit)}kbit`);
  return args;
}

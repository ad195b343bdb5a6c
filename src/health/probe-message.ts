// The health channel's wire format: small JSON datagrams through each link's own tunnel.
// Both agents send probes and answer them; the same channel carries capacity reports (what one
// end measured arriving on a link, so the other end can weight its transmit direction).
// Everything received is validated; anything else is dropped and counted, never trusted.
import * as z from 'zod';

export const PROBE_VERSION = 1;
/** Larger datagrams are refused before parsing (a probe is well under 200 bytes; a train packet is TRAIN_BYTES). */
export const MAX_MESSAGE_BYTES = 1400;
/** Capacity trains: at most this many packets of at most this many bytes (UDP payload). */
export const TRAIN_MAX_PACKETS = 64;
export const TRAIN_MAX_BYTES = 1300;

const linkId = z.number().int().min(1).max(16);
const seq = z.number().int().min(0).max(2 ** 32 - 1);
const millis = z.number().finite().nonnegative();

export const probeSchema = z.strictObject({
  v: z.literal(PROBE_VERSION),
  t: z.literal('probe'),
  link: linkId,
  seq,
  ts: millis, // sender's clock, echoed back
});
export const replySchema = z.strictObject({
  v: z.literal(PROBE_VERSION),
  t: z.literal('reply'),
  link: linkId,
  seq,
  ts: millis, // the probe's ts, unchanged
  /**
   * The replier's clock as the probe arrived less its ts (ms): the one-way delay toward the replier
   * plus an offset between the two clocks that is the same on every link, so differences between
   * links are their differences in one-way delay. Absent from older peers.
   */
  d: z.number().finite().min(-1e13).max(1e13).optional(),
});
export const capacitySchema = z.strictObject({
  v: z.literal(PROBE_VERSION),
  t: z.literal('cap'),
  link: linkId,
  /** Peak arrival rate the sender of this report measured on the link, kbit/s. */
  rx_kbit: z.number().finite().nonnegative().max(10_000_000),
  /** Current arrival rate, kbit/s (tells the peer whether the link was busy when measured). */
  now_kbit: z.number().finite().nonnegative().max(10_000_000),
  /** Router only: gretaps it runs for the link; both ends must run the same number. */
  paths: z.number().int().min(1).max(16).optional(),
  /** Router only: the link is a backup link (the concentrator has no link roles of its own). */
  backup: z.boolean().optional(),
  /** Router only: the link's configured download rate (rate_down), kbit/s: the concentrator equalises delays with it. */
  rate_kbit: z.number().int().min(1).max(10_000_000).optional(),
  /** Router only: what the concentrator shapes its transmit on the link to, kbit/s (absent: no shaping). */
  shape_kbit: z.number().int().min(1).max(10_000_000).optional(),
});

/** Router -> concentrator: send me a train on this link (I measure the download's capacity). */
export const trainRequestSchema = z.strictObject({
  v: z.literal(PROBE_VERSION),
  t: z.literal('train_req'),
  link: linkId,
  id: seq,
  n: z.number().int().min(4).max(TRAIN_MAX_PACKETS),
  bytes: z.number().int().min(200).max(TRAIN_MAX_BYTES),
});
/** One packet of a train: sent back to back; the receiver times their arrival. */
export const trainSchema = z.strictObject({
  v: z.literal(PROBE_VERSION),
  t: z.literal('train'),
  link: linkId,
  id: seq,
  k: z.number().int().min(0).max(TRAIN_MAX_PACKETS - 1),
  n: z.number().int().min(4).max(TRAIN_MAX_PACKETS),
  pad: z.string().max(TRAIN_MAX_BYTES),
});
/** Concentrator -> router: the capacity a train of the router's measured, kbit/s (0: too few arrived). */
export const trainResultSchema = z.strictObject({
  v: z.literal(PROBE_VERSION),
  t: z.literal('train_res'),
  link: linkId,
  id: seq,
  kbit: z.number().finite().nonnegative().max(10_000_000),
});

/**
 * This end could not run for `ms` (a starved CPU, a long process start) until just before sending
 * this, once on every link: the peer's probes that reached it meanwhile were answered late or not
 * at all, for reasons that are not the links'. `id` counts stalls, so the copies on other links
 * are known as the same. Older peers drop it as invalid, as they drop anything unknown.
 */
export const stallSchema = z.strictObject({
  v: z.literal(PROBE_VERSION),
  t: z.literal('stall'),
  link: linkId,
  id: seq,
  ms: z.number().finite().nonnegative().max(60_000),
});

export const messageSchema = z.discriminatedUnion('t', [probeSchema, replySchema, capacitySchema, trainRequestSchema, trainSchema, trainResultSchema, stallSchema]);
export type ProbeMessage = z.infer<typeof probeSchema>;
export type ReplyMessage = z.infer<typeof replySchema>;
export type CapacityMessage = z.infer<typeof capacitySchema>;
export type TrainMessage = z.infer<typeof trainSchema>;
export type HealthMessage = z.infer<typeof messageSchema>;

export type DecodeResult = { ok: true; msg: HealthMessage } | { ok: false; why: 'too_big' | 'not_json' | 'invalid' };

export function encodeMessage(msg: HealthMessage): Buffer {
  return Buffer.from(JSON.stringify(msg));
}

export function decodeMessage(buf: Uint8Array): DecodeResult {
  if (buf.byteLength > MAX_MESSAGE_BYTES) return { ok: false, why: 'too_big' };
  let raw: unknown;
  try {
    raw = JSON.parse(Buffer.from(buf).toString('utf8'));
  } catch {
    return { ok: false, why: 'not_json' };
  }
  const parsed = messageSchema.safeParse(raw);
  return parsed.success ? { ok: true, msg: parsed.data } : { ok: false, why: 'invalid' };
}

/** Counts what the channel threw away, by reason; shown in status/debug logs. */
export class GarbageCounter {
  readonly counts = { too_big: 0, not_json: 0, invalid: 0, wrong_link: 0, unknown_peer: 0 };
  add(why: keyof GarbageCounter['counts']): void {
    this.counts[why]++;
  }
  get total(): number {
    return Object.values(this.counts).reduce((a, b) => a + b, 0);
  }
}

// Per link, where no rate is configured: its capacity measured with packet trains (src/steer/
// train.ts) through its own tunnel, each direction at its receiving end. The router asks the
// concentrator for a download train and sends its own upload train, whose result comes back.
// First five trains a few seconds apart once the link is up, then again every ten minutes while
// the link is quiet (a train measured under load sees only what the load leaves). First trains
// that ran under load (the user was downloading as the link came up) count only until trains
// measured quiet replace them: while fewer than three were, another is taken whenever the link is
// quiet, ten seconds apart. The monitor starts at most one train a second over all links: trains
// timed together disturb each other's timing at a busy receiver.
import type { Logger } from '../log.ts';
import type { HealthMessage, TrainMessage } from './probe-message.ts';
import { TrainEstimate, trainRate, trainWireBytes, type TrainArrival } from '../steer/train.ts';

export const TRAIN_PACKETS = 24;
export const TRAIN_BYTES = 1200;
const FIRST_GAP_MS = 3000;
const FIRST_TRAINS = 5;
const RETRY_MS = 10_000;
const REFRESH_MS = 600_000;
/** Trains measured quiet an estimate needs before it stops re-measuring at RETRY_MS. */
const MIN_QUIET = 3;
/** A train still incomplete this long after its first packet is judged on what arrived. */
const TRAIN_WAIT_MS = 2000;
/** Concentrator: one train a second per link at most, whatever the peer asks. */
const ANSWER_GAP_MS = 1000;

export interface TrainSocket {
  send(msg: HealthMessage): void;
}

/** A whole train on the link: TRAIN_PACKETS datagrams of `bytes`, back to back. */
export function sendTrain(sock: TrainSocket, link: number, id: number, n = TRAIN_PACKETS, bytes = TRAIN_BYTES): void {
  const base = JSON.stringify({ v: 1, t: 'train', link, id, k: n - 1, n, pad: '' }).length;
  const pad = 'x'.repeat(Math.max(0, bytes - base));
  for (let k = 0; k < n; k++) sock.send({ v: 1, t: 'train', link, id, k, n, pad });
}

/**
 * How long one of our trains holds the link's queue in the direction it is sent (ms), with room:
 * its bytes at `kbit`, half as much again, and a probe interval; TRAIN_WAIT_MS while the rate is
 * unknown (the first train). Probes sent meanwhile wait behind it (see ProbeWindow.shadow).
 */
export function trainHoldMs(kbit: number | null, intervalMs: number): number {
  if (!kbit) return TRAIN_WAIT_MS;
  return (1.5 * TRAIN_PACKETS * trainWireBytes(TRAIN_BYTES) * 8) / kbit + intervalMs;
}

export class LinkTrains {
  /** Router: capacity toward the router (measured here) and away from it (measured by the peer). */
  readonly down = new TrainEstimate();
  readonly up = new TrainEstimate();
  private incoming: { id: number; n: number; firstAt: number; arrivals: TrainArrival[] } | null = null;
  private nextId = 1;
  private nextDownAt = 0;
  private nextUpAt = 0;
  private awaitingUp: number | null = null;
  /** Router: whether its direction was quiet as each train started, by train id. */
  private startedQuiet = new Map<number, boolean>();
  private answeredAt = -Infinity;

  constructor(private readonly link: number, private readonly key: string, private readonly log: Logger) {}

  /**
   * Router: starts one train if one is due (returns its direction), the download's first. `up` is
   * the link's health; `quiet*` whether the direction carries little now (a refresh waits for
   * that; the first trains do not).
   */
  tickRouter(now: number, sock: TrainSocket, o: { up: boolean; wantDown: boolean; wantUp: boolean; quietDown: boolean; quietUp: boolean }): 'down' | 'up' | null {
    if (!o.up) return null;
    if (o.wantDown && now >= this.nextDownAt && this.due(this.down, now, o.quietDown)) {
      this.startedQuiet.set(this.nextId, o.quietDown);
      sock.send({ v: 1, t: 'train_req', link: this.link, id: this.nextId++, n: TRAIN_PACKETS, bytes: TRAIN_BYTES });
      this.nextDownAt = now + (this.down.count < FIRST_TRAINS - 1 ? FIRST_GAP_MS : RETRY_MS);
      return 'down';
    }
    if (o.wantUp && now >= this.nextUpAt && this.due(this.up, now, o.quietUp)) {
      this.awaitingUp = this.nextId++;
      this.startedQuiet.set(this.awaitingUp, o.quietUp);
      sendTrain(sock, this.link, this.awaitingUp);
      this.nextUpAt = now + (this.up.count < FIRST_TRAINS - 1 ? FIRST_GAP_MS : RETRY_MS);
      return 'up';
    }
    return null;
  }

  private due(e: TrainEstimate, now: number, quiet: boolean): boolean {
    if (e.count < FIRST_TRAINS) return true;
    return quiet && now - e.measuredAt >= (e.quietCount < MIN_QUIET ? RETRY_MS : REFRESH_MS);
  }

  /** Whether the train `id` started quiet (and forget it); unknown ids count as quiet. */
  private quietAtStart(id: number): boolean {
    const q = this.startedQuiet.get(id) ?? true;
    this.startedQuiet.delete(id);
    // Requests whose trains never came are dropped with the next ones.
    for (const k of this.startedQuiet.keys()) if (k < id) this.startedQuiet.delete(k);
    return q;
  }

  /** Concentrator: the router asked for a download train; true when it was sent. */
  answer(sock: TrainSocket, req: { id: number; n: number; bytes: number }, at: number): boolean {
    if (at - this.answeredAt < ANSWER_GAP_MS) return false;
    this.answeredAt = at;
    sendTrain(sock, this.link, req.id, req.n, req.bytes);
    return true;
  }

  /** A train packet arrived here; returns when the first packet of its train did. */
  onTrain(msg: TrainMessage, at: number): number {
    if (!this.incoming || this.incoming.id !== msg.id) this.incoming = { id: msg.id, n: msg.n, firstAt: at, arrivals: [] };
    this.incoming.arrivals.push({ k: msg.k, at, wireBytes: trainWireBytes(JSON.stringify(msg).length) });
    return this.incoming.firstAt;
  }

  /**
   * The train arriving here, once complete (its last packet came) or waited for long enough:
   * its id and rate (null: too few packets to say). Null while none is due.
   */
  collect(now: number): { id: number; kbit: number | null; firstAt: number } | null {
    const c = this.incoming;
    if (!c) return null;
    const done = c.arrivals.some((a) => a.k === c.n - 1) || now - c.firstAt >= TRAIN_WAIT_MS;
    if (!done) return null;
    this.incoming = null;
    return { id: c.id, kbit: trainRate(c.arrivals, c.n), firstAt: c.firstAt };
  }

  /** Router: the download train `id` measured here. */
  measuredDown(id: number, kbit: number | null, now: number): void {
    const quiet = this.quietAtStart(id);
    if (kbit) this.record(this.down, 'down', kbit, now, quiet);
  }

  /** Router: the concentrator's result for our upload train. */
  onResult(id: number, kbit: number, now: number): void {
    if (id !== this.awaitingUp) return;
    this.awaitingUp = null;
    const quiet = this.quietAtStart(id);
    if (kbit > 0) this.record(this.up, 'up', kbit, now, quiet);
  }

  private record(e: TrainEstimate, dir: string, kbit: number, now: number, quiet: boolean): void {
    const before = e.value();
    e.add(kbit, now, quiet);
    const after = e.value()!;
    if (before === null || Math.abs(after - before) > 0.1 * before || e.count === FIRST_TRAINS) {
      this.log.info(`link ${this.key}: ${dir} capacity ${(after / 1000).toFixed(2)} Mbit/s by packet train (${e.count} measured)`);
    }
  }
}

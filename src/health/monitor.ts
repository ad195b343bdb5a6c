// The health monitor: probes every link through its own tunnel, runs each link's state machine,
// decides this end's transmit set (and the router's fallback), measures what arrives per link and
// reports it to the peer, and turns all that into the steering the stack applies.
// Events: 'link' (LinkEvent, for ubus/MQTT), 'steering' (a new decision for the planner).
import { EventEmitter } from 'node:events';
import { readFileSync } from 'node:fs';
import { performance } from 'node:perf_hooks';
import type { Health, Role } from '../config/types.ts';
import type { CapacitySource, LinkCapacity, LinkEvent, LinkState } from '../status/types.ts';
import { silentLogger, type Logger } from '../log.ts';
import { ProbeWindow, type LinkMetrics } from './probe-window.ts';
import { classify, LinkStateMachine, silenceIsLinks, type Check } from './link-state.ts';
import { transmitSetByGroup } from './transmit-set.ts';
import { FallbackTracker, type FallbackDecision } from './fallback.ts';
import { GarbageCounter, type HealthMessage } from './probe-message.ts';
import { ProbeSocket } from './probe-socket.ts';
import { CapacityEstimator } from '../steer/capacity.ts';
import { expressRtts } from './express-rtt.ts';
import { LinkTrains, trainHoldMs } from './link-trains.ts';
import { earliestArrival, type LateSpan } from './late-read.ts';
import { siteOfKey } from '../plan/types.ts';
import { sameSteering, steer, type SteerLink, type SteerMemory, type SteerOptions } from '../steer/steer.ts';

export interface MonitoredLink {
  /** Steering key: the link name on the router, `<site>/<link>` on the concentrator. */
  key: string;
  name: string;
  id: number;
  local: string; // this end's tunnel address on the link
  peer: string; // the peer's tunnel address on the link
  role: 'active' | 'backup';
  enabled: boolean;
  /** Configured rate of this end's transmit direction (router: rate_up), kbit/s. */
  tx_rate_kbit?: number;
  /** Configured rate of this end's receive direction (router: rate_down), kbit/s. */
  rx_rate_kbit?: number;
  /** Router: shape its transmit on the link to this / ask the concentrator to shape to this, kbit/s. */
  tx_shape_kbit?: number;
  rx_shape_kbit?: number;
  /** Interfaces whose rx byte counters add up to what arrives on the link. */
  rx_devs: string[];
}

/** Assignable to the planner's Steering (src/plan/types.ts). */
export interface SteeringDecision {
  links: Record<string, SteerLink>;
  fallback: boolean;
  members: string[];
  reason: string;
}

export interface MonitorOptions {
  role: Role;
  health: Health;
  fallback: { enabled: boolean; timeout_s: number };
  log?: Logger;
  /** Monotonic ms. */
  clock?: () => number;
  port?: number;
  steer?: SteerOptions;
  readRxBytes?: (devs: string[]) => number | null;
  /**
   * No steering is emitted for this long after start (ms, default 5000) unless every link has a
   * verdict: a restarted agent must not pull a working bond apart while its first probes are
   * still in flight (a fresh WireGuard handshake alone can take seconds).
   */
  startupGraceMs?: number;
}

export interface LinkHealthStatus {
  key: string;
  name: string;
  status: LinkState;
  online: boolean;
  in_bond: boolean;
  rtt_ms: number | null;
  jitter_ms: number | null;
  loss_pct: number | null;
  /** Unix seconds of the last state change. */
  since: number;
  reason: string;
  /** Measured arrival rate here / as the peer reports it, kbit/s. */
  rx_capacity_kbit: number;
  tx_capacity_kbit: number;
  /** The link's capacities toward the router (down) and away from it (up) that steering uses. */
  capacity: LinkCapacity;
  /** What this end's steering does on the link now. */
  gretaps: number;
  added_delay_ms: number;
  shaped_kbit: number;
}

interface Tracked {
  spec: MonitoredLink;
  window: ProbeWindow;
  sm: LinkStateMachine;
  sock: ProbeSocket;
  seq: number;
  lastOpenTry: number;
  rx: CapacityEstimator;
  peerCap: { rx_kbit: number; now_kbit: number; paths?: number; rate_kbit?: number; shape_kbit?: number } | null;
  state: LinkState;
  sinceWall: number;
  reason: string;
  metrics: LinkMetrics | null;
  trains: LinkTrains;
}

/** Late spans are kept this long (ms): longer than a train takes to arrive (TRAIN_WAIT_MS). */
const TRAIN_LATE_KEEP_MS = 10_000;

/** No tick for this long (ms) is a stall of this end: what it saw meanwhile says little about the links. */
const stallMs = (intervalMs: number) => Math.max(5 * intervalMs, 500);

/** Which peer a link's key belongs to: its site on the concentrator (`<site>/<link>`), the one concentrator on the router. */
function peerOf(key: string): string {
  const i = key.lastIndexOf('/');
  return i < 0 ? '' : key.slice(0, i);
}

/** Sum of /sys/class/net/<dev>/statistics/rx_bytes; null if any is missing. */
export function sysfsRxBytes(devs: string[]): number | null {
  let sum = 0;
  for (const d of devs) {
    try {
      sum += Number(readFileSync(`/sys/class/net/${d}/statistics/rx_bytes`, 'utf8'));
    } catch {
      return null;
    }
  }
  return sum;
}

/** Every link silent together is judged only after this long (see silenceIsLinks). */
const ALL_SILENT_GRACE_MS = 3000;

const round1 = (x: number | null) => (x === null ? null : Math.round(x * 10) / 10);

export class HealthMonitor extends EventEmitter<{ link: [LinkEvent]; steering: [SteeringDecision] }> {
  readonly garbage = new GarbageCounter();
  private links = new Map<string, Tracked>();
  private timer: NodeJS.Timeout | null = null;
  private lastCap = 0;
  private fallbackT: FallbackTracker;
  private memory: SteerMemory | undefined;
  private decision: SteeringDecision = { links: {}, fallback: false, members: [], reason: 'starting' };
  private readonly clock: () => number;
  private readonly log: Logger;
  private readonly readRx: (devs: string[]) => number | null;
  private disabledAtRun = new Set<string>();
  private readonly startedAt: number;
  private lastTick: number | null = null;
  private stalledUntil = -Infinity;
  /** This end's stalls, numbered for the peer (see stallSchema); random start, so a restart is not taken for an old one. */
  private stallId = Math.floor(Math.random() * 2 ** 32);
  /** The last stall each peer reported, by peer (its links' key prefix). */
  private peerStallIds = new Map<string, number>();
  /** When this end last ran late (ticks more than 2.5 intervals apart), for judging trains. */
  private lateSpans: LateSpan[] = [];

  constructor(private o: MonitorOptions) {
    super();
    this.clock = o.clock ?? (() => performance.now());
    this.log = o.log ?? silentLogger;
    this.readRx = o.readRxBytes ?? sysfsRxBytes;
    this.fallbackT = new FallbackTracker(o.role === 'router' && o.fallback.enabled, o.fallback.timeout_s * 1000, this.clock());
    this.startedAt = this.clock();
  }

  /** New config (thresholds, fallback); links keep their state. */
  configure(health: Health, fallback: MonitorOptions['fallback'], steer?: SteerOptions): void {
    this.o = { ...this.o, health, fallback, ...(steer ? { steer } : {}) };
    this.fallbackT.configure(this.o.role === 'router' && fallback.enabled, fallback.timeout_s * 1000);
    for (const t of this.links.values()) t.sm.setHealth(health);
  }

  /** The links to watch (from the plan); new ones start down, gone ones are dropped. */
  setLinks(specs: MonitoredLink[]): void {
    const keep = new Set(specs.map((s) => s.key));
    for (const [k, t] of this.links) {
      if (!keep.has(k)) {
        t.sock.close();
        this.links.delete(k);
      }
    }
    for (const spec of specs) {
      const old = this.links.get(spec.key);
      if (old && old.spec.local === spec.local && old.spec.peer === spec.peer && old.spec.id === spec.id) {
        // On the concentrator the role is what the router last reported, not the plan's default.
        old.spec = this.o.role === 'concentrator' ? { ...spec, role: old.spec.role } : spec;
        continue;
      }
      old?.sock.close();
      this.links.set(spec.key, this.track(spec));
    }
  }

  /** Run-time enable/disable (ubus setLink), without editing the config. */
  setEnabled(key: string, enabled: boolean): boolean {
    if (!this.links.has(key)) return false;
    if (enabled) this.disabledAtRun.delete(key);
    else this.disabledAtRun.add(key);
    return true;
  }

  start(): void {
    if (this.timer) return;
    // A stall is noticed as the timer fires, before this loop turn reads the datagrams that came
    // meanwhile; links are judged after it has read them (setImmediate), not before. Judged
    // first, a turn that began 0.3-0.5 s late behind a process start (too short to count as a
    // stall) saw replies that had come but were not read yet, and a slow link whose reply was
    // still unread while a fast link's was not looked silent alone.
    this.timer = setInterval(() => {
      this.noticeStall(this.clock());
      setImmediate(() => this.timer && this.tick());
    }, Math.max(10, this.o.health.interval * 1000));
  }

  stop(): void {
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
    for (const t of this.links.values()) t.sock.close();
  }

  steering(): SteeringDecision {
    return this.decision;
  }

  status(): LinkHealthStatus[] {
    const now = this.clock();
    return [...this.links.values()].map((t) => {
      const steered = this.decision.links[t.spec.key];
      return {
        key: t.spec.key,
        name: t.spec.name,
        status: t.state,
        online: this.decision.members.includes(t.spec.key),
        in_bond: steered?.in_bond ?? false,
        rtt_ms: round1(t.metrics?.rtt_ms ?? null),
        jitter_ms: round1(t.metrics?.jitter_ms ?? null),
        loss_pct: round1(t.metrics?.loss_long_pct ?? null),
        since: t.sinceWall,
        reason: t.reason,
        rx_capacity_kbit: t.rx.estimate(now),
        tx_capacity_kbit: t.peerCap?.rx_kbit ?? 0,
        capacity: this.capacityView(t),
        gretaps: steered?.paths ?? 0,
        added_delay_ms: steered?.extra_delay_ms ?? 0,
        shaped_kbit: steered?.shape_kbit ?? 0,
      };
    });
  }

  private capacityView(t: Tracked): LinkCapacity {
    if (this.o.role !== 'router') {
      const down = t.peerCap?.rate_kbit ?? null;
      return { down_kbit: down, down_source: down === null ? null : 'router', up_kbit: null, up_source: null };
    }
    const { down, up } = this.capacities(t);
    const source = (configured: number | undefined, v: number | null): CapacitySource | null => (configured ? 'configured' : v === null ? null : 'measured');
    return {
      down_kbit: down === null ? null : Math.round(down), down_source: source(t.spec.rx_rate_kbit, down),
      up_kbit: up === null ? null : Math.round(up), up_source: source(t.spec.tx_rate_kbit, up),
    };
  }

  private track(spec: MonitoredLink): Tracked {
    const now = this.clock();
    const t: Tracked = {
      spec,
      window: new ProbeWindow({
        intervalMs: this.o.health.interval * 1000,
        // Loss over ~2 s and ~10 s; a probe is lost once it is later than failure_latency.
        shortSize: Math.max(10, Math.round(2 / this.o.health.interval)),
        longSize: Math.max(50, Math.round(10 / this.o.health.interval)),
        lossAfterMs: this.o.health.failure_latency,
      }),
      sm: new LinkStateMachine(this.o.health, now),
      sock: undefined as unknown as ProbeSocket,
      seq: 0,
      lastOpenTry: -Infinity,
      rx: new CapacityEstimator(),
      peerCap: null,
      state: 'down',
      sinceWall: Math.floor(Date.now() / 1000),
      reason: 'starting: no probe answered yet',
      metrics: null,
      trains: new LinkTrains(spec.id, spec.key, this.log),
    };
    t.sock = new ProbeSocket({
      link: spec.id,
      local: spec.local,
      peer: spec.peer,
      ...(this.o.port !== undefined ? { port: this.o.port } : {}),
      garbage: this.garbage,
      clock: this.clock,
      onMessage: (msg, at) => this.onMessage(t, msg, at),
      onHeard: (at) => t.window.heard(at),
    });
    return t;
  }

  private onMessage(t: Tracked, msg: Exclude<HealthMessage, { t: 'probe' }>, at: number): void {
    const router = this.o.role === 'router';
    const intervalMs = this.o.health.interval * 1000;
    // Read while this end has not ticked for a stall's length: the reply may have waited for us
    // (the stall is noticed only at the next tick, and a stall can begin after a tick noticed
    // none): a live link went `degraded` on such a round trip ("rtt 1136.6 ms", stack-cut).
    if (msg.t === 'reply') t.window.replied(msg.seq, at, msg.d, this.lastTick !== null && at - this.lastTick > stallMs(intervalMs));
    else if (msg.t === 'train') {
      const firstAt = t.trains.onTrain(msg, at);
      // A probe whose reply (or itself) crossed the link in the train's wake waited behind it:
      // all of them since the train began to arrive, not only those near a packet of it (packets
      // of a train can be lost or far apart: marked per packet, a 250 kbit/s uplink still left
      // the concentrator's bond while measured, in CI, with one probe overdue).
      // Read late, the train began to arrive when this end stopped running, not when it was read:
      // the replies a 250 kbit/s uplink held behind it went unexcused through a 460 ms freeze of
      // the lab's guest (a reconcile's process starts), and the link left the bond (stack-measure,
      // 3 of 11 runs).
      t.window.shadow(earliestArrival(firstAt, this.lastTick, this.lateSpans, intervalMs) - (t.metrics?.rtt_ms ?? 1000) - intervalMs, at);
    } else if (msg.t === 'train_req') {
      if (!router && t.trains.answer(t.sock, msg, at)) t.window.shadow(at, at + trainHoldMs(t.peerCap?.rate_kbit ?? null, intervalMs));
    } else if (msg.t === 'stall') {
      this.onPeerStall(t, msg.id, msg.ms, at);
    } else if (msg.t === 'train_res') {
      if (router) t.trains.onResult(msg.id, msg.kbit, at);
    } else {
      const { rx_kbit, now_kbit, paths, rate_kbit, shape_kbit } = msg;
      t.peerCap = { rx_kbit, now_kbit, ...(paths !== undefined ? { paths } : {}), ...(rate_kbit !== undefined ? { rate_kbit } : {}), ...(shape_kbit !== undefined ? { shape_kbit } : {}) };
      if (!router && msg.backup !== undefined) t.spec = { ...t.spec, role: msg.backup ? 'backup' : 'active' };
    }
  }

  /**
   * The peer reports it could not run for `ms` until it sent this (arrived on `t` at `at`): on
   * each of that peer's links, the probes that reached it in that time are not judged. The first
   * copy to arrive (the fastest link's) acts, before the late replies it precedes.
   */
  private onPeerStall(t: Tracked, id: number, ms: number, at: number): void {
    const peer = peerOf(t.spec.key);
    if (this.peerStallIds.get(peer) === id) return;
    this.peerStallIds.set(peer, id);
    const oneWay = (x: Tracked) => (x.metrics?.min_rtt_ms ?? 0) / 2;
    const began = at - oneWay(t) - ms;
    const intervalMs = this.o.health.interval * 1000;
    for (const x of this.links.values()) if (peerOf(x.spec.key) === peer) x.window.peerStalled(began - oneWay(x) - intervalMs, at);
    this.log.debug(`health: the peer${peer ? ` ${peer}` : ''} stalled ${Math.round(ms)} ms; probes it held are not judged`);
  }

  /**
   * This end did not run for a while (a starved CPU, a long GC, a process start): probes due
   * meanwhile are late for local reasons. Called before the replies that came meanwhile are read
   * (see start), so their round trips, stall included, are not measured; judging waits until the
   * backlog is read.
   */
  private noticeStall(now: number): void {
    const intervalMs = this.o.health.interval * 1000;
    const gap = this.lastTick === null ? 0 : now - this.lastTick;
    this.lastTick = now;
    if (gap > 2.5 * intervalMs) this.lateSpans = [...this.lateSpans.filter((s) => s.to >= now - TRAIN_LATE_KEEP_MS), { from: now - gap, to: now }];
    if (gap <= stallMs(intervalMs)) return;
    this.log.debug(`health: this end stalled ${Math.round(gap)} ms; probes due meanwhile are not judged`);
    for (const t of this.links.values()) t.window.forgetPending(now - gap, now);
    this.stalledUntil = now + 2 * intervalMs;
    // The peer's probes waited too: it must not judge its links on them either.
    this.stallId = (this.stallId + 1) % 2 ** 32;
    for (const t of this.links.values()) if (t.sock.ready) t.sock.send({ v: 1, t: 'stall', link: t.spec.id, id: this.stallId, ms: Math.min(60_000, Math.round(gap)) });
  }

  /** One probe interval. Public so tests can drive a monitor without timers. */
  tick(): void {
    const now = this.clock();
    const intervalMs = this.o.health.interval * 1000;
    this.noticeStall(now);
    const judging = now >= this.stalledUntil;
    const all = [...this.links.values()];
    for (const t of all) {
      const others = all.filter((o) => o !== t && peerOf(o.spec.key) === peerOf(t.spec.key)).map((o) => o.window.heardAt ?? -Infinity);
      t.metrics = t.window.metrics(now, others.length ? Math.max(...others) : null);
    }
    for (const t of all) {
      if (!t.sock.ready && now - t.lastOpenTry >= 1000) {
        t.lastOpenTry = now;
        void t.sock.open();
      }
      const m = t.metrics!;
      const others = all.filter((o) => o !== t && this.enabled(o)).map((o) => o.metrics!);
      if (judging) {
        const check: Check = silenceIsLinks(m, others, now, ALL_SILENT_GRACE_MS)
          ? classify(m, this.o.health)
          : { kind: 'neutral', silent: false, reason: `every link silent for ${Math.round(m.pending_age_ms ?? 0)} ms: a stall at either end, not yet a link` };
        const tr = t.sm.step(check, now);
        if (tr) this.log.debug(`link ${t.spec.key}: ${tr.from} -> ${tr.to}: ${tr.reason}`);
      }
      const train = t.trains.collect(now);
      // Timed while this end ran late, a train's arrivals say when it was read, not when it came
      // (and a frozen lab releases a shaped link's queue at once): a 4 Mbit/s link read as 8-20
      // on a loaded host. It counts as no reading, and another is taken.
      const kbit = train && this.lateSpans.some((s) => s.to >= train.firstAt) ? null : (train?.kbit ?? null);
      if (train && kbit === null && train.kbit !== null) this.log.debug(`link ${t.spec.key}: train ${train.id} read while this end ran late: not used`);
      if (train && this.o.role === 'router') t.trains.measuredDown(train.id, kbit, now);
      else if (train) t.sock.send({ v: 1, t: 'train_res', link: t.spec.id, id: train.id, kbit: kbit ?? 0 });
      if (t.sock.ready) {
        t.window.sent(t.seq, now);
        t.sock.send({ v: 1, t: 'probe', link: t.spec.id, seq: t.seq, ts: Math.max(0, Math.round(now * 100) / 100) });
        t.seq = (t.seq + 1) % 2 ** 32;
      }
    }
    if (now - this.lastCap >= 1000) {
      this.lastCap = now;
      this.measureAndReport(now);
    }
    this.decide(now);
  }

  private enabled(t: Tracked): boolean {
    return t.spec.enabled && !this.disabledAtRun.has(t.spec.key);
  }

  private measureAndReport(now: number): void {
    let trainStarted = false;
    // Links take turns to be first, so one slow to finish its trains does not hold the others back.
    const order = [...this.links.values()];
    const turn = order.length ? Math.floor(now / 1000) % order.length : 0;
    for (const t of [...order.slice(turn), ...order.slice(0, turn)]) {
      const bytes = t.spec.rx_devs.length ? this.readRx(t.spec.rx_devs) : null;
      if (bytes !== null) t.rx.sample(bytes, now);
      const paths = this.o.role === 'router' ? this.decision.links[t.spec.key]?.paths : undefined;
      const router = this.o.role === 'router';
      const { down, up } = this.capacities(t);
      if (router && !trainStarted) {
        // Quiet: carrying under a fifth of the capacity (a train then sees most of the link).
        const quiet = (now_kbit: number, cap: number | null) => now_kbit < 0.2 * (cap ?? 1000);
        const started = t.trains.tickRouter(now, t.sock, {
          up: t.sm.state === 'up', wantDown: !t.spec.rx_rate_kbit, wantUp: !t.spec.tx_rate_kbit,
          quietDown: quiet(t.rx.current, down), quietUp: quiet(t.peerCap?.now_kbit ?? 0, up),
        });
        // A download train is seen arriving (onMessage); an upload train only here.
        if (started === 'up') t.window.shadow(now, now + trainHoldMs(up, this.o.health.interval * 1000));
        trainStarted = started !== null;
      }
      t.sock.send({
        v: 1, t: 'cap', link: t.spec.id, rx_kbit: t.rx.estimate(now), now_kbit: Math.round(t.rx.current),
        ...(paths ? { paths } : {}), ...(router ? { backup: t.spec.role === 'backup' } : {}),
        ...(router && down ? { rate_kbit: Math.round(down) } : {}),
        ...(router && t.spec.rx_shape_kbit ? { shape_kbit: Math.round(t.spec.rx_shape_kbit) } : {}),
      });
    }
  }

  /**
   * Router: the link's capacity toward it (download) and away from it (upload), kbit/s: configured,
   * else measured by packet trains; null while unknown. (Arrival rates under round-robin are the
   * bond's own shares, not capacities: they are never used for this.)
   */
  private capacities(t: Tracked): { down: number | null; up: number | null } {
    return { down: t.spec.rx_rate_kbit ?? t.trains.down.value(), up: t.spec.tx_rate_kbit ?? t.trains.up.value() };
  }

  private decide(now: number): void {
    const all = [...this.links.values()];
    const ts = transmitSetByGroup(all.map((t) => ({ name: t.spec.key, group: siteOfKey(t.spec.key), enabled: this.enabled(t), role: t.spec.role, health: t.sm.state })));
    for (const t of all) {
      const to = ts.states[t.spec.key]!;
      const reason = !this.enabled(t) ? 'disabled' : to === 'backup' ? `healthy backup, not needed: ${ts.reason}` : t.sm.reason;
      if (to !== t.state) {
        const ev: LinkEvent = {
          link: t.spec.key, from: t.state, to, reason,
          rtt_ms: round1(t.metrics?.rtt_ms ?? null), loss_pct: round1(t.metrics?.loss_short_pct ?? null),
          time: Math.floor(Date.now() / 1000),
        };
        this.log.info(`link ${t.spec.key}: ${t.state} -> ${to} (${reason})`);
        t.state = to;
        t.sinceWall = ev.time;
        this.emit('link', ev);
      }
      t.reason = reason;
    }
    const fb: FallbackDecision | null = this.fallbackT.update(ts.answering, now);
    if (fb) this.log.warn(fb.reason);
    const router = this.o.role === 'router';
    const caps = all.map((t) => this.capacities(t));
    // Weighting and equalisation need every link's capacities, configured or measured.
    const known = caps.every((c) => c.down !== null && c.up !== null);
    const opts: SteerOptions = router
      ? (known ? (this.o.steer ?? {}) : { ...this.o.steer, weight: false, equalise: false })
      // The concentrator equalises its delays once the router has sent every link's rate.
      : { ...this.o.steer, equalise: this.o.steer?.equalise !== false && all.every((t) => !!t.peerCap?.rate_kbit) };
    const xrtt = expressRtts(all.map((t) => ({ metrics: t.metrics, group: siteOfKey(t.spec.key) })), this.o.health.interval * 1000, now);
    const mem = steer(
      all.map((t, i) => {
        // Gretap counts follow the router's receive (download) direction: both ends must agree.
        const weightCap = router ? caps[i]!.down : (t.spec.tx_rate_kbit ?? null);
        // The concentrator's transmit rates are the router's download rates, sent over.
        const tx = router ? caps[i]!.up : (t.peerCap?.rate_kbit ?? null);
        const shape = router ? t.spec.tx_shape_kbit : t.peerCap?.shape_kbit;
        const minRtt = t.metrics?.min_rtt_ms ?? null;
        return {
          name: t.spec.key, in_set: ts.members.includes(t.spec.key), capacity_kbit: weightCap, tx_kbit: tx, owd_ms: minRtt === null ? null : minRtt / 2, fwd_ms: t.metrics?.min_fwd_ms ?? null, shape_kbit: shape ?? 0,
          rtt_ms: xrtt[i]!.rtt_ms, late: xrtt[i]!.late, group: siteOfKey(t.spec.key),
        };
      }),
      opts,
      this.memory,
      now,
    );
    if (!router) {
      // The concentrator runs as many gretaps as the router says it runs.
      for (const t of all) mem.steering[t.spec.key]!.paths = t.peerCap?.paths ?? mem.steering[t.spec.key]!.paths;
    }
    this.memory = mem;
    const next: SteeringDecision = { links: mem.steering, fallback: this.fallbackT.decision.fallback, members: ts.members, reason: fb?.reason ?? ts.reason };
    const settled = all.every((t) => t.sm.state !== 'down' || t.sm.reason !== 'starting: no probe answered yet');
    if (!settled && now - this.startedAt < (this.o.startupGraceMs ?? 5000)) return;
    if (!sameSteering(next.links, this.decision.links) || next.fallback !== this.decision.fallback) {
      this.decision = next;
      this.emit('steering', next);
    } else {
      this.decision = { ...this.decision, members: ts.members };
    }
  }
}

// MQTT front end: availability, retained telemetry, queued alerts and Home Assistant discovery.
// The daemon calls startMqtt() once; from then on everything here runs off timers and socket
// callbacks. Event listeners only append to an in-memory queue, so a dead or slow broker never
// delays the control loop.
import type { AgentApi, StatusEvent } from '../agent/api.ts';
import type { Mqtt } from '../config/types.ts';
import type { Logger } from '../log.ts';
import type { LinkEvent, Status } from '../status/types.ts';
import { VERSION } from '../version.ts';
import { AlertQueue, alertFromLinkEvent, alertFromStatusEvent, type Alert } from './alerts.ts';
import { BrokerConnection } from './connection.ts';
import { Announced, discoveryMessages } from './discovery.ts';
import { MqttConfigError, resolveOptions, type MqttOptions } from './options.ts';
import { telemetryMessages } from './telemetry.ts';
import { topicsFor, type Topics } from './topics.ts';

export { DEFAULT_QUEUE_LIMIT } from './options.ts';

export interface MqttHandle {
  /** Publishes `offline`, disconnects; alerts still queued are reported and dropped. */
  stop(): Promise<void>;
  /** Alerts waiting for the broker, dropped because the queue was full, and delivered. */
  stats(): { queued: number; dropped: number; sent: number };
}

const inert = (): MqttHandle => ({ stop: async () => {}, stats: () => ({ queued: 0, dropped: 0, sent: 0 }) });

export function startMqtt(
  cfg: Mqtt,
  api: AgentApi,
  opts: { hostname: string; log: Logger; queueLimit?: number; now?: () => number },
): MqttHandle {
  const log = opts.log;
  if (!cfg.enabled) return inert();
  let o: MqttOptions;
  try {
    o = resolveOptions(cfg, { hostname: opts.hostname, queueLimit: opts.queueLimit });
  } catch (e) {
    if (!(e instanceof MqttConfigError)) throw e;
    log.error(`mqtt: not started: ${e.message}`);
    return inert();
  }
  return new MqttFrontEnd(o, api, log, opts.now ?? Date.now).handle();
}

class MqttFrontEnd {
  private readonly topics: Topics;
  private readonly conn: BrokerConnection;
  private readonly queue: AlertQueue;
  private inFlight: Alert | undefined;
  private sent = 0;
  private ticker: NodeJS.Timeout | undefined;
  private soon: NodeJS.Immediate | undefined;
  private retry: NodeJS.Timeout | undefined;
  private telemetryPending = 0;
  /** Discovery topics currently announced (in this process's view). */
  private announced = new Set<string>();
  private announcedKey = '';
  private announcedOnce = false;
  private earlierList: string[] | undefined;
  private stopped = false;

  constructor(
    private readonly o: MqttOptions,
    private readonly api: AgentApi,
    private readonly log: Logger,
    private readonly now: () => number,
  ) {
    this.topics = topicsFor(o.prefix);
    this.queue = new AlertQueue(o.queueLimit);
    this.conn = new BrokerConnection(o, { topic: this.topics.availability, payload: 'offline' }, log);
    this.conn.subscribe([this.topics.announced, `${o.haPrefix}/status`]);
    this.conn.on('up', () => this.onUp());
    this.conn.on('down', () => this.onDown());
    this.conn.on('message', (t, p, r) => this.onMessage(t, p, r));
    api.events.on('link', this.onLink);
    api.events.on('status', this.onStatus);
    this.ticker = setInterval(() => this.publishTelemetry(), o.intervalMs);
    this.conn.start();
  }

  handle(): MqttHandle {
    return {
      stop: () => this.stop(),
      stats: () => ({ queued: this.queue.length + (this.inFlight ? 1 : 0), dropped: this.queue.dropped, sent: this.sent }),
    };
  }

  private readonly onLink = (ev: LinkEvent): void => {
    this.raise(alertFromLinkEvent(ev, this.now));
  };

  private readonly onStatus = (ev: StatusEvent): void => {
    const a = alertFromStatusEvent(ev, this.now);
    if (a) this.raise(a);
    else this.telemetrySoon();
  };

  private raise(a: Alert): void {
    this.queue.push(a);
    this.telemetrySoon();
  }

  private onUp(): void {
    this.conn.publish(this.topics.availability, 'online', { qos: 1, retain: true });
    this.announcedKey = '';
    this.publishTelemetry();
    this.pump();
  }

  private onDown(): void {
    // The alert in flight was not acknowledged: it goes back to the front, to be sent again.
    if (this.inFlight) this.queue.putBack(this.inFlight);
    this.inFlight = undefined;
    this.telemetryPending = 0;
  }

  /** Alerts leave one at a time, each after the previous one's PUBACK: order is kept across reconnects. */
  private pump(): void {
    if (this.stopped || this.inFlight || !this.conn.connected) return;
    const a = this.queue.take();
    if (!a) return;
    this.inFlight = a;
    const ok = this.conn.publish(this.topics.alert, JSON.stringify(a), { qos: 1, retain: false }, (err) => {
      if (this.inFlight !== a) return; // connection dropped meanwhile; onDown() requeued it
      this.inFlight = undefined;
      if (err) {
        this.queue.putBack(a);
        this.retry = setTimeout(() => this.pump(), 1000);
        return;
      }
      this.sent++;
      if (a.dropped) this.log.warn(`mqtt: ${a.dropped} alerts were dropped while the broker was unreachable (queue limit ${this.o.queueLimit})`);
      this.pump();
    });
    if (!ok) {
      this.inFlight = undefined;
      this.queue.putBack(a);
    }
  }

  /**
   * After an event: fresh states, then the alerts, on the next turn of the event loop (never
   * inside the daemon's emit()). States first, so whoever reacts to an alert reads a state that
   * already shows it.
   */
  private telemetrySoon(): void {
    if (this.soon || this.stopped) return;
    this.soon = setImmediate(() => {
      this.soon = undefined;
      this.publishTelemetry();
      this.pump();
    });
  }

  private publishTelemetry(): void {
    if (this.stopped || !this.conn.connected) return;
    // A broker that is slow to take the last round gets no new one on top of it.
    if (this.telemetryPending > 0) return;
    let status: Status;
    try {
      status = this.api.status();
    } catch (e) {
      this.log.warn(`mqtt: status unavailable: ${(e as Error).message}`);
      return;
    }
    if (this.o.haDiscovery) this.announce(status);
    for (const m of telemetryMessages(status, this.topics)) {
      // Counted before publishing: at QoS 0 mqtt.js may call back before publish() returns.
      this.telemetryPending++;
      const sent = this.conn.publish(m.topic, m.payload, { qos: this.o.qos, retain: true }, () => {
        this.telemetryPending = Math.max(0, this.telemetryPending - 1);
      });
      if (!sent) this.telemetryPending = Math.max(0, this.telemetryPending - 1);
    }
  }

  /** Publishes discovery when the set of entities changed (or after a reconnect), and retracts removed ones. */
  private announce(status: Status): void {
    const msgs = discoveryMessages(status, {
      haPrefix: this.o.haPrefix, nodeId: this.o.nodeId, hostname: this.o.hostname, version: VERSION, topics: this.topics,
    });
    const key = [...msgs.keys()].join('\n');
    if (key === this.announcedKey) return;
    for (const old of this.announced) if (!msgs.has(old)) this.retract(old);
    for (const [topic, payload] of msgs) this.conn.publish(topic, payload, { qos: 1, retain: true });
    this.announced = new Set(msgs.keys());
    this.announcedKey = key;
    this.conn.publish(this.topics.announced, JSON.stringify({ topics: [...msgs.keys()] }), { qos: 1, retain: true });
    this.announcedOnce = true;
    if (this.earlierList) {
      this.retractStale(this.earlierList);
      this.earlierList = undefined;
    }
  }

  private retract(topic: string): void {
    this.conn.publish(topic, '', { qos: 1, retain: true });
  }

  private onMessage(topic: string, payload: Buffer, _retained: boolean): void {
    if (topic === `${this.o.haPrefix}/status`) {
      // Home Assistant restarted: send states again so its entities fill in at once.
      if (payload.toString() === 'online') {
        this.announcedKey = '';
        this.telemetrySoon();
      }
      return;
    }
    if (topic !== this.topics.announced || payload.length === 0) return;
    // What an earlier run announced: anything not announced now (a link removed from the
    // config while wanbond was stopped, discovery switched off) is retracted. Our own list
    // coming back to us changes nothing.
    let prev: string[];
    try {
      prev = Announced.parse(JSON.parse(payload.toString())).topics;
    } catch {
      this.log.debug('mqtt: ignoring a malformed announced-topics list');
      return;
    }
    if (!this.announcedOnce && this.o.haDiscovery) {
      this.earlierList = prev; // compared once this run has announced its own entities
      return;
    }
    this.retractStale(prev);
  }

  private retractStale(prev: string[]): void {
    const stale = prev.filter((t) => !this.announced.has(t) && t.endsWith('/config') && t.includes(`/${this.o.nodeId}/`));
    for (const t of stale) this.retract(t);
    if (stale.length) this.log.info(`mqtt: removed ${stale.length} Home Assistant entities no longer configured`);
    if (!this.o.haDiscovery && prev.length) this.conn.publish(this.topics.announced, '', { qos: 1, retain: true });
  }

  private async stop(): Promise<void> {
    if (this.stopped) return;
    this.stopped = true;
    clearInterval(this.ticker);
    if (this.soon) clearImmediate(this.soon);
    clearTimeout(this.retry);
    this.api.events.off('link', this.onLink);
    this.api.events.off('status', this.onStatus);
    const left = this.queue.length + (this.inFlight ? 1 : 0);
    if (left) this.log.warn(`mqtt: stopping with ${left} alerts not delivered`);
    await this.conn.close({ topic: this.topics.availability, payload: 'offline' });
  }
}

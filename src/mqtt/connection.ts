// One broker connection that keeps coming back: a fresh mqtt.js client per attempt, retried with
// exponential backoff (1 s doubling to 60 s, jittered), last will set on every attempt. Nothing
// here blocks the caller: publish() hands the packet to the socket and returns.
import { EventEmitter } from 'node:events';
import type { MqttClient } from 'mqtt';
import type { Logger } from '../log.ts';
import type { MqttOptions } from './options.ts';
import { createClient } from './transport.ts';

const BACKOFF_FIRST_MS = 1000;
const BACKOFF_MAX_MS = 60_000;
const CLOSE_WAIT_MS = 2000;

export interface Will {
  topic: string;
  payload: string;
}

export interface PublishOptions {
  qos: 0 | 1 | 2;
  retain: boolean;
}

interface ConnectionEvents {
  up: [];
  down: [];
  message: [topic: string, payload: Buffer, retained: boolean];
}

/** A one-line reason for a failed attempt, in the user's terms; never contains secrets. */
export function describeError(err: Error & { code?: string | number }): { text: string; fatal: boolean } {
  const code = err.code;
  if (code === 4 || code === 134) return { text: 'broker refused the login: bad user name or password', fatal: true };
  if (code === 5 || code === 135) return { text: 'broker refused the login: not authorized', fatal: true };
  if (code === 2 || code === 133) return { text: 'broker rejected the client id', fatal: true };
  if (typeof code === 'number') return { text: `broker refused the connection (code ${code})`, fatal: true };
  if (code === 'ECONNREFUSED') return { text: 'connection refused (is the broker running on that port?)', fatal: false };
  if (code === 'ENOTFOUND' || code === 'EAI_AGAIN') return { text: 'broker host name does not resolve', fatal: false };
  if (code === 'ETIMEDOUT' || code === 'EHOSTUNREACH' || code === 'ENETUNREACH') return { text: `broker unreachable (${code})`, fatal: false };
  if (typeof code === 'string' && /CERT|SELF_SIGNED|ALTNAME|UNABLE_TO_VERIFY|ERR_TLS|SSL/.test(code)) {
    return { text: `TLS: the broker's certificate is not trusted (${code}); set ca_file to its CA, or insecure to skip the check`, fatal: true };
  }
  return { text: err.message.replace(/\/\/[^@/\s]*@/g, '//'), fatal: false };
}

export class BrokerConnection extends EventEmitter<ConnectionEvents> {
  private client: MqttClient | undefined;
  private attemptNo = 0;
  private failures = 0;
  private retryTimer: NodeJS.Timeout | undefined;
  private lastLogged = '';
  private everUp = false;
  private closed = false;
  private subscriptions: string[] = [];
  connected = false;

  constructor(
    private readonly opts: MqttOptions,
    private readonly will: Will,
    private readonly log: Logger,
  ) {
    super();
  }

  start(): void {
    this.attempt();
  }

  /** Topics (re)subscribed on every connect. */
  subscribe(topics: string[]): void {
    this.subscriptions = topics;
    if (this.connected) this.client?.subscribe(topics, { qos: 1 });
  }

  /** Returns false (and sends nothing) when not connected; `done` runs on the broker's ack (QoS 1/2) or on write (QoS 0). */
  publish(topic: string, payload: string, o: PublishOptions, done?: (err?: Error) => void): boolean {
    const c = this.client;
    if (!c || !this.connected) return false;
    c.publish(topic, payload, { qos: o.qos, retain: o.retain }, (err) => done?.(err ?? undefined));
    return true;
  }

  /** Publishes `final` (when connected), disconnects cleanly, and stops retrying. */
  async close(final?: Will): Promise<void> {
    this.closed = true;
    clearTimeout(this.retryTimer);
    const c = this.client;
    if (!c) return;
    if (this.connected && final) {
      await withTimeout(new Promise<void>((res) => c.publish(final.topic, final.payload, { qos: 1, retain: true }, () => res())), CLOSE_WAIT_MS);
    }
    await withTimeout(new Promise<void>((res) => c.end(!this.connected, {}, () => res())), CLOSE_WAIT_MS);
    // A broker that never answered the DISCONNECT: let the socket go anyway.
    c.stream?.destroy();
    this.connected = false;
    this.client = undefined;
  }

  private attempt(): void {
    if (this.closed) return;
    const no = ++this.attemptNo;
    let failed = false;
    let client: MqttClient;
    try {
      client = createClient(this.opts, {
        clientId: this.opts.clientId,
        username: this.opts.username,
        password: this.opts.password,
        protocolVersion: 4,
        clean: true,
        keepalive: 30,
        connectTimeout: 10_000,
        reconnectPeriod: 0, // our own backoff, one client per attempt
        resubscribe: false,
        queueQoSZero: false,
        will: { topic: this.will.topic, payload: Buffer.from(this.will.payload), qos: 1, retain: true },
      });
    } catch (e) {
      this.failed(e as Error);
      return;
    }
    this.client = client;
    let error: Error | undefined;
    client.on('error', (err) => {
      error = err;
    });
    client.on('message', (topic, payload, packet) => this.emit('message', topic, payload, packet.retain));
    client.on('connect', () => {
      if (no !== this.attemptNo || this.closed) return;
      this.connected = true;
      this.failures = 0;
      this.lastLogged = '';
      this.log.info(`mqtt: connected to ${this.opts.safeUrl} as ${this.opts.clientId}`);
      this.everUp = true;
      if (this.subscriptions.length) client.subscribe(this.subscriptions, { qos: 1 });
      this.emit('up');
    });
    client.on('close', () => {
      if (failed || no !== this.attemptNo) return;
      failed = true;
      const wasUp = this.connected;
      this.connected = false;
      client.end(true);
      if (this.client === client) this.client = undefined;
      if (wasUp) this.emit('down');
      if (this.closed) return;
      this.failed(error ?? new Error(wasUp ? 'connection lost' : 'connection closed by the broker'), wasUp);
    });
  }

  private failed(err: Error, wasUp = false): void {
    this.failures++;
    const base = Math.min(BACKOFF_MAX_MS, BACKOFF_FIRST_MS * 2 ** (this.failures - 1));
    const delay = Math.round(base * (0.75 + Math.random() * 0.5));
    const { text, fatal } = describeError(err);
    const line = `mqtt: ${wasUp ? 'lost the connection to' : 'cannot connect to'} ${this.opts.safeUrl}: ${text}`;
    if (text !== this.lastLogged) {
      this.lastLogged = text;
      if (fatal) this.log.error(line);
      else if (wasUp || !this.everUp || this.failures === 1) this.log.warn(`${line}; retrying with backoff`);
    } else {
      this.log.debug(`${line}; next try in ${Math.round(delay / 1000)} s`);
    }
    this.retryTimer = setTimeout(() => this.attempt(), delay);
  }
}

function withTimeout(p: Promise<void>, ms: number): Promise<void> {
  let t: NodeJS.Timeout | undefined;
  return Promise.race([p, new Promise<void>((res) => (t = setTimeout(res, ms)))]).finally(() => clearTimeout(t));
}

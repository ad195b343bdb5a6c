// A test's own MQTT subscriber: records every message it sees (topic, payload, retain flag, QoS)
// and waits, with a generous deadline, for the one a test expects.
import mqtt, { type IClientOptions, type MqttClient } from 'mqtt';

export interface Seen {
  topic: string;
  payload: string;
  retain: boolean;
  qos: number;
}

export class Watch {
  readonly seen: Seen[] = [];
  private waiters: Array<() => void> = [];
  private constructor(readonly client: MqttClient) {
    client.on('message', (topic, payload, packet) => {
      this.seen.push({ topic, payload: payload.toString(), retain: packet.retain, qos: packet.qos });
      for (const w of this.waiters) w();
    });
  }

  static async open(url: string, topics: string[], opts: IClientOptions = {}): Promise<Watch> {
    const client = await mqtt.connectAsync(url, { reconnectPeriod: 500, connectTimeout: 5000, ...opts });
    const w = new Watch(client);
    await client.subscribeAsync(topics, { qos: 1 });
    return w;
  }

  on(topic: string): Seen[] {
    return this.seen.filter((s) => s.topic === topic);
  }

  /** Resolves with the first message matching `pred`, or fails after `ms` with what was seen. */
  async waitFor(pred: (s: Seen) => boolean, ms = 20_000, what = 'message'): Promise<Seen> {
    const found = () => this.seen.find(pred);
    const now = found();
    if (now) return now;
    return new Promise((resolve, reject) => {
      const check = () => {
        const f = found();
        if (f) {
          done();
          resolve(f);
        }
      };
      const t = setTimeout(() => {
        done();
        reject(new Error(`no ${what} within ${ms} ms; saw: ${this.seen.map((s) => `${s.topic}=${s.payload.slice(0, 80)}`).join(' | ')}`));
      }, ms);
      const done = () => {
        clearTimeout(t);
        this.waiters = this.waiters.filter((w) => w !== check);
      };
      this.waiters.push(check);
    });
  }

  /** Waits until `count` messages match `pred`. */
  async waitForCount(pred: (s: Seen) => boolean, count: number, ms = 30_000, what = 'messages'): Promise<Seen[]> {
    const matching = () => this.seen.filter(pred);
    if (matching().length >= count) return matching();
    await this.waitFor(() => matching().length >= count, ms, `${count} ${what}`);
    return matching();
  }

  async close(): Promise<void> {
    await this.client.endAsync(true);
  }
}

/**
 * What the broker retains under `topics`. Deterministic: after subscribing it publishes a marker to
 * a topic of its own and waits for it; the broker sends the retained messages before that marker.
 */
export async function retained(url: string, topics: string[], opts: IClientOptions = {}): Promise<Map<string, string>> {
  const sync = `wanbond-test/sync/${Math.random().toString(36).slice(2)}`;
  const w = await Watch.open(url, [...topics, sync], opts);
  await w.client.publishAsync(sync, 'x', { qos: 1 });
  await w.waitFor((s) => s.topic === sync, 10_000, 'sync marker');
  await w.close();
  return new Map(w.seen.filter((s) => s.retain).map((s) => [s.topic, s.payload]));
}

// Turns the validated `config mqtt` section into what the client needs: broker URL without
// credentials, secrets read from their files, defaults filled in, names made topic-safe.
// Errors name the option and never carry the password.
import { readFileSync } from 'node:fs';
import { randomBytes } from 'node:crypto';
import * as z from 'zod';
import type { Mqtt } from '../config/types.ts';

/** Alerts kept while the broker is unreachable; past this the oldest are dropped (and counted). */
export const DEFAULT_QUEUE_LIMIT = 500;

export class MqttConfigError extends Error {}

const Protocol = z.enum(['mqtt', 'mqtts', 'ws', 'wss']);
const TopicPart = z
  .string()
  .min(1)
  .refine((s) => !/[+#\0]/.test(s) && !s.startsWith('/') && !s.endsWith('/') && !s.includes('//'), {
    message: 'must not contain + # or empty levels',
  });

const Resolved = z.object({
  url: z.string(),
  safeUrl: z.string(),
  protocol: Protocol,
  username: z.string().optional(),
  password: z.string().optional(),
  clientId: z.string().min(1).max(128),
  hostname: z.string().min(1),
  prefix: TopicPart,
  haPrefix: TopicPart,
  nodeId: z.string().regex(/^[A-Za-z0-9_-]+$/),
  intervalMs: z.number().int().min(1000).max(86_400_000),
  qos: z.union([z.literal(0), z.literal(1), z.literal(2)]),
  ca: z.instanceof(Buffer).optional(),
  rejectUnauthorized: z.boolean(),
  haDiscovery: z.boolean(),
  queueLimit: z.number().int().min(1).max(1_000_000),
});
export type MqttOptions = z.infer<typeof Resolved>;

/** A hostname as one topic level: MQTT wildcards and separators replaced. */
function topicSafe(s: string): string {
  return s.replace(/[+#/\s\0]/g, '_') || 'router';
}

export function resolveOptions(cfg: Mqtt, ctx: { hostname: string; queueLimit?: number }): MqttOptions {
  let url: URL;
  try {
    url = new URL(cfg.broker);
  } catch {
    throw new MqttConfigError(`mqtt.broker: not a URL (expected mqtt://, mqtts://, ws:// or wss://host[:port])`);
  }
  const protocol = Protocol.safeParse(url.protocol.replace(/:$/, ''));
  if (!protocol.success) throw new MqttConfigError(`mqtt.broker: scheme ${url.protocol} not one of mqtt: mqtts: ws: wss:`);
  if (!url.hostname) throw new MqttConfigError('mqtt.broker: no host');

  // Credentials may ride in the URL; the explicit options win. Either way they leave the URL.
  let username = cfg.username ?? (url.username ? decodeURIComponent(url.username) : undefined);
  let password = cfg.password ?? (url.password ? decodeURIComponent(url.password) : undefined);
  url.username = '';
  url.password = '';
  if (cfg.password_file) {
    try {
      password = readFileSync(cfg.password_file, 'utf8').replace(/\r?\n$/, '');
    } catch (e) {
      throw new MqttConfigError(`mqtt.password_file: cannot read ${cfg.password_file} (${(e as NodeJS.ErrnoException).code ?? 'error'})`);
    }
  }
  if (username === '') username = undefined;

  let ca: Buffer | undefined;
  if (cfg.ca_file) {
    try {
      ca = readFileSync(cfg.ca_file);
    } catch (e) {
      throw new MqttConfigError(`mqtt.ca_file: cannot read ${cfg.ca_file} (${(e as NodeJS.ErrnoException).code ?? 'error'})`);
    }
  }

  const host = topicSafe(ctx.hostname);
  const prefix = (cfg.topic_prefix ?? `wanbond/${host}`).replace(/\/+$/, '');
  const candidate = {
    url: url.toString(),
    safeUrl: url.toString(),
    protocol: protocol.data,
    username,
    password,
    // Random suffix: two routers left at the default hostname must not keep kicking each other off.
    clientId: cfg.client_id ?? `wanbond-${host}-${randomBytes(3).toString('hex')}`,
    hostname: ctx.hostname,
    prefix,
    haPrefix: cfg.ha_prefix.replace(/\/+$/, ''),
    nodeId: prefix.replace(/[^A-Za-z0-9_-]/g, '_'),
    intervalMs: Math.round(cfg.interval * 1000),
    qos: cfg.qos,
    ca,
    rejectUnauthorized: !cfg.insecure,
    haDiscovery: cfg.ha_discovery,
    queueLimit: ctx.queueLimit ?? DEFAULT_QUEUE_LIMIT,
  };
  const r = Resolved.safeParse(candidate);
  if (!r.success) {
    const names: Record<string, string> = {
      prefix: 'topic_prefix', haPrefix: 'ha_prefix', intervalMs: 'interval', clientId: 'client_id', nodeId: 'topic_prefix',
    };
    const msgs = r.error.issues.map((i) => {
      const key = String(i.path[0] ?? '');
      return `mqtt.${names[key] ?? key}: ${i.message}`;
    });
    throw new MqttConfigError(msgs.join('; '));
  }
  return r.data;
}

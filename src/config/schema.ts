// What /etc/config/wanbond may contain: the section types, their options and each option's
// zod validator (string from UCI -> typed value). load.ts applies it; cross-option rules
// (what is required when, what must not collide) live in semantics.ts.

import * as z from 'zod';
import * as v from './validators.ts';

export interface OptionSpec {
  /** Validates one UCI value and converts it to the typed value. */
  schema: z.ZodType<unknown, string>;
  /** `list` options take any number of `list name 'value'` lines. */
  list?: true;
}

export interface SectionSpec {
  /** One section of this type at most (its name is free; `config globals 'globals'` by convention). */
  single: boolean;
  /** The section name is data (link and site names): anonymous sections are refused. */
  named: boolean;
  options: Record<string, OptionSpec>;
}

export function oneOf<const T extends readonly string[]>(values: T): z.ZodType<T[number], string> {
  return z.string().superRefine((s, ctx) => {
    if (!values.includes(s)) ctx.addIssue({ code: 'custom', message: `${v.quote(s)} is not one of ${values.join(', ')}${hint(s, values)}` });
  }) as unknown as z.ZodType<T[number], string>;
}

export const BOND_MODES = ['balance-rr', 'balance-xor', 'active-backup', 'broadcast'] as const;
export const ROLES = ['router', 'concentrator'] as const;
export const LOG_LEVELS = ['debug', 'info', 'warn', 'error'] as const;

const mtu: z.ZodType<'auto' | number, string> = z
  .string()
  .superRefine((s, ctx) => {
    if (s === 'auto') return;
    if (!/^(0|[1-9][0-9]{0,5})$/.test(s)) ctx.addIssue({ code: 'custom', message: `${v.quote(s)} is not 'auto' or a number of bytes (576..9000)` });
    else if (Number(s) < 576 || Number(s) > 9000) ctx.addIssue({ code: 'custom', message: `${s} bytes is out of range (576..9000, or 'auto')` });
  })
  .transform((s) => (s === 'auto' ? 'auto' : Number(s)));

/** Percent of the configured link rates: 0 (off) or 50..100. */
const shaping = v.integer(0, 100, '%').refine((n) => n === 0 || n >= 50, { message: 'shaping is 0 (off) or 50..100 % of the configured rates' });

export const SECTIONS: Record<string, SectionSpec> = {
  globals: {
    single: true,
    named: false,
    options: {
      enabled: { schema: v.bool },
      role: { schema: oneOf(ROLES) },
      mode: { schema: oneOf(BOND_MODES) },
      mtu: { schema: mtu },
      log_level: { schema: oneOf(LOG_LEVELS) },
      fallback: { schema: v.bool },
      fallback_timeout: { schema: v.integer(1, 3600, 's') },
      nat: { schema: v.bool },
      shaping: { schema: shaping },
      express_bytes: { schema: v.integer(0, 1280, 'bytes') },
      bypass_dst: { schema: v.ipv4Cidr, list: true },
      bypass_src: { schema: v.ipv4Cidr, list: true },
      listen_port: { schema: v.port },
      private_key_file: { schema: v.absolutePath },
      public_interface: { schema: v.deviceName },
    },
  },
  concentrator: {
    single: true,
    named: false,
    options: {
      host: { schema: v.host },
      port: { schema: v.port },
      public_key: { schema: v.wireguardKey },
      site: { schema: v.linkName },
      subnet: { schema: v.ipv4Cidr },
    },
  },
  link: {
    single: false,
    named: true,
    options: {
      id: { schema: v.integer(1, 16) },
      interface: { schema: v.interfaceName },
      device: { schema: v.deviceName },
      gateway: { schema: v.ipAddress },
      enabled: { schema: v.bool },
      weight: { schema: v.integer(1, 100) },
      rate_down: { schema: v.integer(1, 10_000_000, 'kbit/s') },
      rate_up: { schema: v.integer(1, 10_000_000, 'kbit/s') },
      role: { schema: oneOf(['active', 'backup'] as const) },
      private_key_file: { schema: v.absolutePath },
    },
  },
  health: {
    single: true,
    named: false,
    options: {
      interval: { schema: v.decimal(0.01, 60, 's') },
      failure_latency: { schema: v.integer(10, 60_000, 'ms') },
      recovery_latency: { schema: v.integer(10, 60_000, 'ms') },
      failure_loss: { schema: v.integer(1, 100, '%') },
      recovery_loss: { schema: v.integer(0, 100, '%') },
      down: { schema: v.integer(1, 1000) },
      up: { schema: v.integer(1, 1000) },
    },
  },
  site: {
    single: false,
    named: true,
    options: {
      enabled: { schema: v.bool },
      subnet: { schema: v.ipv4Cidr },
      mode: { schema: oneOf(BOND_MODES) },
      peer: { schema: z.string(), list: true }, // '<id>:<name>:<public_key>', checked in semantics.ts
      lan: { schema: v.ipv4Cidr, list: true },
      routed_prefix: { schema: v.ipv4Cidr },
    },
  },
  mqtt: {
    single: true,
    named: false,
    options: {
      enabled: { schema: v.bool },
      broker: { schema: v.brokerUrl },
      username: { schema: v.text },
      password: { schema: v.text },
      password_file: { schema: v.absolutePath },
      client_id: { schema: v.clientId },
      topic_prefix: { schema: v.topic },
      interval: { schema: v.integer(1, 3600, 's') },
      qos: { schema: oneOf(['0', '1', '2'] as const).transform(Number) },
      ca_file: { schema: v.absolutePath },
      insecure: { schema: v.bool },
      ha_discovery: { schema: v.bool },
      ha_prefix: { schema: v.topic },
    },
  },
};

function distance(a: string, b: string): number {
  const row = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    let prev = row[0]!;
    row[0] = i;
    for (let j = 1; j <= b.length; j++) {
      const here = row[j]!;
      row[j] = Math.min(row[j]! + 1, row[j - 1]! + 1, prev + (a[i - 1] === b[j - 1] ? 0 : 1));
      prev = here;
    }
  }
  return row[b.length]!;
}

/** ` (did you mean 'x'?)` for the closest candidate within a small edit distance, else ''. */
export function hint(word: string, candidates: readonly string[]): string {
  if (word.length < 3) return '';
  let best: string | undefined;
  let bestDistance = Infinity;
  const w = word.toLowerCase();
  for (const c of candidates) {
    const d = distance(w, c.toLowerCase());
    if (d < bestDistance) [best, bestDistance] = [c, d];
  }
  const limit = Math.max(1, Math.min(3, Math.floor(word.length / 3)));
  if (best !== undefined && bestDistance <= limit && best !== word) return ` (did you mean '${best}'?)`;
  // A shortened or lengthened name: `fallback_time` for `fallback_timeout`.
  const stem = candidates.find((c) => word.length >= 4 && c !== word && (c.startsWith(w) || w.startsWith(c.toLowerCase())));
  return stem !== undefined ? ` (did you mean '${stem}'?)` : '';
}

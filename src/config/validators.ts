// Strict validators for every config value that reaches a command line, a file name or the
// network. Each says what is wrong in words a user can act on. None accepts a leading '-'
// (an argument injection) or a shell metacharacter, whitespace or control character.

import { isIPv6 } from 'node:net';
import * as z from 'zod';
import { quote } from './errors.ts';

export { quote };

/** A zod string schema that fails with `check`'s message when `check` returns one. */
export function stringRule(check: (s: string) => string | undefined): z.ZodType<string, string> {
  return z.string().superRefine((s, ctx) => {
    const why = check(s);
    if (why !== undefined) ctx.addIssue({ code: 'custom', message: why });
  });
}

/** The first problem zod finds with `value`, or undefined. */
export function problem(schema: z.ZodType<unknown, string>, value: string): string | undefined {
  const r = schema.safeParse(value);
  return r.success ? undefined : (r.error.issues[0]?.message ?? 'invalid value');
}

function leadingDash(s: string): string | undefined {
  return s.startsWith('-') ? `${quote(s)} must not start with '-' (it would read as a command-line option)` : undefined;
}

function printable(s: string): string | undefined {
  if (/[\x00-\x1f\x7f]/.test(s)) return `${quote(s)} contains a control character`;
  if (/\s/.test(s)) return `${quote(s)} contains whitespace`;
  return undefined;
}

// ---- names --------------------------------------------------------------------------------

export function checkInterfaceName(s: string): string | undefined {
  if (s === '') return 'is empty';
  const bad = leadingDash(s) ?? printable(s);
  if (bad) return bad;
  if (!/^[A-Za-z0-9_]+$/.test(s)) return `${quote(s)} is not a netifd interface name (letters, digits and '_' only)`;
  if (s.length > 15) return `${quote(s)} is longer than 15 characters`;
  return undefined;
}
/** A netifd interface (a UCI section name in /etc/config/network, as mwan3 refers to it). */
export const interfaceName = stringRule(checkInterfaceName);

export function checkDeviceName(s: string): string | undefined {
  if (s === '') return 'is empty';
  const bad = leadingDash(s) ?? printable(s);
  if (bad) return bad;
  if (s.includes('/')) return `${quote(s)} contains '/', which Linux device names cannot`;
  if (s.includes(':')) return `${quote(s)} contains ':' (an alias, not a device)`;
  if (s === '.' || s === '..') return `${quote(s)} is not a device name`;
  if (Buffer.byteLength(s) > 15) return `${quote(s)} is longer than 15 bytes (IFNAMSIZ)`;
  if (!/^[A-Za-z0-9_][A-Za-z0-9_.@+-]*$/.test(s)) return `${quote(s)} has characters a device name should not (use letters, digits, '_', '.', '-', '@', '+')`;
  return undefined;
}
/** A Linux network device name as `ip link` takes it. */
export const deviceName = stringRule(checkDeviceName);

export function checkSectionName(max: number): (s: string) => string | undefined {
  return (s) => {
    if (!/^[A-Za-z0-9_]+$/.test(s)) return `${quote(s)} may only use letters, digits and '_'`;
    if (s.length > max) return `${quote(s)} is longer than ${max} characters (it becomes part of a device name)`;
    return undefined;
  };
}
/** Link and site names: they end up inside device names (IFNAMSIZ), so at most 12 characters. */
export const linkName = stringRule(checkSectionName(12));

// ---- addresses ----------------------------------------------------------------------------

const OCTET = '(25[0-5]|2[0-4][0-9]|1[0-9][0-9]|[1-9][0-9]|[0-9])';
const IPV4 = new RegExp(`^${OCTET}\\.${OCTET}\\.${OCTET}\\.${OCTET}$`);

export function isIPv4Literal(s: string): boolean {
  return IPV4.test(s);
}
/** An IPv6 literal without brackets or zone. */
export function isIPv6Literal(s: string): boolean {
  return !s.includes('%') && isIPv6(s);
}

export function checkIPv4(s: string): string | undefined {
  return isIPv4Literal(s) ? undefined : `${quote(s)} is not an IPv4 address (a.b.c.d)`;
}
export const ipv4 = stringRule(checkIPv4);

export function checkIPAddress(s: string): string | undefined {
  return isIPv4Literal(s) || isIPv6Literal(s) ? undefined : `${quote(s)} is not an IPv4 or IPv6 address`;
}
export const ipAddress = stringRule(checkIPAddress);

export function checkHostname(s: string): string | undefined {
  if (s === '') return 'is empty';
  const bad = leadingDash(s) ?? printable(s);
  if (bad) return bad;
  if (isIPv4Literal(s) || isIPv6Literal(s)) return undefined;
  if (s.startsWith('[')) return `${quote(s)}: write an IPv6 address without brackets`;
  const name = s.endsWith('.') ? s.slice(0, -1) : s;
  if (name.length > 253) return 'is longer than 253 characters';
  const labels = name.split('.');
  for (const l of labels) {
    if (!/^[A-Za-z0-9]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?$/.test(l))
      return `${quote(s)} is not a hostname, IPv4 or IPv6 address`;
  }
  if (/^[0-9.]+$/.test(name)) return `${quote(s)} is not a valid IPv4 address`;
  return undefined;
}
/** A hostname (RFC 1123), an IPv4 literal or an IPv6 literal (no brackets). */
export const host = stringRule(checkHostname);

function ipv4ToInt(s: string): number {
  return s.split('.').reduce((n, o) => n * 256 + Number(o), 0);
}
function intToIpv4(n: number): string {
  return [24, 16, 8, 0].map((b) => Math.floor(n / 2 ** b) % 256).join('.');
}

export function parseIPv4Cidr(s: string): { network: number; prefix: number } | undefined {
  const m = /^([0-9.]+)\/([0-9]{1,2})$/.exec(s);
  if (!m || !isIPv4Literal(m[1]!) || (m[2]!.length > 1 && m[2]!.startsWith('0'))) return undefined;
  const prefix = Number(m[2]);
  if (prefix > 32) return undefined;
  return { network: ipv4ToInt(m[1]!), prefix };
}

export function checkIPv4Cidr(s: string): string | undefined {
  const c = parseIPv4Cidr(s);
  if (!c) return `${quote(s)} is not an IPv4 prefix (a.b.c.d/len, len 0..32)`;
  const size = 2 ** (32 - c.prefix);
  const base = c.network - (c.network % size);
  if (base !== c.network) return `${quote(s)} has host bits set (did you mean ${intToIpv4(base)}/${c.prefix}?)`;
  return undefined;
}
/** An IPv4 prefix a.b.c.d/len with no host bits set. */
export const ipv4Cidr = stringRule(checkIPv4Cidr);

/** Whether two IPv4 prefixes share any address. */
export function cidrsOverlap(a: string, b: string): boolean {
  const x = parseIPv4Cidr(a);
  const y = parseIPv4Cidr(b);
  if (!x || !y) return false;
  const p = Math.min(x.prefix, y.prefix);
  const size = 2 ** (32 - p);
  return Math.floor(x.network / size) === Math.floor(y.network / size);
}

// ---- numbers ------------------------------------------------------------------------------

/** A decimal integer string in [min, max] (no sign, no leading zeros, no exponent). */
export function integer(min: number, max: number, unit = ''): z.ZodType<number, string> {
  const u = unit ? ` ${unit}` : '';
  return z
    .string()
    .superRefine((s, ctx) => {
      if (!/^(0|[1-9][0-9]{0,9})$/.test(s)) ctx.addIssue({ code: 'custom', message: `${quote(s)} is not a whole number` });
      else if (Number(s) < min || Number(s) > max)
        ctx.addIssue({ code: 'custom', message: `${s}${u} is out of range (${min}..${max}${u})` });
    })
    .transform(Number);
}

/** A decimal number, fractions allowed (for seconds), in [min, max]. */
export function decimal(min: number, max: number, unit = ''): z.ZodType<number, string> {
  const u = unit ? ` ${unit}` : '';
  return z
    .string()
    .superRefine((s, ctx) => {
      if (!/^(0|[1-9][0-9]{0,6})(\.[0-9]{1,6})?$|^\.[0-9]{1,6}$/.test(s))
        ctx.addIssue({ code: 'custom', message: `${quote(s)} is not a number` });
      else if (Number(s) < min || Number(s) > max)
        ctx.addIssue({ code: 'custom', message: `${s}${u} is out of range (${min}..${max}${u})` });
    })
    .transform(Number);
}

export const port = integer(1, 65535);

const TRUE = ['1', 'on', 'true', 'yes', 'enabled'];
const FALSE = ['0', 'off', 'false', 'no', 'disabled'];
/** OpenWrt's booleans (config_get_bool): 1/0, on/off, true/false, yes/no, enabled/disabled. */
export const bool: z.ZodType<boolean, string> = z
  .string()
  .superRefine((s, ctx) => {
    if (!TRUE.includes(s) && !FALSE.includes(s)) ctx.addIssue({ code: 'custom', message: `${quote(s)} is not a boolean (use '1' or '0')` });
  })
  .transform((s) => TRUE.includes(s));

// ---- keys, files, URLs --------------------------------------------------------------------

export function checkWireguardKey(s: string): string | undefined {
  if (!/^[A-Za-z0-9+/]{43}=$/.test(s)) return `${quote(s)} is not a WireGuard key (44 characters of base64 ending in '=', as \`wg pubkey\` prints)`;
  if (Buffer.from(s, 'base64').toString('base64') !== s) return `${quote(s)} is not a WireGuard key (not canonical base64 of 32 bytes)`;
  if (/^A{43}=$/.test(s)) return `${quote(s)} is the all-zero key`;
  return undefined;
}
/** A WireGuard key: base64 of 32 bytes (44 characters). */
export const wireguardKey = stringRule(checkWireguardKey);

export function checkAbsolutePath(s: string): string | undefined {
  if (!s.startsWith('/')) return `${quote(s)} is not an absolute path (start with /)`;
  const bad = printable(s);
  if (bad) return bad;
  if (!/^[A-Za-z0-9_.\/@+=,-]+$/.test(s)) return `${quote(s)} has characters not allowed in a file name here (letters, digits, _ . / @ + = , -)`;
  if (s.length > 4095) return 'is longer than 4095 characters';
  if (s.split('/').some((p) => p === '..' || p === '.')) return `${quote(s)} contains a '.' or '..' component`;
  if (s.endsWith('/')) return `${quote(s)} names a directory, not a file`;
  if (s.split('/').some((p) => p.startsWith('-'))) return `${quote(s)} has a component starting with '-'`;
  return undefined;
}
/** An absolute file path of plain characters. */
export const absolutePath = stringRule(checkAbsolutePath);

export const BROKER_SCHEMES = ['mqtt', 'mqtts', 'ws', 'wss'];

export function checkBrokerUrl(s: string): string | undefined {
  const bad = printable(s);
  if (bad) return bad;
  const scheme = /^([A-Za-z][A-Za-z0-9+.-]*):\/\//.exec(s)?.[1];
  if (scheme === undefined) return `${quote(s)} is not a URL (mqtt://host:1883, mqtts://, ws://, wss://)`;
  if (!BROKER_SCHEMES.includes(scheme.toLowerCase()))
    return `scheme '${scheme}' is not one of ${BROKER_SCHEMES.join(', ')}`;
  let url: URL;
  try {
    url = new URL(s);
  } catch {
    return `${quote(s)} is not a valid URL`;
  }
  if (url.username || url.password) return 'put credentials in the username and password options, not in the URL';
  const hostname = url.hostname.startsWith('[') ? url.hostname.slice(1, -1) : url.hostname;
  const hostProblem = checkHostname(hostname);
  if (hostProblem) return `host ${hostProblem}`;
  if (url.search || url.hash) return 'must not have a query or fragment';
  if ((scheme === 'mqtt' || scheme === 'mqtts') && url.pathname !== '' && url.pathname !== '/')
    return `an ${scheme}:// URL has no path`;
  return undefined;
}
/** An MQTT broker URL: mqtt://, mqtts://, ws:// or wss://, host validated, no credentials. */
export const brokerUrl = stringRule(checkBrokerUrl);

export function checkTopic(s: string): string | undefined {
  if (!/^[A-Za-z0-9_-]+(\/[A-Za-z0-9_-]+)*$/.test(s))
    return `${quote(s)} is not a topic prefix (letters, digits, '_', '-' in '/'-separated levels; no wildcards)`;
  if (s.length > 128) return 'is longer than 128 characters';
  return undefined;
}
export const topic = stringRule(checkTopic);

export function checkClientId(s: string): string | undefined {
  return /^[A-Za-z0-9_.-]{1,64}$/.test(s) && !s.startsWith('-')
    ? undefined
    : `${quote(s)} is not a client id (1..64 of letters, digits, '_', '.', '-')`;
}
export const clientId = stringRule(checkClientId);

/** Free text that goes to a library, never a command line (MQTT user name, password). */
export function checkText(s: string): string | undefined {
  if (/[\x00-\x1f\x7f]/.test(s)) return 'contains a control character';
  if (s.length > 256) return 'is longer than 256 characters';
  return undefined;
}
export const text = stringRule(checkText);

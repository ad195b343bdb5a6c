// Every default of /etc/config/wanbond, in one place. `wanbond check-config --print` shows
// them filled in; README.md's Configuration section documents them.

import { existsSync } from 'node:fs';
import type { Globals, Health, Link, Mqtt } from './types.ts';

export const DEFAULT_CONFIG_PATH = '/etc/config/wanbond';
/** Where the Debian/Ubuntu package puts the concentrator's config (no /etc/config there). */
export const CONCENTRATOR_CONFIG_PATH = '/etc/wanbond/wanbond';

/** The config file when none is named: OpenWrt's, else the concentrator package's if only that exists. */
export function defaultConfigPath(exists: (p: string) => boolean = existsSync): string {
  if (!exists(DEFAULT_CONFIG_PATH) && exists(CONCENTRATOR_CONFIG_PATH)) return CONCENTRATOR_CONFIG_PATH;
  return DEFAULT_CONFIG_PATH;
}
export const KEY_DIR = '/etc/wanbond/keys';
export const MAX_LINKS = 16;
export const LINK_NAME_MAX = 12;

export const GLOBALS_DEFAULTS: Globals = {
  enabled: false,
  role: 'router',
  mode: 'balance-rr',
  mtu: 'auto',
  log_level: 'info',
  fallback: true,
  fallback_timeout: 30,
  nat: true,
  shaping: 95,
  express_bytes: 0,
  bypass_dst: [],
  bypass_src: [],
  listen_port: 51820,
  private_key_file: `${KEY_DIR}/concentrator.key`,
  public_interface: '',
};

export const CONCENTRATOR_DEFAULTS = { port: 51820 };

export const LINK_DEFAULTS: Pick<Link, 'enabled' | 'weight' | 'role'> = {
  enabled: true,
  weight: 1,
  role: 'active',
};

export function linkKeyFile(name: string): string {
  return `${KEY_DIR}/${name}.key`;
}

/** mwan3's names; the values suit a tunnel probed every 100 ms (failover well under a second). */
export const HEALTH_DEFAULTS: Health = {
  interval: 0.1,
  failure_latency: 1000,
  recovery_latency: 500,
  failure_loss: 20,
  recovery_loss: 5,
  // Three silent intervals after the RTO (at least two intervals): a cut or a spike is decided about
  // 0.45 s after the last reply. Five took 0.65 s, and with the bench's own latency the link left
  // 1.0-1.3 s after the command on hetero-3 (a TCP stall of 1.2 s).
  down: 3,
  up: 10,
};

export const SITE_DEFAULTS = { enabled: true };

export const MQTT_DEFAULTS: Mqtt = {
  enabled: false,
  broker: '',
  interval: 10,
  qos: 0,
  insecure: false,
  ha_discovery: true,
  ha_prefix: 'homeassistant',
};

// The validated shape of /etc/config/wanbond: the contract every part of wanbond reads.
// The zod schema (schema.ts) produces exactly this; defaults live in defaults.ts.

export type Role = 'router' | 'concentrator';
export type BondMode = 'balance-rr' | 'balance-xor' | 'active-backup' | 'broadcast';
export type LogLevel = 'debug' | 'info' | 'warn' | 'error';

export interface Globals {
  enabled: boolean;
  role: Role;
  mode: BondMode;
  /** 'auto' = computed from the links' path MTU minus WireGuard + gretap overhead. */
  mtu: 'auto' | number;
  log_level: LogLevel;
  /** Router: send LAN traffic straight out of the WANs when every tunnel is down this long. */
  fallback: boolean;
  fallback_timeout: number; // seconds
  /** Router: masquerade LAN traffic into the bond address (the concentrator then NATs once more). */
  nat: boolean;
  /**
   * Router: shape each link's transmit (and have the concentrator shape the link's download) to
   * this percent of its configured rate_up / rate_down, with fq_codel: the queue stays here, not
   * in the modem. 0 = off; links without rates are never shaped.
   */
  shaping: number;
  /**
   * Non-TCP packets up to this many bytes (calls, games, DNS, pings) take the express path: the
   * link with the lowest delay, straight through its tunnel, instead of the bond whose delay
   * equalisation holds every packet to the slowest link. Each end decides for what it sends.
   * 0 = off (the default: see README, Express path, for what it costs on slow links).
   */
  express_bytes: number;
  /** mwan3-style bypass: destinations / LAN sources that never use the bond. */
  bypass_dst: string[]; // CIDR
  bypass_src: string[]; // CIDR
  /** Concentrator: the single WireGuard listening port and its key. */
  listen_port: number;
  private_key_file: string;
  /** Concentrator: interface that faces the internet (NAT). Empty = the default route's device. */
  public_interface: string;
}

/** Router side: where the concentrator is and how this site is numbered on it. */
export interface Concentrator {
  host: string; // hostname, IPv4 or IPv6 literal
  port: number;
  public_key: string; // WireGuard base64 key (44 chars)
  site: string; // this router's site name on the concentrator
  subnet: string; // the site's tunnel /24, e.g. 10.213.7.0/24, shared with the concentrator
}

export interface Link {
  name: string; // UCI section name, [A-Za-z0-9_]{1,12}
  /** Stable 1..16: numbers the link's fwmark, table, tunnel addresses; never reused by another link. */
  id: number;
  /** netifd interface (as mwan3 names it); or device + gateway on systems without netifd. */
  interface?: string;
  device?: string;
  gateway?: string;
  enabled: boolean;
  weight: number; // 1..100
  rate_down?: number; // kbit/s
  rate_up?: number; // kbit/s
  role: 'active' | 'backup';
  private_key_file: string; // default /etc/wanbond/keys/<name>.key
}

/** mwan3's names and meanings (latency in ms, loss in %, up/down in consecutive probes). */
export interface Health {
  interval: number; // seconds between probes (fractional allowed); default 0.1
  failure_latency: number;
  recovery_latency: number;
  failure_loss: number;
  recovery_loss: number;
  down: number;
  up: number;
}

/** Concentrator side: one router site. */
export interface SitePeer {
  id: number; // the router's link id
  name: string; // the router's link name
  public_key: string;
}
export interface Site {
  name: string;
  enabled: boolean;
  subnet: string; // same /24 as the router's concentrator.subnet
  mode: BondMode;
  peers: SitePeer[]; // from `list peer '<id>:<name>:<public_key>'`
  lan: string[]; // LAN prefixes routed to the site (when the router does not NAT)
  routed_prefix?: string; // public prefix routed to the site instead of NAT
}

export interface Mqtt {
  enabled: boolean;
  broker: string; // mqtt:// mqtts:// ws:// wss://
  username?: string;
  password?: string;
  password_file?: string;
  client_id?: string;
  topic_prefix?: string; // default wanbond/<hostname>, filled at run time
  interval: number; // seconds
  qos: 0 | 1 | 2;
  ca_file?: string;
  insecure: boolean;
  ha_discovery: boolean;
  ha_prefix: string;
}

export interface Config {
  globals: Globals;
  concentrator?: Concentrator;
  links: Link[];
  health: Health;
  sites: Site[];
  mqtt: Mqtt;
}

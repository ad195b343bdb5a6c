// The one status shape served by ubus `wanbond status`, `wanbond status --json`, MQTT telemetry
// and the LuCI page. Field names follow mwan3 where they mean the same thing.

export type LinkState = 'up' | 'degraded' | 'down' | 'disabled' | 'backup';

export interface LinkStatus {
  name: string;
  status: LinkState;
  online: boolean; // mwan3: currently usable
  uptime: number; // seconds in the current online stretch (0 when offline), as mwan3
  offline: number; // seconds in the current offline stretch (0 when online), as mwan3
  interface?: string; // netifd interface
  device?: string; // modem's L3 device
  gateway?: string;
  tunnel: string; // WireGuard interface name
  in_bond: boolean; // member of this end's transmit set now
  // This end sends its express traffic (small non-TCP packets: calls, DNS, pings) by this link now,
  // past the bond: the kernel's express table (5717) routes into the link's express tunnel. False
  // on every link while none is chosen or express is off (express_bytes 0).
  express: boolean;
  rtt_ms: number | null;
  jitter_ms: number | null;
  loss_pct: number | null;
  rx_bytes: number;
  tx_bytes: number;
  rx_rate_kbit: number;
  tx_rate_kbit: number;
  since: number; // unix seconds of the last state change
  reason: string; // why it is in this state
  // Capacities toward the router (down) and away from it (up), kbit/s, as steering uses them;
  // source: configured (rate_down/rate_up), measured (packet trains), router (reported to the
  // concentrator); null while unknown.
  capacity_down_kbit: number | null;
  capacity_down_source: CapacitySource | null;
  capacity_up_kbit: number | null;
  capacity_up_source: CapacitySource | null;
  gretaps: number; // this end's gretaps on the link (capacity weighting)
  added_delay_ms: number; // delay this end adds on the link to equalise arrival
  shaped_kbit: number; // this end's transmit on the link is shaped to this; 0 = not shaped
}

export type CapacitySource = 'configured' | 'measured' | 'router';

/** A link's capacities as link health keeps them (LinkStatus spells them out flat). */
export interface LinkCapacity {
  down_kbit: number | null;
  down_source: CapacitySource | null;
  up_kbit: number | null;
  up_source: CapacitySource | null;
}

export interface Status {
  globals: {
    role: 'router' | 'concentrator';
    mode: string;
    enabled: boolean;
    uptime: number; // agent uptime, seconds
    version: string;
    hostname: string;
  };
  bond: {
    name: string;
    mode: string;
    mtu: number;
    members: string[]; // link names in the transmit set
    rx_bytes: number;
    tx_bytes: number;
    rx_rate_kbit: number;
    tx_rate_kbit: number;
  };
  concentrator: {
    host: string;
    reachable: boolean;
    since: number;
  };
  fallback: boolean; // router sends LAN traffic direct (concentrator gone)
  links: LinkStatus[];
}

export interface LinkEvent {
  link: string;
  from: LinkState;
  to: LinkState;
  reason: string;
  rtt_ms: number | null;
  loss_pct: number | null;
  time: number;
}

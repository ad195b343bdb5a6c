// What the running agent offers to its front ends (ubus object, control socket, MQTT, LuCI via
// ubus). The daemon implements it; front ends only read status and listen to events.
import type { EventEmitter } from 'node:events';
import type { LinkEvent, Status } from '../status/types.ts';

export type ReloadResult = { ok: true } | { ok: false; errors: string[] };
export type SetLinkResult = { ok: true } | { ok: false; error: 'not_found' | 'invalid' ; message: string };

/** Bond membership or concentrator reachability changed (ubus event `wanbond.status`). */
export interface StatusEvent {
  kind: 'bond' | 'concentrator' | 'fallback';
  members: string[];
  reachable: boolean;
  fallback: boolean;
  reason: string;
  time: number;
}

export interface AgentEvents {
  link: [LinkEvent];
  status: [StatusEvent];
}

export interface AgentApi {
  status(): Status;
  /** Re-read the config; a broken file changes nothing and is reported. */
  reload(): Promise<ReloadResult>;
  /** Take a link out of (or back into) the bond at run time, without editing the config. */
  setLink(link: string, enabled: boolean): Promise<SetLinkResult>;
  readonly events: EventEmitter<AgentEvents>;
}

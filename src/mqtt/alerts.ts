// Alerts: what happened, when, and why, as one small JSON message each. `event_type` is what a
// Home Assistant MQTT event entity keys on; `message` is ready for a phone notification.
import type { StatusEvent } from '../agent/api.ts';
import type { LinkEvent, LinkState } from '../status/types.ts';

export const LINK_ALERTS = ['link_up', 'link_degraded', 'link_down', 'link_disabled', 'link_backup'] as const;
export const STATUS_ALERTS = ['concentrator_unreachable', 'concentrator_back', 'fallback_engaged', 'fallback_released'] as const;
export const ALERT_TYPES = [...LINK_ALERTS, ...STATUS_ALERTS] as const;
export type AlertType = (typeof ALERT_TYPES)[number];

export interface Alert {
  event_type: AlertType;
  message: string;
  /** When it happened (the event's own time, kept while the alert waits for the broker). */
  time: number;
  reason: string;
  link?: string;
  from?: LinkState;
  to?: LinkState;
  rtt_ms?: number | null;
  loss_pct?: number | null;
  /** Set on the first alert delivered after the queue overflowed: how many older ones were dropped. */
  dropped?: number;
}

const LINK_WORDS: Record<LinkState, string> = {
  up: 'up', degraded: 'degraded', down: 'down', disabled: 'disabled', backup: 'standing by as backup',
};

function eventTime(t: unknown, now: () => number): number {
  return typeof t === 'number' && Number.isFinite(t) ? t : Math.floor(now() / 1000);
}

export function alertFromLinkEvent(ev: LinkEvent, now: () => number): Alert {
  const figures = [
    ev.rtt_ms != null ? `rtt ${Math.round(ev.rtt_ms)} ms` : '',
    ev.loss_pct != null ? `loss ${Math.round(ev.loss_pct)} %` : '',
  ].filter(Boolean).join(', ');
  const why = [ev.reason, figures].filter(Boolean).join('; ');
  return {
    event_type: `link_${ev.to}`,
    message: `link ${ev.link} ${LINK_WORDS[ev.to]}${why ? `: ${why}` : ''}`,
    time: eventTime(ev.time, now),
    reason: ev.reason,
    link: ev.link,
    from: ev.from,
    to: ev.to,
    rtt_ms: ev.rtt_ms,
    loss_pct: ev.loss_pct,
  };
}

/** Concentrator and fallback changes are alerts; bond membership changes are not (link alerts say it). */
export function alertFromStatusEvent(ev: StatusEvent, now: () => number): Alert | null {
  let type: AlertType;
  let text: string;
  if (ev.kind === 'concentrator') {
    type = ev.reachable ? 'concentrator_back' : 'concentrator_unreachable';
    text = ev.reachable ? 'concentrator reachable again' : 'concentrator unreachable';
  } else if (ev.kind === 'fallback') {
    type = ev.fallback ? 'fallback_engaged' : 'fallback_released';
    text = ev.fallback ? 'fallback engaged: LAN traffic goes straight out of the WAN links' : 'fallback released: traffic back through the bond';
  } else {
    return null;
  }
  return {
    event_type: type,
    message: ev.reason ? `${text} (${ev.reason})` : text,
    time: eventTime(ev.time, now),
    reason: ev.reason,
  };
}

/**
 * Alerts waiting for the broker, oldest first, at most `limit`. Past the limit the oldest waiting
 * alert is dropped: the newest say how things are now. Drops are counted for stats() and told in
 * the next alert delivered (its `dropped` field).
 */
export class AlertQueue {
  private items: Alert[] = [];
  private droppedUntold = 0;
  dropped = 0;

  constructor(private readonly limit: number) {}

  get length(): number {
    return this.items.length;
  }

  push(a: Alert): void {
    this.items.push(a);
    this.trim();
  }

  /** Takes the oldest alert out to send it, with the count of drops not yet told folded in. */
  take(): Alert | undefined {
    const head = this.items.shift();
    if (!head || this.droppedUntold === 0) return head;
    const told = { ...head, dropped: this.droppedUntold };
    this.droppedUntold = 0;
    return told;
  }

  /** Sending failed (connection lost before the broker acknowledged): back to the front. */
  putBack(a: Alert): void {
    const { dropped, ...rest } = a;
    this.droppedUntold += dropped ?? 0;
    this.items.unshift(rest);
    this.trim();
  }

  private trim(): void {
    while (this.items.length > this.limit) {
      this.items.shift();
      this.dropped++;
      this.droppedUntold++;
    }
  }
}

// Which links this end transmits on, and the state each link reports, from their health,
// role (active/backup) and whether they are enabled. Pure.
import type { LinkState } from '../status/types.ts';
import type { Health3 } from './link-state.ts';

export interface LinkView {
  name: string;
  enabled: boolean;
  role: 'active' | 'backup';
  health: Health3;
}

export interface TransmitDecision {
  /** Link names in this end's transmit set. */
  members: string[];
  /** What each link reports (status.links[].status, LinkEvent from/to). */
  states: Record<string, LinkState>;
  reason: string;
  /** Links whose tunnel answers (up or degraded): what fallback counts, not `members`. */
  answering: number;
}

/**
 * Active links that are up carry traffic. A backup link carries only when no active link is up.
 * When nothing is up, degraded links carry (slow beats nothing). When no tunnel answers at all,
 * every enabled link stays in: an empty bond gains nothing, and silence on every link at once is
 * more often a stalled peer or CPU than every modem failing together (fallback handles the
 * concentrator really being gone).
 */
export function transmitSet(links: LinkView[]): TransmitDecision {
  const usable = links.filter((l) => l.enabled);
  const pick = (role: LinkView['role'] | null, health: Health3) =>
    usable.filter((l) => (role === null || l.role === role) && l.health === health).map((l) => l.name);
  let members = pick('active', 'up');
  let reason = 'active links up';
  if (members.length === 0) {
    members = pick('backup', 'up');
    reason = 'no active link up: backup links carry';
  }
  if (members.length === 0) {
    members = pick(null, 'degraded');
    reason = 'no link up: degraded links carry';
  }
  const answering = usable.filter((l) => l.health !== 'down').length;
  if (members.length === 0) {
    members = usable.filter((l) => l.role === 'active').map((l) => l.name);
    if (members.length === 0) members = usable.map((l) => l.name);
    reason = 'no link answers: every link stays in the bond';
  }
  const states: Record<string, LinkState> = {};
  for (const l of links) {
    if (!l.enabled) states[l.name] = 'disabled';
    else if (l.role === 'backup' && l.health === 'up' && !members.includes(l.name)) states[l.name] = 'backup';
    else states[l.name] = l.health;
  }
  return { members, states, reason, answering };
}

/**
 * The transmit set of each group decided alone (a concentrator's sites: one site's active links
 * being up says nothing about whether another site needs its backup link), merged.
 */
export function transmitSetByGroup(links: (LinkView & { group: string })[]): TransmitDecision {
  const groups = [...new Set(links.map((l) => l.group))];
  const each = groups.map((g) => ({ g, d: transmitSet(links.filter((l) => l.group === g)) }));
  return {
    members: each.flatMap(({ d }) => d.members),
    states: Object.assign({}, ...each.map(({ d }) => d.states)) as Record<string, LinkState>,
    reason: each.length === 1 ? each[0]!.d.reason : each.map(({ g, d }) => `${g}: ${d.reason}`).join('; '),
    answering: each.reduce((n, { d }) => n + d.answering, 0),
  };
}

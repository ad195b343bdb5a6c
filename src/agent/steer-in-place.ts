// A steering change that only moves links out of or into the bond and retunes the shapers and
// delays is applied without reading the kernel first. The reconcile that otherwise follows every
// steering change reads the whole kernel state (five or six processes: ip, tc, wg, nft), and a
// link that just failed or just came back is the worst moment for that: in the lab, where each
// process start freezes the one CPU for 0.3-1 s, the call's delay rose for 1-3 s after every
// leave, and lost packets for 1-2 s after every rejoin (the reconcile took 2-3 s to bring the link
// back). The leaving gretaps are already out (sysfs, daemon.releaseLeaving); a joining link's
// gretaps go in through sysfs too (bond-sysfs.ts), in the bond's planned order; what is left are
// `tc ... change` steps between the plan last applied and the new one. Anything else (gretaps
// added or removed, routes, rules, firewall) is the reconcile's, and the periodic check still
// reads everything. Pure: the bonds' membership comes in as `BondView`.
import { classedSteps, plannedClassed } from '../kernel/class-diff.ts';
import { plannedChain, qdiscSteps } from '../kernel/qdisc-diff.ts';
import type { Step } from '../kernel/step.ts';
import { TABLE_EXPRESS } from '../plan/addressing.ts';
import type { Plan } from '../plan/types.ts';
import { enslaveOrder } from '../plan/slave-order.ts';

/** Beyond the longest delay drained: the timer's lateness, and the packet netem was sending. */
const DRAIN_SLACK_MS = 20;

/** The kernel's bond membership now (sysfs: bond-sysfs.ts). */
export interface BondView {
  masterOf(dev: string): string | null;
  /** A bond's slaves in list order; null when unreadable. */
  slavesOf(bond: string): string[] | null;
}

/** Slaves to release from a bond, then to enslave in this order (see plan/slave-order.ts). */
export interface SlaveMoves {
  bond: string;
  release: string[];
  enslave: string[];
}

export interface InPlace {
  /**
   * First, when slaves are released to keep the order: their delays to 0, and a wait of `drainMs`
   * until what their delays held has left. The kernel closes a released gretap, and closing it
   * drops what its netem holds (a fifth of a second of a call, in the lab); a few packets early
   * instead are no loss.
   */
  drain: Step[];
  drainMs: number;
  /** Then: gretaps into their bonds. */
  joins: SlaveMoves[];
  /** Then: the tc changes (a bond's shaper speeds up once its links are in; drained delays back). */
  steps: Step[];
  /** What the kernel stands for once all ran: the plan, the released gretaps' qdiscs left as they were. */
  applied: Plan;
}

/**
 * What takes the kernel from `applied` (a plan whose steps all ran) to `plan` in place, given
 * the bonds' membership now (leaving gretaps already released); null when the change needs a
 * reconcile.
 */
export function inPlaceSteps(plan: Plan, applied: Plan, bonds: BondView): InPlace | null {
  if (!sameOutsideSteering(plan, applied)) return null;
  const moved = movedGretaps(plan, applied, bonds);
  if (!moved) return null;
  const joins = joinMoves(plan, applied, moved.entering, bonds);
  if (!joins) return null;
  const drained = new Map<string, number>();
  for (const g of joins.flatMap((j) => j.release)) {
    const d = applied.qdiscs.find((q) => q.dev === g)?.delayMs ?? 0;
    if (d > 0) drained.set(g, d);
  }
  const drain: Step[] = [];
  const steps: Step[] = [];
  const devs = new Set([...plan.qdiscs, ...applied.qdiscs].map((q) => q.dev));
  for (const dev of devs) {
    // Out of the bond, a gretap carries nothing: its delay can wait for the next reconcile.
    if (moved.gone.has(dev)) continue;
    const want = plan.qdiscs.find((q) => q.dev === dev);
    let before = applied.qdiscs.find((q) => q.dev === dev);
    if (!want || !before) return null;
    if (drained.has(dev)) {
      const zero = { ...before, delayMs: 0 };
      drain.push(...qdiscSteps(dev, zero, plannedChain(dev, before)));
      before = zero;
    }
    if (JSON.stringify(want) === JSON.stringify(before)) continue;
    steps.push(...qdiscSteps(dev, want, plannedChain(dev, before)));
  }
  if (![...drain, ...steps].every((x) => x.argv[2] === 'change')) return null;
  if (!!plan.classed !== !!applied.classed) return null;
  if (plan.classed && applied.classed) {
    const minors = (c: NonNullable<Plan['classed']>) => c.classes.map((x) => `${x.minor} ${x.dst}`).join(',');
    if (plan.classed.dev !== applied.classed.dev || minors(plan.classed) !== minors(applied.classed)) return null;
    const before = plannedClassed(applied.classed);
    const s = classedSteps(plan.classed, before.qdiscs, before.classes);
    // Replacing an existing class or the leaf under it changes it in place; its queue stays.
    if (!s.every((x) => x.argv[2] === 'replace' && x.argv.includes('parent') && x.argv[x.argv.indexOf('parent') + 1] !== 'root')) return null;
    steps.push(...s);
  }
  const kept = [...plan.qdiscs.filter((q) => !moved.gone.has(q.dev)), ...applied.qdiscs.filter((q) => moved.gone.has(q.dev))];
  return { drain, drainMs: drain.length ? Math.max(...drained.values()) + DRAIN_SLACK_MS : 0, joins, steps, applied: { ...plan, qdiscs: kept } };
}

const withoutExpress = (p: Plan) => p.routes.filter((r) => r.table !== TABLE_EXPRESS);

/** Everything steering does not move is as applied (express routes have their own mover). */
function sameOutsideSteering(plan: Plan, applied: Plan): boolean {
  const rest = (p: Plan) => JSON.stringify([p.role, p.addrs, withoutExpress(p), p.rules, p.wg, p.nft, p.forwarding, p.bonds.map((b) => ({ ...b, members: [], slaves: [] }))]);
  return rest(plan) === rest(applied);
}

/**
 * The gretaps that left their bond (released now) and those that join one (free now), when that
 * is all that differs between the links; null otherwise.
 */
function movedGretaps(plan: Plan, applied: Plan, bonds: BondView): { gone: Set<string>; entering: Map<string, Set<string>> } | null {
  if (plan.links.length !== applied.links.length) return null;
  const gone = new Set<string>();
  const entering = new Map<string, Set<string>>();
  for (const l of plan.links) {
    const a = applied.links.find((x) => x.name === l.name);
    if (!a) return null;
    if (JSON.stringify({ ...l, master: null }) !== JSON.stringify({ ...a, master: null })) return null;
    if (l.master === a.master) continue;
    if (l.kind !== 'gretap' || bonds.masterOf(l.name) !== null) return null;
    if (l.master === null) gone.add(l.name);
    else if (a.master === null) entering.set(l.master, (entering.get(l.master) ?? new Set()).add(l.name));
    else return null;
  }
  return { gone, entering };
}

/**
 * For each bond: the slaves it keeps must be the ones it has now, the planned ones less those
 * joining; the joining go in, in the planned order (`enslaveOrder`, as the reconcile would).
 */
function joinMoves(plan: Plan, applied: Plan, entering: Map<string, Set<string>>, bonds: BondView): SlaveMoves[] | null {
  const out: SlaveMoves[] = [];
  for (const b of plan.bonds) {
    const a = applied.bonds.find((x) => x.name === b.name);
    if (!a) return null;
    const joining = entering.get(b.name) ?? new Set<string>();
    const stay = b.slaves.filter((s) => !joining.has(s));
    const now = bonds.slavesOf(b.name);
    if (!now || [...now].sort().join() !== [...stay].sort().join()) return null;
    if (!joining.size) {
      // Leaves only: what stays is in its planned order already.
      if (JSON.stringify(now) !== JSON.stringify(b.slaves)) return null;
      continue;
    }
    const linkOf = (g: string) => plan.planLinks.find((l) => l.gretaps.includes(g))?.key ?? g;
    out.push({ bond: b.name, ...enslaveOrder(b.slaves, linkOf, now, joining) });
  }
  return [...entering.keys()].every((k) => plan.bonds.some((b) => b.name === k)) ? out : null;
}

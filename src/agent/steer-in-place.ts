// A steering change that only takes links out of the bond and retunes the shapers and delays is
// applied without reading the kernel first. The reconcile that otherwise follows every steering
// change reads the whole kernel state (five or six processes: ip, tc, wg, nft), and a link that
// just failed is the worst moment for that: in the lab, where each process start freezes the one
// CPU for 0.3-1 s, the call's delay rose for 1-3 s after every leave, and a spike's recovery was
// measured at 2.3-3.7 s for leaves decided at 0.4-0.5 s. The leaving gretaps are already out
// (sysfs, daemon.releaseLeaving); what is left are `tc ... change` steps between the plan last
// applied and the new one. Anything else (a link joining, gretaps added or removed, routes, rules,
// firewall) is the reconcile's, and the periodic check still reads everything. Pure.
import { classedSteps, plannedClassed } from '../kernel/class-diff.ts';
import { plannedChain, qdiscSteps } from '../kernel/qdisc-diff.ts';
import type { Step } from '../kernel/step.ts';
import { TABLE_EXPRESS } from '../plan/addressing.ts';
import type { Plan } from '../plan/types.ts';

/**
 * The steps that take the kernel from `applied` (a plan whose steps all ran) to `plan` in place,
 * given that the gretaps `released` says are out of their bond are; null when the change needs a
 * reconcile.
 */
export function inPlaceSteps(plan: Plan, applied: Plan, released: (gretap: string) => boolean): Step[] | null {
  if (!sameOutsideSteering(plan, applied)) return null;
  const gone = leavingGretaps(plan, applied, released);
  if (!gone) return null;
  const steps: Step[] = [];
  const devs = new Set([...plan.qdiscs, ...applied.qdiscs].map((q) => q.dev));
  for (const dev of devs) {
    // Out of the bond, a gretap carries nothing: its delay can wait for the next reconcile.
    if (gone.has(dev)) continue;
    const want = plan.qdiscs.find((q) => q.dev === dev);
    const before = applied.qdiscs.find((q) => q.dev === dev);
    if (!want || !before) return null;
    if (JSON.stringify(want) === JSON.stringify(before)) continue;
    const s = qdiscSteps(dev, want, plannedChain(dev, before));
    if (!s.every((x) => x.argv[2] === 'change')) return null;
    steps.push(...s);
  }
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
  return steps;
}

const withoutExpress = (p: Plan) => p.routes.filter((r) => r.table !== TABLE_EXPRESS);

/** Everything steering does not move is as applied (express routes have their own mover). */
function sameOutsideSteering(plan: Plan, applied: Plan): boolean {
  const rest = (p: Plan) => JSON.stringify([p.role, p.addrs, withoutExpress(p), p.rules, p.wg, p.nft, p.forwarding, p.bonds.map((b) => ({ ...b, members: [], slaves: [] }))]);
  return rest(plan) === rest(applied);
}

/**
 * The gretaps that left their bond, when that is all that differs between the links (the bonds
 * lose exactly those, the rest in order); null otherwise.
 */
function leavingGretaps(plan: Plan, applied: Plan, released: (gretap: string) => boolean): Set<string> | null {
  if (plan.links.length !== applied.links.length) return null;
  const gone = new Set<string>();
  for (const l of plan.links) {
    const a = applied.links.find((x) => x.name === l.name);
    if (!a) return null;
    if (JSON.stringify({ ...l, master: null }) !== JSON.stringify({ ...a, master: null })) return null;
    if (l.master === a.master) continue;
    if (l.kind !== 'gretap' || l.master !== null || !released(l.name)) return null;
    gone.add(l.name);
  }
  const kept = plan.bonds.every((b) => {
    const a = applied.bonds.find((x) => x.name === b.name);
    return !!a && JSON.stringify(b.slaves) === JSON.stringify(a.slaves.filter((s) => !gone.has(s)));
  });
  return kept ? gone : null;
}

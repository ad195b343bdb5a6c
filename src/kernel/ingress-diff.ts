// What each gretap receives goes to its bond, whether it is enslaved or not. A bond hears only its
// slaves: a link one end alone took out (its health, a stall, `set_link`) swallowed everything the
// other end still sent on it, and so did every rejoin until both ends had enslaved the gretap again.
// A tc filter on the gretaps' ingress runs before the bond's own receive hook and hands every
// frame to the bond (`mirred ingress redirect`); `skbedit ptype host` first, because a released
// gretap gets its own MAC address back and the frames, addressed to the bond's, would count as
// another host's and be dropped. One shared block per bond holds the filter; each gretap's
// ingress qdisc points at it. Released gretaps stay up to receive (see diff.ts). Pure.
import type { Plan } from '../plan/types.ts';
import type { KernelState } from './state.ts';
import type { Step } from './step.ts';

/** The filter's arguments after `tc filter replace block N`: u32 matching everything, handle fixed so replace is exact. */
export const redirectFilter = (bond: string) => [
  'protocol', 'all', 'pref', '1', 'handle', '800::800', 'u32', 'match', 'u32', '0', '0',
  'action', 'skbedit', 'ptype', 'host', 'pipe', 'action', 'mirred', 'ingress', 'redirect', 'dev', bond,
];

/** Steps for every bond's ingress block: its gretaps' qdiscs, then its filter. `fresh`: devices created in this apply. */
export function ingressSteps(plan: Plan, st: KernelState, fresh: Set<string>): Step[] {
  const steps: Step[] = [];
  for (const b of plan.bonds) {
    if (!b.ingress?.gretaps.length) continue;
    const { block, gretaps } = b.ingress;
    // A block lives as long as a qdisc points at it: with none kept, it is new, filter and all.
    let kept = false;
    for (const g of gretaps) {
      const have = fresh.has(g) ? undefined : st.qdiscs.find((q) => q.dev === g && q.kind === 'ingress');
      if (have?.block === block) {
        kept = true;
        continue;
      }
      if (have) steps.push({ argv: ['tc', 'qdisc', 'del', 'dev', g, 'ingress'], why: `${g}: an ingress qdisc not wanbond's block` });
      steps.push({ argv: ['tc', 'qdisc', 'add', 'dev', g, 'ingress_block', String(block), 'ingress'], why: `${g} hands what it receives to ${b.name}` });
    }
    if (!kept || st.blockFilters?.[block] !== b.name) {
      steps.push({ argv: ['tc', 'filter', 'replace', 'block', String(block), ...redirectFilter(b.name)], why: `block ${block}: to ${b.name}, enslaved or not` });
    }
  }
  return steps;
}

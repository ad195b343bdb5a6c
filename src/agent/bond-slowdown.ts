// A link that leaves the bond leaves its shaper's sum too, and the shaper has to slow at once:
// until it does, the bond sends the whole old sum into the links left, whose own shapers then
// queue and drop (a call inside a gretap waits there with the download). The reconcile that
// follows reads the whole kernel state first; in the lab the bond ran 2-3 s at the old rate after
// each leave. Only a slower rate is set ahead of it: a faster one waits for the reconcile, which
// enslaves the returning link first. Pure.
import { qdiscSteps } from '../kernel/qdisc-diff.ts';
import type { KernelState } from '../kernel/state.ts';
import type { Step } from '../kernel/step.ts';
import type { Plan } from '../plan/types.ts';

/**
 * `tc qdisc change` steps that slow a bond's shaper to `plan`'s rate, where it is slower than
 * `applied`'s (the last reconcile's plan). The agent's kernel state was read before that
 * reconcile's steps ran, so the shaper's rate is taken from its plan; the state tells only that
 * the chain is there to change.
 */
export function bondSlowdowns(plan: Plan, applied: Plan | undefined, state: KernelState): Step[] {
  return plan.bonds.flatMap((b) => {
    const want = plan.qdiscs.find((q) => q.dev === b.name);
    const before = applied?.qdiscs.find((q) => q.dev === b.name)?.shape;
    if (!want?.shape || !before || want.shape.rateKbit >= before.rateKbit) return [];
    const have = state.qdiscs.filter((q) => q.dev === b.name).map((q) => (q.root && q.kind === 'tbf' ? { ...q, rateKbit: before.rateKbit } : q));
    // A rebuilt chain (del + replace) would drop the queue: that is the reconcile's to decide.
    const steps = qdiscSteps(b.name, want, have);
    return steps.length && steps.every((s) => s.argv[2] === 'change') ? steps : [];
  });
}

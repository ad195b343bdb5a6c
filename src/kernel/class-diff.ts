// The concentrator's per-link shapers on its WireGuard interface: an HTB root whose unclassified
// packets pass unshaped, one class per link and fq_codel under each, against what `tc` reports,
// as tc steps. Pure. A class or leaf that differs is replaced in place (its queue stays); only a
// wrong root rebuilds everything.
import { htbClassId } from '../plan/addressing.ts';
import type { ClassedShaper } from '../plan/types.ts';
import { fqCodel, isDefault, sameRate } from './qdisc-diff.ts';
import type { KClass, KQdisc } from './state.ts';
import type { Step } from './step.ts';

/** tc handles are hex: the leaf under class 1:<minor> is <minor>:. */
const leafHandle = (minor: number) => `${minor.toString(16)}:`;

/** The root, classes and leaves `classedSteps` leaves for `spec`, as `tc` reports them (see plannedChain). */
export function plannedClassed(spec: ClassedShaper): { qdiscs: KQdisc[]; classes: KClass[] } {
  const dev = spec.dev;
  const qdiscs: KQdisc[] = [{ dev, kind: 'htb', handle: '1:', root: true, htbDefault: 0 }];
  const classes: KClass[] = [];
  for (const c of spec.classes) {
    const classid = htbClassId(c.minor);
    classes.push({ dev, classid, rateKbit: c.shape.rateKbit, overhead: c.shape.overheadBytes });
    qdiscs.push({ dev, kind: 'fq_codel', handle: leafHandle(c.minor), parent: classid, root: false, ...fqCodel(c.shape).shown });
  }
  return { qdiscs, classes };
}

export function classedSteps(want: ClassedShaper, have: KQdisc[], classes: KClass[]): Step[] {
  const dev = want.dev;
  const root = have.find((q) => q.root);
  const rootOk = root?.kind === 'htb' && root.handle === '1:' && root.htbDefault === 0;
  const steps: Step[] = [];
  if (!rootOk) {
    if (!isDefault(root)) steps.push({ argv: ['tc', 'qdisc', 'del', 'dev', dev, 'root'], why: `${dev}: rebuild its shapers` });
    // direct_qlen: WireGuard's queue length is 0, which would leave unshaped traffic a 2-packet queue.
    steps.push({ argv: ['tc', 'qdisc', 'replace', 'dev', dev, 'root', 'handle', '1:', 'htb', 'default', '0', 'direct_qlen', '1000'], why: `${dev}: one shaper class per link` });
  }
  const wanted = new Set<string>();
  for (const c of want.classes) {
    const id = htbClassId(c.minor);
    wanted.add(id);
    const s = c.shape;
    const k = rootOk ? classes.find((x) => x.dev === dev && x.classid === id) : undefined;
    if (!k || !sameRate(k.rateKbit, s.rateKbit) || k.overhead !== s.overheadBytes) {
      steps.push({
        argv: ['tc', 'class', 'replace', 'dev', dev, 'parent', '1:', 'classid', id, 'htb', 'rate', `${s.rateKbit}kbit`, 'burst', String(s.burstBytes), 'overhead', String(s.overheadBytes)],
        why: `${dev}: shape ${c.dst} to ${s.rateKbit} kbit/s`,
      });
    }
    const fq = fqCodel(s);
    const leaf = rootOk ? have.find((q) => q.parent === id) : undefined;
    if (!leaf || leaf.kind !== 'fq_codel' || !fq.same(leaf)) {
      steps.push({ argv: ['tc', 'qdisc', 'replace', 'dev', dev, 'parent', id, 'handle', leafHandle(c.minor), ...fq.args], why: `${dev}: AQM under ${id}` });
    }
  }
  if (rootOk) {
    for (const k of classes) if (k.dev === dev && !wanted.has(k.classid)) steps.push({ argv: ['tc', 'class', 'del', 'dev', dev, 'classid', k.classid], why: `${dev}: stale shaper class` });
  }
  return steps;
}

// The qdiscs on one device's egress: what the plan wants (a gretap's delay, a router tunnel's
// shaping with AQM) against what `tc -j qdisc show` reports, as tc steps. Pure. With the same
// kinds in place, what differs is changed in place (`tc qdisc change`: the packets queued stay);
// anything else rebuilds the chain.
import type { ShapeSpec } from '../plan/shaping.ts';
import type { QdiscSpec } from '../plan/types.ts';
import type { KQdisc } from './state.ts';
import type { Step } from './step.ts';

interface Elem {
  kind: 'netem' | 'tbf' | 'fq_codel';
  args: string[];
  same: (k: KQdisc) => boolean;
  /** What `tc -j qdisc show` reports of it once applied: `same` holds for it. */
  shown: Pick<KQdisc, 'delayMs' | 'rateKbit' | 'minburst' | 'overhead' | 'targetMs'>;
}

/** Room above a full packet in tbf's peak bucket: a packet longer than the bucket is dropped. */
const MTU_SLACK = 64;

const near = (a: number | undefined, b: number, tol: number) => a !== undefined && Math.abs(a - b) <= tol;

/** fq_codel under a shaper: what it is given, and whether an observed one is the same. */
export function fqCodel(s: ShapeSpec): { args: string[]; same: (k: KQdisc) => boolean; shown: { targetMs: number } } {
  return { args: ['fq_codel', 'target', `${s.targetMs}ms`, 'interval', `${s.intervalMs}ms`], same: (k) => near(k.targetMs, s.targetMs, 1), shown: { targetMs: s.targetMs } };
}

/** A rate as tc reports it (rounded): within 1 % (at least 1 kbit/s) is the same. */
export const sameRate = (have: number | undefined, want: number) => near(have, want, Math.max(1, want / 100));

function wanted(q: QdiscSpec): Elem[] {
  const delayMs = q.delayMs;
  const out: Elem[] = delayMs === undefined ? [] : [{ kind: 'netem', args: ['netem', 'delay', `${delayMs}ms`], same: (k) => (k.delayMs ?? 0) === delayMs, shown: { delayMs } }];
  const s = q.shape;
  if (s) {
    out.push({
      kind: 'tbf',
      // latency only sizes tbf's own fifo, which fq_codel replaces. A peak bucket of one packet
      // (mtu, at twice the rate) makes tbf split GSO batches (forwarded TCP arrives GRO-merged
      // from a server's NIC) into their packets before counting them: `overhead` is added once per
      // skb, so a batch of n packets would be counted n-1 overheads short. (The lab's veths do not
      // merge: its bond shaper saw 1400-byte packets on average.)
      args: ['tbf', 'rate', `${s.rateKbit}kbit`, 'burst', String(s.burstBytes), 'mtu', String(s.packetBytes + MTU_SLACK), 'peakrate', `${2 * s.rateKbit}kbit`, 'latency', '300ms', 'overhead', String(s.overheadBytes)],
      same: (k) => sameRate(k.rateKbit, s.rateKbit) && near(k.minburst, s.packetBytes + MTU_SLACK + s.overheadBytes, 16) && k.overhead === s.overheadBytes,
      shown: { rateKbit: s.rateKbit, minburst: s.packetBytes + MTU_SLACK + s.overheadBytes, overhead: s.overheadBytes },
    });
    out.push({ kind: 'fq_codel', ...fqCodel(s) });
  }
  return out;
}

/** Root first, then each qdisc grafted on class 1 of the one before. */
function chain(have: KQdisc[]): KQdisc[] {
  const out: KQdisc[] = [];
  let q = have.find((x) => x.root);
  while (q && out.length < 8) {
    out.push(q);
    const cls = q.handle.replace(/:.*$/, ':1');
    q = have.find((x) => x.parent === cls);
  }
  return out;
}

/** Where the i-th qdisc of the chain hangs: the root, or class 1 of the one before. */
const at = (i: number) => (i === 0 ? ['root'] : ['parent', `${i}:1`]);

/**
 * The chain `qdiscSteps` leaves on `dev` for `spec`, as `tc` reports it: the kernel state a plan
 * that was applied stands for, without reading it (src/agent/steer-in-place.ts).
 */
export function plannedChain(dev: string, spec: QdiscSpec): KQdisc[] {
  return wanted(spec).map((e, i) => ({ dev, kind: e.kind, handle: `${i + 1}:`, root: i === 0, ...(i ? { parent: `${i}:1` } : {}), ...e.shown }));
}

/** The device's default qdisc (handle 0:) is not ours and cannot be deleted. */
export const isDefault = (q: KQdisc | undefined) => !q || q.handle === '0:' || q.handle === '0';

export function qdiscSteps(dev: string, want: QdiscSpec | undefined, have: KQdisc[]): Step[] {
  const now = chain(have);
  if (!want) return isDefault(now[0]) ? [] : [{ argv: ['tc', 'qdisc', 'del', 'dev', dev, 'root'], why: `no delay or shaping on ${dev}` }];
  const w = wanted(want);
  const kindsMatch = now.length === w.length && w.every((e, i) => now[i]!.kind === e.kind);
  const differ = kindsMatch ? w.map((e, i) => !e.same(now[i]!)) : [];
  if (kindsMatch && differ.every((d) => !d)) return [];
  const why = [want.delayMs ? `delay by ${want.delayMs} ms` : '', want.shape ? `shape to ${want.shape.rateKbit} kbit/s` : ''].filter(Boolean).join(', ');
  if (kindsMatch) {
    return w.flatMap((e, i) => (differ[i] ? [{ argv: ['tc', 'qdisc', 'change', 'dev', dev, ...at(i), 'handle', `${i + 1}:`, ...e.args], why: `${dev}: ${why}` }] : []));
  }
  const steps: Step[] = [];
  if (!isDefault(now[0])) steps.push({ argv: ['tc', 'qdisc', 'del', 'dev', dev, 'root'], why: `${dev}: rebuild its qdiscs` });
  w.forEach((e, i) => steps.push({ argv: ['tc', 'qdisc', 'replace', 'dev', dev, ...at(i), 'handle', `${i + 1}:`, ...e.args], why: `${dev}: ${why}` }));
  return steps;
}

// The order a bond's gretaps are enslaved in. balance-rr hands packets to its slaves in their list
// order, which is the order they were enslaved in; a link with four gretaps enslaved one after the
// other gets four packets in a row, waits at its shaper while the others idle, and its packets
// cross theirs on the way (reordering the receiver has to absorb). Interleaved (smooth weighted
// round-robin, as nginx balances upstreams), each link's packets are spread evenly over the round:
// paths 4/2/1 give links 1,2,1,3,1,2,1 instead of 1,1,1,1,2,2,3. The kernel only appends: putting
// a slave in its place means releasing the ones behind it and enslaving them again (their
// equalising netem drops what it holds), so the reconciler does that only where the order by link
// is less even than the planned one (the round is a cycle: where it starts does not matter). Pure.

/** Link indices in round-robin order, each index `i` appearing `counts[i]` times, evenly spread. */
export function interleave(counts: number[]): number[] {
  const total = counts.reduce((a, b) => a + Math.max(0, b), 0);
  const current = counts.map(() => 0);
  const out: number[] = [];
  for (let n = 0; n < total; n++) {
    let pick = -1;
    counts.forEach((c, i) => {
      if (c <= 0) return;
      current[i]! += c;
      if (pick < 0 || current[i]! > current[pick]!) pick = i;
    });
    current[pick]! -= total;
    out.push(pick);
  }
  return out;
}

/** Gretap names in enslave order, from each in-bond link's gretaps (its paths, in key order). */
export function slaveOrder(gretapsPerLink: string[][]): string[] {
  const next = gretapsPerLink.map(() => 0);
  return interleave(gretapsPerLink.map((g) => g.length)).map((i) => gretapsPerLink[i]![next[i]!++]!);
}

/**
 * How unevenly a round (link keys in slave order) spreads each link: over every link, the most its
 * gaps between consecutive places differ (the round is a cycle). 0 or 1 is as even as it gets.
 */
export function unevenness(round: string[]): number {
  const places = new Map<string, number[]>();
  round.forEach((l, i) => places.set(l, [...(places.get(l) ?? []), i]));
  let worst = 0;
  for (const p of places.values()) {
    const gaps = p.map((x, i) => (i + 1 < p.length ? p[i + 1]! - x : p[0]! + round.length - x));
    worst = Math.max(worst, Math.max(...gaps) - Math.min(...gaps));
  }
  return worst;
}

/**
 * How to get a bond from its slaves `stay` (list order, staying in it) plus `entering` to the order
 * `planned` (src/plan: `slaveOrder`), by link (`linkOf`): the slaves to release first, then what to
 * enslave, in order. Entering slaves are only appended where the round that gives is as even by
 * link as the planned one (a link of one gretap coming back is, in the rounds the planner makes);
 * otherwise the slaves behind the longest prefix that matches by link are released and enslaved
 * again after it.
 */
export function enslaveOrder(planned: string[], linkOf: (slave: string) => string, stay: string[], entering: Set<string>): { release: string[]; enslave: string[] } {
  const target = [...planned, ...[...entering].filter((n) => !planned.includes(n))].filter((n) => entering.has(n) || stay.includes(n));
  const appended = [...stay, ...target.filter((n) => entering.has(n))];
  if (unevenness(appended.map(linkOf)) <= unevenness(target.map(linkOf))) return { release: [], enslave: appended.slice(stay.length) };
  let kept = 0;
  while (kept < stay.length && linkOf(stay[kept]!) === linkOf(target[kept]!)) kept++;
  const release = stay.slice(kept);
  // The rest of the round by link, each place taken by one of that link's free slaves in planned order.
  const free = target.filter((n) => !stay.slice(0, kept).includes(n));
  const enslave: string[] = [];
  for (const want of target.slice(kept).map(linkOf)) {
    const i = free.findIndex((n) => linkOf(n) === want);
    enslave.push(free.splice(i, 1)[0]!);
  }
  return { release, enslave };
}

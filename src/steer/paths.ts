// How many gretaps ("paths") each link gets so that the bond's round-robin hands each link a
// share of packets in proportion to its capacity. Pure.

export interface PathsOptions {
  /** Upper bound on gretaps over all links (each is a kernel interface). Default 16. */
  maxTotal?: number;
  /** Upper bound per link (the planner's MAX_PATHS). Default 8. */
  maxPerLink?: number;
  /** Stop at the smallest total whose worst per-link share error is below this. Default 0.03. */
  tolerance?: number;
}

/** Largest-remainder apportionment of `total` seats with at least one seat per link. */
export function apportion(capacities: number[], total: number): number[] {
  const n = capacities.length;
  if (n === 0) return [];
  const sum = capacities.reduce((a, b) => a + b, 0);
  if (sum <= 0) return capacities.map(() => 1);
  const quotas = capacities.map((c) => Math.max(1, (c / sum) * total));
  const seats = quotas.map((q) => Math.floor(q));
  let left = total - seats.reduce((a, b) => a + b, 0);
  const order = quotas.map((q, i) => ({ i, r: q - Math.floor(q) })).sort((a, b) => b.r - a.r || a.i - b.i);
  for (let k = 0; left > 0; k = (k + 1) % n, left--) seats[order[k]!.i]!++;
  // Floors forced to 1 may overshoot: take seats back from the largest links.
  while (seats.reduce((a, b) => a + b, 0) > total) {
    let j = 0;
    for (let i = 1; i < n; i++) if (seats[i]! > seats[j]!) j = i;
    if (seats[j]! <= 1) break;
    seats[j]!--;
  }
  return seats;
}

/** Worst absolute difference between a link's packet share and its capacity share. */
export function shareError(capacities: number[], paths: number[]): number {
  const cs = capacities.reduce((a, b) => a + b, 0);
  const ps = paths.reduce((a, b) => a + b, 0);
  if (cs <= 0 || ps <= 0) return 0;
  return Math.max(...capacities.map((c, i) => Math.abs(c / cs - paths[i]! / ps)));
}

/** Fewest gretaps (within maxTotal) that give every link its capacity share within tolerance. */
export function pathsFor(capacities: number[], opts: PathsOptions = {}): number[] {
  const n = capacities.length;
  if (n === 0) return [];
  const maxTotal = Math.max(n, opts.maxTotal ?? 16);
  const tol = opts.tolerance ?? 0.03;
  let best = capacities.map(() => 1);
  let bestErr = shareError(capacities, best);
  const maxPer = opts.maxPerLink ?? 8;
  for (let total = n; total <= maxTotal; total++) {
    const p = apportion(capacities, total);
    if (p.some((x) => x > maxPer)) break;
    const err = shareError(capacities, p);
    if (err < bestErr - 1e-9) {
      best = p;
      bestErr = err;
    }
    if (bestErr <= tol) break;
  }
  return best;
}

// When steering moves a site's express link (the one it had went down or got slow), its express
// routes move at once, in one `ip -batch`, instead of waiting for the next reconcile (seconds on a
// small router): calls and pings must not sit in a dead tunnel. The reconcile that follows finds
// the routes as it wants them. Pure: the last plan + the new steering -> `ip -batch` lines and the
// express table they leave.
import type { KRoute } from '../kernel/state.ts';
import { ROUTE_PROTO, TABLE_EXPRESS } from '../plan/addressing.ts';
import { takesExpress, type Plan, type RouteSpec, type Steering } from '../plan/types.ts';

export interface ExpressMoves {
  /** `ip -batch` lines; none when the routes are already where steering wants them. */
  lines: string[];
  /** The express table's routes once they ran. */
  routes: RouteSpec[];
}

export function expressMoves(plan: Plan, steering: Steering): ExpressMoves {
  const lines: string[] = [];
  const routes: RouteSpec[] = [];
  // The express tunnel each site should use now, by the planners' rule.
  const want = new Map<string, string | null>();
  for (const pl of plan.planLinks) {
    const site = pl.site ?? '';
    const st = steering.links[pl.key];
    if (!want.has(site)) want.set(site, null);
    if (!want.get(site) && takesExpress(st, st?.in_bond !== false)) want.set(site, pl.express);
  }
  const siteOf = new Map(plan.planLinks.map((pl) => [pl.express, pl.site ?? ''] as const));
  for (const r of plan.routes) {
    if (r.table !== TABLE_EXPRESS || !siteOf.has(r.dev)) continue;
    const dev = want.get(siteOf.get(r.dev)!);
    if (dev) routes.push({ ...r, dev });
    if (dev === r.dev) continue;
    lines.push(dev
      ? `route replace ${r.dst} dev ${dev} table ${TABLE_EXPRESS} proto ${ROUTE_PROTO}`
      : `route del ${r.dst} dev ${r.dev} table ${TABLE_EXPRESS} proto ${ROUTE_PROTO}`);
  }
  return { lines, routes };
}

/** `routes` (as observed) with wanbond's express table replaced by `express`: what status reads until the next observe. */
export function withExpressRoutes(routes: KRoute[], express: RouteSpec[]): KRoute[] {
  const own = (r: KRoute) => r.table === String(TABLE_EXPRESS) && r.proto === String(ROUTE_PROTO);
  return [...routes.filter((r) => !own(r)), ...express.filter((r) => r.table === TABLE_EXPRESS).map((r) => ({ table: String(r.table), dst: r.dst, dev: r.dev, proto: String(ROUTE_PROTO) }))];
}

/** Steering with the express choice left out: what else a new decision changes. */
export function withoutExpress(s: Steering): Steering {
  const links: Steering['links'] = {};
  for (const [k, v] of Object.entries(s.links)) {
    const { express: _, ...rest } = v;
    links[k] = rest;
  }
  return { ...s, links };
}

// Capacities measured, not configured (issue 4: "from rate_down/rate_up where configured,
// otherwise measured"): on unequal links (hetero-3: 4/2/1 Mbit/s down, a quarter of that up) with
// no rates in the config, the router measures each link's capacity both ways with packet trains
// through its tunnel, and both ends weight the bond by it (gretaps 4/2/1). The weighting must hold
// still through a download: capacities are never taken from what the bond itself hands a link.
import { fileURLToPath } from 'node:url';
import { AGENT, allLinksUp, runAgents, bondSlaves, configureOneSite, inGuest, labTest, until, firstLines, SCRATCH } from './stack-lib.ts';

const FILE = fileURLToPath(import.meta.url);

if (!inGuest()) {
  labTest(FILE, 'stack measure: without configured rates the router measures each link both ways and both ends weight by it', 420);
} else {
  const { runScenario } = await import('../../lab/scenario.ts');
  const { loadProfile } = await import('../../lab/profile.ts');
  const { buildTopology, CONC } = await import('../../lab/topology.ts');
  const { siteBond } = await import('../../src/plan/addressing.ts');

  await runScenario(async ({ check, figure }) => {
    const lab = await buildTopology(loadProfile('lab/profiles/hetero-3.json'));
    const site = lab.sites[0]!;
    const subnet = '10.213.1.0/24';
    const cfg = await configureOneSite(lab, `${SCRATCH}/measure`);
    const { concAgent, routerAgent, online, detail } = await runAgents(lab, cfg);
    try {
      check('the agents bring the stack up by themselves', online, detail);

      /** The router's latest train figure per link and direction, from its log. */
      const measured = () => {
        const out: Record<string, { down?: number; up?: number }> = {};
        for (const m of routerAgent.output().matchAll(/link (\w+): (down|up) capacity ([\d.]+) Mbit\/s by packet train/g)) {
          (out[m[1]!] ??= {})[m[2] as 'down' | 'up'] = Math.round(Number(m[3]) * 1000);
        }
        return out;
      };
      // Timed by a user-space agent on an emulated CPU: a train's packets are stamped when the
      // agent reads them, in bursts at times (trains read mostly in bursts are not used, see
      // src/steer/train.ts). Since that: within 1 % in four lab runs; before it, up to 3.5x over
      // on one upload. Within 40 % is what this checks.
      const within = (got: number | undefined, want: number) => got !== undefined && Math.abs(got - want) <= 0.4 * want;
      const finished = () => (routerAgent.output().match(/capacity [\d.]+ Mbit\/s by packet train \(5 measured\)/g) ?? []).length;
      await until(async () => finished() >= 2 * site.links.length, 90_000, 2000);
      check('five trains each way on every link, within a minute and a half', finished() >= 2 * site.links.length, `${finished()} of ${2 * site.links.length} directions done`);
      const allNear = () => site.links.every((l) => within(measured()[l.name]?.down, l.profile.rate_down_kbit) && within(measured()[l.name]?.up, l.profile.rate_up_kbit));
      const m = measured();
      for (const l of site.links) {
        figure(`${l.name}_down_kbit`, m[l.name]?.down ?? null);
        figure(`${l.name}_up_kbit`, m[l.name]?.up ?? null);
      }
      check('each link\'s capacity is measured both ways within 40 % of its emulated rate', allNear(),
        `${JSON.stringify(m)} vs ${JSON.stringify(site.links.map((l) => [l.profile.rate_down_kbit, l.profile.rate_up_kbit]))}`);

      const gretaps = async (ns: string, re: RegExp) => {
        const names = (JSON.parse((await lab.exec(ns, ['ip', '-j', 'link'])).stdout) as { ifname: string }[]).map((x) => x.ifname);
        return site.links.map((l) => names.filter((n) => re.test(n) && new RegExp(`g${l.index + 1}p\\d$`).test(n)).length);
      };
      const routerPaths = () => gretaps('router', /^wbg\d+p\d$/);
      const concPaths = () => gretaps(CONC.ns, /^wb[0-9a-f]{4}g\d+p\d$/);
      // Rates 4:2:1: each link's share of the gretaps within 5 points of its share of the rates
      // (4 / 2 / 1 when measured right; an early train 12 % low gave 7 / 4 / 2, kept by steering's
      // 20 % capacity hysteresis: shares 54 / 31 / 15 % against 57 / 29 / 14).
      const fits = (p: number[]) => {
        const sum = p.reduce((a, b) => a + b, 0);
        return p[0]! > p[1]! && p[1]! > p[2]! && [4, 2, 1].every((w, i) => Math.abs(p[i]! / sum - w / 7) <= 0.05);
      };
      const weighted = await until(async () => {
        const [r, c] = [await routerPaths(), await concPaths()];
        return fits(r) && JSON.stringify(r) === JSON.stringify(c);
      }, 60_000, 2000);
      const paths = await routerPaths();
      check('both ends weight the bond by the measured capacities: gretaps about 4 / 2 / 1, the same at both ends', weighted, `router ${paths}, concentrator ${await concPaths()}`);
      const total = paths.reduce((a, b) => a + b, 0);
      const settled = await until(async () => (await bondSlaves(lab, 'router', 'wbond')) === total && (await bondSlaves(lab, CONC.ns, siteBond(subnet))) === total && (await allLinksUp(lab)), 60_000, 2000);
      check('every gretap is in both bonds and every link up', settled, `router ${await bondSlaves(lab, 'router', 'wbond')} slaves`);

      // A train holds a slow link's queue for most of a second (24 packets at 250 kbit/s): the
      // probes behind it must not be taken for a failing link at either end.
      const left = (out: string) => out.match(/link [\w/]+: up -> (down|degraded) \(.*/g) ?? [];
      check('no link leaves the bond while its capacities are measured', left(routerAgent.output()).length + left(concAgent.output()).length === 0,
        [...left(routerAgent.output()), ...left(concAgent.output())].slice(0, 6).join('; '));

      const before = routerAgent.output().length;
      const dl = await lab.iperf(site.lanNs, { seconds: 15, reverse: true });
      figure('download_kbit', Math.round(dl.bitsPerSecond / 1000));
      const during = routerAgent.output().slice(before);
      // Link health may still move (without rates nothing is shaped, and the download fills the
      // modems' queues): counted, not judged here; test/lab/stack-shaping covers shaping.
      figure('link_state_changes_during_download', (during.match(/: (up|down|degraded) -> /g) ?? []).length);
      check('a download moves neither the capacities nor the gretaps', !/by packet train/.test(during) &&
        JSON.stringify(await routerPaths()) === JSON.stringify(paths) && JSON.stringify(await concPaths()) === JSON.stringify(paths),
        firstLines(during, 10));
      // What the router measured is what `wanbond status` reports, marked as measured, with the
      // gretaps each link runs.
      const st = JSON.parse((await lab.execIsolated('router', ['node', AGENT, 'status', '--json'], { reject: false, timeoutMs: 60_000 })).stdout || '{}') as import('../../src/status/types.ts').Status;
      const now = measured();
      const reported = (st.links ?? []).map((l) => [l.name, l.capacity_down_kbit, l.capacity_down_source, l.capacity_up_kbit, l.capacity_up_source, l.gretaps]);
      const near = (a: number | null, b: number | undefined) => a !== null && b !== undefined && Math.abs(a - b) <= 10; // the log rounds to 0.01 Mbit/s
      check('status reports each link\'s measured capacities and its gretaps', site.links.length === reported.length && site.links.every((l, i) => {
        const r = st.links[i]!;
        return r.name === l.name && near(r.capacity_down_kbit, now[l.name]?.down) && near(r.capacity_up_kbit, now[l.name]?.up) &&
          r.capacity_down_source === 'measured' && r.capacity_up_source === 'measured' && r.gretaps === paths[i];
      }), `status ${JSON.stringify(reported)}; log ${JSON.stringify(now)}`);
      check('no shaper without configured rates', !/tbf|htb/.test((await lab.exec('router', ['tc', 'qdisc', 'show'])).stdout + (await lab.exec(CONC.ns, ['tc', 'qdisc', 'show'])).stdout));
    } finally {
      await Promise.all([routerAgent.stop(), concAgent.stop()]);
    }
    await lab.destroy();
  });
}

// Shaping with AQM (issue 4: bounded queues): with each link's rates configured, both ends shape
// their transmit just below the links' rates with fq_codel behind the shaper: the bond to the sum
// (the one queue), each link to its share plus 5 % (the router from its own rate_up on the link's
// tunnel, the concentrator from the rate_down the router sends it in an HTB class per link on
// wb0), so a download fills wanbond's short, flow-isolated queue instead of the modems' 150 ms
// FIFOs. Checked: the qdiscs and classes at both ends, that the
// download went through the classes, the bond's round-trip time under a saturating download against idle, and,
// after a reload with `shaping 0`, that the shapers go and the same download then does raise it.
import { fileURLToPath } from 'node:url';
import { AGENT, allLinksUp, runAgents, bondSlaves, configureOneSite, inGuest, labTest, until, firstLines, SCRATCH } from './stack-lib.ts';

const FILE = fileURLToPath(import.meta.url);

if (!inGuest()) {
  labTest(FILE, 'stack shaping: both ends shape to the configured rates; a download does not bloat the bond', 420);
} else {
  const { readFileSync, writeFileSync } = await import('node:fs');
  const { runScenario } = await import('../../lab/scenario.ts');
  const { loadProfile } = await import('../../lab/profile.ts');
  const { buildTopology, CONC } = await import('../../lab/topology.ts');
  const { CONC_WG, htbClassId, htbMinor, linkAddresses, routerGretap, routerWg, siteBond, siteGretap } = await import('../../src/plan/addressing.ts');
  const { bondRate } = await import('../../src/plan/shaping.ts');
  const { parseClasses, parseQdiscs } = await import('../../src/kernel/state.ts');

  await runScenario(async ({ check, figure }) => {
    const lab = await buildTopology(loadProfile('lab/profiles/hetero-3.json'));
    const site = lab.sites[0]!;
    const subnet = '10.213.1.0/24';
    const cfg = await configureOneSite(lab, `${SCRATCH}/shaping`, [], true);
    const { concAgent, routerAgent, online, detail } = await runAgents(lab, cfg);
    try {
      check('the agents bring the stack up by themselves', online, detail);
      const slaves = (ns: string, bond: string) => bondSlaves(lab, ns, bond);
      const n = site.links.length;
      const settled = await until(async () => (await slaves('router', 'wbond')) >= n && (await slaves(CONC.ns, siteBond(subnet))) >= n && (await allLinksUp(lab)), 90_000, 2000);
      check('every link is up and in both bonds', settled, `router: ${firstLines(routerAgent.output().split('\n').slice(-8).join('\n'), 8)}`);

      /**
       * Per link: the router's shaper on its tunnel (kinds and tbf rate), the concentrator's HTB
       * class for it on wb0 (rate, bytes sent through it, its leaf's kind), and the qdisc kinds on
       * the link's first gretap at each end (the delay, and the ingress hook).
       */
      const shapers = async () => {
        const rq = parseQdiscs((await lab.exec('router', ['tc', '-j', 'qdisc', 'show'], { reject: false })).stdout);
        const cq = parseQdiscs((await lab.exec(CONC.ns, ['tc', '-j', 'qdisc', 'show'], { reject: false })).stdout);
        const cls = (await lab.exec(CONC.ns, ['tc', '-s', 'class', 'show', 'dev', CONC_WG], { reject: false })).stdout;
        const classes = parseClasses(CONC_WG, cls);
        const sent = new Map([...cls.matchAll(/class htb (\S+) [^\n]*\n\s*Sent (\d+) bytes/g)].map((m) => [m[1]!, Number(m[2])]));
        const kinds = (q: typeof rq, dev: string) => q.filter((x) => x.dev === dev).map((x) => x.kind).join('>');
        const root = cq.find((x) => x.dev === CONC_WG && x.root);
        const bondShaper = (q: typeof rq, dev: string) => ({ kinds: kinds(q, dev), kbit: q.find((x) => x.dev === dev && x.kind === 'tbf')?.rateKbit ?? 0 });
        return {
          routerBond: bondShaper(rq, 'wbond'), concBond: bondShaper(cq, siteBond(subnet)),
          direct: Number((JSON.parse((await lab.exec(CONC.ns, ['tc', '-j', '-s', 'qdisc', 'show', 'dev', CONC_WG], { reject: false })).stdout || '[]')[0]?.options?.direct_packets_stat) ?? 0),
          root: root ? `${root.kind} default ${root.htbDefault}` : 'none',
          links: site.links.map((l) => {
            const id = l.index + 1;
            const a = linkAddresses(subnet, id);
            const k = classes.find((c) => c.classid === htbClassId(htbMinor(0, id)));
            return {
              router: kinds(rq, routerWg(id)), routerKbit: rq.find((x) => x.dev === routerWg(id) && x.kind === 'tbf')?.rateKbit ?? 0,
              conc: k ? `${k.classid}>${cq.find((x) => x.dev === CONC_WG && x.parent === k.classid)?.kind}` : 'none', concKbit: k?.rateKbit ?? 0,
              concSent: k ? sent.get(k.classid) ?? 0 : 0, dst: a.router,
              gretaps: `${kinds(rq, routerGretap(id, 1))} | ${kinds(cq, siteGretap(subnet, id, 1))}`,
            };
          }),
        };
      };
      // Every link has its rates: each bond is shaped to 95 % of the sum (the one queue), each
      // link's own shaper to its share plus 5 % (plan/shaping.ts). The 250 kbit/s uplink's share
      // of the sum and its probes would not fit its shaper: the router's bond runs at what its
      // room allows (bondRate, with the 4 / 2 / 1 gretaps the rates give).
      const expect = (dir: 'rate_up_kbit' | 'rate_down_kbit') => site.links.map((l) => l.profile[dir] * 0.95 * 1.05);
      const sum = (dir: 'rate_up_kbit' | 'rate_down_kbit') => [bondRate(site.links.map((l) => l.profile[dir] * 0.95), [4, 2, 1])];
      const near = (got: number[], want: number[]) => got.every((g, i) => Math.abs(g - want[i]!) <= Math.max(10, want[i]! * 0.02));
      const shapedAsPlanned = (x: typeof sh) =>
        near(x.links.map((l) => l.routerKbit), expect('rate_up_kbit')) && near(x.links.map((l) => l.concKbit), expect('rate_down_kbit')) &&
        near([x.routerBond.kbit], sum('rate_up_kbit')) && near([x.concBond.kbit], sum('rate_down_kbit'));
      let sh = await shapers();
      await until(async () => shapedAsPlanned(sh = await shapers()), 30_000, 2000);
      check('the router shapes its bond to 95 % of the links\' rate_up summed (less what the slow link\'s probes need), tbf > fq_codel, and each link\'s tunnel to its share plus 5 %',
        shapedAsPlanned(sh) && sh.routerBond.kinds === 'tbf>fq_codel' && sh.links.every((x) => x.router === 'tbf>fq_codel'), JSON.stringify(sh));
      check('the concentrator shapes the site\'s bond to 95 % of the rate_down the router sent summed, and each link to its share plus 5 %: an HTB class per link on wb0, fq_codel under it',
        shapedAsPlanned(sh) && sh.concBond.kinds === 'tbf>fq_codel' && sh.root === 'htb default 0' && sh.links.every((x) => x.conc.endsWith('>fq_codel')), JSON.stringify(sh));
      // Besides the delay, each gretap has the ingress qdisc through which it hands what it
      // receives to its bond (src/kernel/ingress-diff.ts): a hook, no shaping.
      check('the gretaps keep only the delay (netem) at both ends, and the ingress hook to their bond', sh.links.every((x) => x.gretaps === 'netem>ingress | netem>ingress'), JSON.stringify(sh));

      // Round trips through the bond (LAN client -> internet server), idle and during a download
      // that fills every link (eight flows, measured from 8 s in: fewer, or earlier, and the
      // modems' queues are not always full yet).
      const rtt = async () => (await lab.ping(site.lanNs, lab.server.address, 40, { intervalSec: 0.2 })).rttAvgMs ?? Infinity;
      const underLoad = async () => {
        const dl = lab.iperf(site.lanNs, { seconds: 20, reverse: true, parallel: 8 });
        await new Promise((res) => setTimeout(res, 8000));
        const ms = await rtt();
        const got = await dl;
        return { ms, kbit: got.bitsPerSecond / 1000 };
      };
      const idle = await rtt();
      const before = await shapers();
      const shaped = await underLoad();
      figure('rtt_idle_ms', Math.round(idle));
      figure('rtt_download_shaped_ms', Math.round(shaped.ms));
      figure('download_shaped_kbit', Math.round(shaped.kbit));
      const after = await shapers();
      // (A few packets pass unclassified while the shaper is set up: the classes come before nft's map.)
      check('the download went through every link\'s class at the concentrator, none of it unclassified',
        after.links.every((x, i) => x.concSent - before.links[i]!.concSent > 100_000) && after.direct - before.direct < 10, JSON.stringify({ before, after }));
      check('a saturating download raises the bond\'s round trip by less than 50 ms', shaped.ms - idle < 50,
        `idle ${idle} ms, during the download ${shaped.ms} ms (${Math.round(shaped.kbit)} kbit/s)`);

      // The same with shaping off (SIGHUP reloads): the shapers go at both ends, the modems queue.
      writeFileSync(cfg.router, readFileSync(cfg.router, 'utf8').replace('config globals\n', "config globals\n\toption shaping '0'\n"));
      await lab.exec('router', ['pkill', '-HUP', '-f', `run --config ${cfg.router}`], { reject: false });
      const gone = await until(async () => {
        sh = await shapers();
        return !/htb/.test(sh.root) && sh.links.every((x) => x.routerKbit === 0 && !/tbf|fq_codel/.test(x.router)) && !/tbf/.test(sh.routerBond.kinds) && !/tbf/.test(sh.concBond.kinds);
      }, 30_000, 2000);
      check('shaping 0 (reload): both ends remove their shapers', gone, JSON.stringify(sh));
      const unshaped = await underLoad();
      figure('rtt_download_unshaped_ms', Math.round(unshaped.ms));
      figure('download_unshaped_kbit', Math.round(unshaped.kbit));
      // Measured 39-131 ms here against 12-22 ms shaped: at least 30 ms and twice the shaped rise.
      check('without shaping the same download raises it more (the modems\' queues): the check above can fail',
        unshaped.ms - idle >= Math.max(30, 2 * (shaped.ms - idle)), `idle ${idle} ms, during the download ${unshaped.ms} ms (shaped: ${shaped.ms} ms)`);
    } finally {
      await Promise.all([routerAgent.stop(), concAgent.stop()]);
    }
    await lab.destroy();
  });
}

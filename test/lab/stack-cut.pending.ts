// A modem cut during a download (issue 3, Done-when 4), with the agents running as they do on
// the devices (`wanbond run`, link health on): a 30 s TCP download from the LAN client, link 1
// cut (100 % loss both ways) after 8 s; the download must finish on the same connection.
//
// NOT YET PASSING, so not named *.test.ts (the runner does not pick it up). Last run: the agents
// build the stack, the cut link leaves the router's bond and rejoins it after the cut, the stack
// keeps carrying traffic when the agents stop; but the download's goodput drops to 0 right after
// the cut and stays there (per second: 0.6 0.8 1.0 0.7 0.5 0.2 0.0 ...). To look at next: what
// the concentrator's health does for the cut link, and whether both ends' steering (paths, extra
// delay) agree. Run: node --import tsx --test test/lab/stack-cut.pending.ts
import { fileURLToPath } from 'node:url';
import { AGENT, agent, configureOneSite, inGuest, labTest, until, firstLines, EQUAL_SLOW, SCRATCH } from './stack-lib.ts';

const FILE = fileURLToPath(import.meta.url);


if (!inGuest()) {
  labTest(FILE, 'stack cut: a download survives a modem cut with the agents running', 420);
} else {
  const { runScenario, log } = await import('../../lab/scenario.ts');
  const { buildTopology, CONC } = await import('../../lab/topology.ts');

  await runScenario(async ({ check, figure }) => {
    const { LabProfileSchema } = await import('../../lab/profile.ts');
    const lab = await buildTopology(LabProfileSchema.parse(EQUAL_SLOW));
    const site = lab.sites[0]!;
    const cfg = await configureOneSite(lab, `${SCRATCH}/cut`);
    // wireguard-go and both agents share the lab's one CPU, which inflates round trips through
    // the tunnels to a second or more at times: judge links by loss here, not by delay.
    const { appendFileSync } = await import('node:fs');
    // No direct-out fallback either: this lab's routers have no default route of their own.
    const { readFileSync, writeFileSync } = await import('node:fs');
    writeFileSync(cfg.router, readFileSync(cfg.router, 'utf8').replace('config globals\n', "config globals\n\toption fallback '0'\n"));
    for (const f of [cfg.router, cfg.conc]) appendFileSync(f, "\nconfig health\n\toption failure_latency '10000'\n\toption recovery_latency '8000'\n\toption interval '0.2'\n");
    const concAgent = lab.spawnIsolated(CONC.ns, ['node', AGENT, 'run', '--config', cfg.conc]);
    const routerAgent = lab.spawnIsolated('router', ['node', AGENT, 'run', '--config', cfg.router]);
    let seen = '';
    const up = await until(async () => (seen = await lab.whoami(site.lanNs).catch((e: Error) => e.message)) === CONC.address, 90_000, 1000);
    check('the agents bring the stack up by themselves', up, `${seen}; router: ${firstLines(routerAgent.output(), 6)}`);

    const dl = lab.iperf(site.lanNs, { seconds: 30, reverse: true, extra: ['--connect-timeout', '5000'] });
    await new Promise((r) => setTimeout(r, 8000));
    log('cutting link 1');
    await lab.setLink(0, { loss_pct: 100 });
    let res: Awaited<typeof dl> | null = null;
    let err = '';
    try {
      res = await dl;
    } catch (e) {
      err = (e as Error).message;
    }
    const intervals = ((res?.raw as { intervals?: { sum: { bits_per_second: number } }[] } | undefined)?.intervals ?? []).map((i) => i.sum.bits_per_second / 1e6);
    const after = intervals.slice(-10);
    figure('cut_download_mbit', res ? Number((res.bitsPerSecond / 1e6).toFixed(2)) : null);
    figure('cut_intervals_mbit', intervals.map((x) => x.toFixed(1)).join(' '));
    check('the 30 s download completes on the same connection across the cut', !!res && intervals.length >= 28 && after.length > 0 && after.every((x) => x > 0.1),
      `${err} per second: ${intervals.map((x) => x.toFixed(1)).join(' ')} | router agent: ${routerAgent.output().slice(-2500).replace(/\n/g, ' | ')}`);
    const links = JSON.parse((await lab.exec('router', ['ip', '-j', '-d', 'link', 'show'])).stdout) as { ifname: string; master?: string }[];
    check('the cut link left the router\'s bond', links.find((l) => l.ifname === 'wbg1p1')?.master !== 'wbond', links.filter((l) => /^wbg/.test(l.ifname)).map((l) => `${l.ifname}->${l.master ?? '-'}`).join(' '));
    await lab.resetLink(0);
    const back = await until(async () => {
      const l = JSON.parse((await lab.exec('router', ['ip', '-j', '-d', 'link', 'show', 'dev', 'wbg1p1'])).stdout) as { master?: string }[];
      return l[0]?.master === 'wbond';
    }, 60_000, 1000);
    check('the link rejoins the bond when the modem is back', back, `conc agent: ${concAgent.output().slice(-1500).replace(/\n/g, ' | ')}`);

    await Promise.all([concAgent.stop(), routerAgent.stop()]);
    const still = await lab.whoami(site.lanNs).catch((e: Error) => e.message);
    check('stopping the agents leaves the stack carrying traffic', still === CONC.address, still);
    await agent(lab, 'router', ['down']);
    await agent(lab, CONC.ns, ['down']);
    await lab.destroy();
  });
}

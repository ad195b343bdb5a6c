// A modem cut during a download (issue 3, Done-when 4) and what `wanbond status` says about it
// (issue 5's lab check), with the agents running as they do on the devices (`wanbond run`, link
// health on, health thresholds as shipped): a 30 s TCP download from the LAN client over three
// equal 4 Mbit/s links, link 1 cut (100 % loss both ways) after 8 s; the download must finish on
// the same connection, the cut link must leave both bonds, `wanbond status --json` must report it
// down and the bond's members exactly as the kernel has them, and all of it again after the cut.
// Then, the agents stopped, link 2 released at the router only: what the concentrator still
// stripes onto it must arrive.
import { fileURLToPath } from 'node:url';
import { AGENT, agent, allLinksUp, bondLinkIds, configureOneSite, DIAG, inGuest, labTest, runAgents, until, SCRATCH } from './stack-lib.ts';

const FILE = fileURLToPath(import.meta.url);

if (!inGuest()) {
  labTest(FILE, 'stack cut: a download survives a modem cut with the agents running; status matches the kernel', 420);
} else {
  const { writeFileSync } = await import('node:fs');
  const { runScenario, log } = await import('../../lab/scenario.ts');
  const { loadProfile } = await import('../../lab/profile.ts');
  const { buildTopology, CONC } = await import('../../lab/topology.ts');
  const { siteBond } = await import('../../src/plan/addressing.ts');
  type Status = import('../../src/status/types.ts').Status;

  await runScenario(async ({ check, figure }) => {
    const lab = await buildTopology(loadProfile('lab/profiles/equal-3.json'));
    const site = lab.sites[0]!;
    const cfg = await configureOneSite(lab, `${SCRATCH}/cut`);
    const concBond = siteBond('10.213.1.0/24');
    const { concAgent, routerAgent, online: up, detail, saveLogs } = await runAgents(lab, cfg);
    check('the agents bring the stack up by themselves', up, detail);

    // The cut is what is tested, not the start: every link in both bonds and up by health first.
    const slaves = async (ns: string, bond: string) => (await bondLinkIds(lab, ns, bond)).length;
    const allUp = () => allLinksUp(lab);
    const settled = await until(async () => (await slaves('router', 'wbond')) === 3 && (await slaves(CONC.ns, concBond)) === 3 && (await allUp()), 60_000, 2000);
    check('every link is up and in both bonds before the download', settled, `router ${await slaves('router', 'wbond')} slaves, concentrator ${await slaves(CONC.ns, concBond)}`);

    // Bond slaves as the kernel has them, every 0.5 s, at both ends (one shell loop each: a
    // process started from node stalls the one-CPU guest far longer than one started by sh).
    const watch = (ns: string, bond: string) => lab.spawn(ns, ['sh', '-c',
      `while :; do echo "T $(date +%s.%N)"; grep -E '^(Slave Interface|MII Status)' /proc/net/bonding/${bond}; ${DIAG ? 'tc qdisc show | grep netem;' : ''} sleep 0.5; done`]);
    const routerWatch = watch('router', 'wbond');
    const concWatch = watch(CONC.ns, concBond);

    const times: Record<string, unknown> = {};
    const dump = () => {
      if (!DIAG) return;
      saveLogs();
      writeFileSync(`${DIAG}/router-bond.log`, routerWatch.output());
      writeFileSync(`${DIAG}/conc-bond.log`, concWatch.output());
      writeFileSync(`${DIAG}/times.json`, JSON.stringify(times));
    };
    try {
    const t0 = Date.now() / 1000;
    times.t0 = t0;
    const dl = lab.iperf(site.lanNs, { seconds: 30, reverse: true });
    await new Promise((r) => setTimeout(r, 8000));
    const tCut = Date.now() / 1000;
    times.tCut = tCut;
    log('cutting link 1');
    await lab.setLink(0, { loss_pct: 100 });
    let res: Awaited<typeof dl> | null = null;
    let err = '';
    try {
      res = await dl;
    } catch (e) {
      err = (e as Error).message;
    }
    const raw = res?.raw as { intervals?: { sum: { bits_per_second: number } }[]; end?: { sum_received?: { seconds?: number } } } | undefined;
    const intervals = (raw?.intervals ?? []).map((i) => i.sum.bits_per_second / 1e6);
    const after = intervals.slice(14);
    figure('cut_download_mbit', res ? Number((res.bitsPerSecond / 1e6).toFixed(2)) : null);
    figure('cut_intervals_mbit', intervals.map((x) => x.toFixed(1)).join(' '));
    const gap = intervals.slice(8).filter((x) => x < 0.1).length;
    figure('cut_seconds_below_100kbit', gap);
    // iperf3 runs one TCP connection and never reconnects: 30 reports means it lasted. From 6 s
    // after the cut on, every second must carry data (over two links, about 7 Mbit/s when idle).
    check('the 30 s download completes on the same connection across the cut', !!res && intervals.length >= 29 && after.length > 0 && after.every((x) => x > 0.2),
      `${err} per second: ${intervals.map((x) => x.toFixed(1)).join(' ')}`);

    // Membership as the kernel has it and as `wanbond status --json` reports it.
    const idOf = (name: string) => site.links.find((l) => l.name === name)!.index + 1;
    const kernelIds = (ns: string, bond: string) => bondLinkIds(lab, ns, bond);
    const routerSlaves = async () => {
      const l = JSON.parse((await lab.exec('router', ['ip', '-j', '-d', 'link', 'show'])).stdout) as { ifname: string; master?: string }[];
      return [...new Set(l.filter((x) => /^wbg\d+p\d+$/.test(x.ifname) && x.master === 'wbond').map((x) => Number(/^wbg(\d+)/.exec(x.ifname)![1])))].sort();
    };
    const status = async (): Promise<Status | string> => {
      const r = await lab.execIsolated('router', ['node', AGENT, 'status', '--json'], { reject: false, timeoutMs: 60_000 });
      try {
        return JSON.parse(r.stdout) as Status;
      } catch {
        return `exit ${r.exitCode}: ${r.stderr.trim()}`;
      }
    };
    const compare = async (cutDown: boolean): Promise<{ ok: boolean; detail: string }> => {
      const s = await status();
      const kernel = await routerSlaves();
      const proc = await kernelIds('router', 'wbond');
      if (typeof s === 'string') return { ok: false, detail: `status: ${s}` };
      const inBond = s.links.filter((l) => l.in_bond).map((l) => idOf(l.name)).sort();
      const members = s.bond.members.map(idOf).sort();
      const wan1 = s.links.find((l) => l.name === site.links[0]!.name);
      const stateOk = cutDown ? wan1?.status === 'down' && !wan1.online : wan1?.status === 'up' && !!wan1.online;
      const same = JSON.stringify(inBond) === JSON.stringify(kernel) && JSON.stringify(members) === JSON.stringify(kernel) && JSON.stringify(proc) === JSON.stringify(kernel);
      const caps = s.links.map((l) => `${l.name} ${l.capacity_down_kbit ?? '?'}/${l.capacity_up_kbit ?? '?'} kbit x${l.gretaps}`).join(', ');
      return { ok: stateOk && same, detail: `link 1 ${wan1?.status} (${wan1?.reason}); status in_bond ${inBond} members ${members}; kernel ip link ${kernel}, /proc ${proc}; ${caps}` };
    };

    const cutLeft = await until(async () => !(await routerSlaves()).includes(1) && !(await kernelIds(CONC.ns, concBond)).includes(1), 10_000, 1000);
    check('the cut link left both ends\' bonds', cutLeft, `router ${await routerSlaves()}, concentrator ${await kernelIds(CONC.ns, concBond)}`);
    const during = await compare(true);
    check('status --json during the cut: link 1 down, bond members as the kernel has them', during.ok, during.detail);

    const tBack = Date.now() / 1000;
    times.tBack = tBack;
    await lab.resetLink(0);
    const back = await until(async () => (await routerSlaves()).length === 3 && (await kernelIds(CONC.ns, concBond)).length === 3, 60_000, 1000);
    figure('rejoin_s', Number((Date.now() / 1000 - tBack).toFixed(1)));
    check('the link rejoins both bonds when the modem is back', back, `router ${await routerSlaves()}, concentrator ${await kernelIds(CONC.ns, concBond)}`);
    const recovered = await compare(false);
    check('status --json after the cut: link 1 up, bond members as the kernel has them', recovered.ok, recovered.detail);
    const again = await lab.iperf(site.lanNs, { seconds: 8, reverse: true, extra: ['-O', '2'] });
    figure('after_rejoin_mbit', Number((again.bitsPerSecond / 1e6).toFixed(2)));
    check('after the rejoin the bond carries a download again', again.bitsPerSecond > 1e6, `${(again.bitsPerSecond / 1e6).toFixed(2)} Mbit/s`);

    Object.assign(times, { t0, tCut, tBack, intervals });
    } finally {
      dump();
    }
    await Promise.all([routerWatch.stop(), concWatch.stop()]);
    await Promise.all([concAgent.stop(), routerAgent.stop()]);
    const still = await lab.whoami(site.lanNs).catch((e: Error) => e.message);
    check('stopping the agents leaves the stack carrying traffic', still === CONC.address, still);

    // One end alone takes a link out (its health verdict, a stall there, `set_link`): with the
    // agents stopped (a running one re-enslaves at its next reconcile), release link 2's gretaps
    // at the router as its agent does (sysfs, then up again) while the concentrator still
    // stripes onto them. Link 2, not 1: the bond took its address from the first gretap it
    // enslaved (link 1's), and a released gretap with the bond's address still takes the frames.
    const g2 = ((await lab.exec('router', ['cat', '/sys/class/net/wbond/bonding/slaves'])).stdout.match(/wbg2p\d+/g) ?? []);
    for (const g of g2) await lab.exec('router', ['sh', '-c', `echo -${g} > /sys/class/net/wbond/bonding/slaves && ip link set ${g} up`]);
    const released = g2.length > 0 && !(await bondLinkIds(lab, 'router', 'wbond')).includes(2) && (await bondLinkIds(lab, CONC.ns, concBond)).includes(2);
    // 1300-byte pings: above express_bytes (at most 1280), so they cross the bond, not the express path.
    const pinged = (await lab.exec(site.lanNs, ['ping', '-c', '100', '-i', '0.02', '-s', '1300', '-W', '1', '-q', lab.server.address], { reject: false })).stdout;
    const count = (re: RegExp) => Number(re.exec(pinged)?.[1] ?? -1);
    const [sent, got] = [count(/(\d+) packets transmitted/), count(/(\d+) received/)];
    figure('one_sided_release_ping_lost', sent - got);
    check('a link released at the router only still delivers what the concentrator sends on it', released && sent === 100 && sent - got <= 3,
      `${sent - got} of ${sent} pings lost; released ${g2.join(' ')} at the router only: ${released}`);
    await agent(lab, 'router', ['down']);
    await agent(lab, CONC.ns, ['down']);
    await lab.destroy();
  });
}


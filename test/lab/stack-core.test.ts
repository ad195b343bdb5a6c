// The bonded stack on a real kernel (issue 3, Done-when 1, 2, 3, 5, 6): one site with three
// modems (one behind carrier NAT), router and concentrator built by `wanbond apply` from UCI
// files. One lab boot; each check is reported as its own test.
import { fileURLToPath } from 'node:url';
import { agent, concUci, genKey, inGuest, labTest, routerUci, stateDiff, until, firstLines, withoutEmptyIptables, SCRATCH } from './stack-lib.ts';

const FILE = fileURLToPath(import.meta.url);

if (!inGuest()) {
  labTest(FILE, 'stack core: reach, tunnels, bond, speed, idempotence, crash repair, down', 600);
} else {
  const { existsSync, mkdirSync, readFileSync, writeFileSync } = await import('node:fs');
  const { runScenario, log } = await import('../../lab/scenario.ts');
  const { loadProfile } = await import('../../lab/profile.ts');
  const { buildTopology, CONC } = await import('../../lab/topology.ts');

  await runScenario(async ({ check, figure }) => {
    const lab = await buildTopology(loadProfile(process.env['STACK_PROFILE'] ?? 'lab/profiles/equal-3.json'));
    const site = lab.sites[0]!;
    const dir = `${SCRATCH}/core`;
    const beforeRouter = withoutEmptyIptables(await lab.dumpState('router'));
    const beforeConc = withoutEmptyIptables(await lab.dumpState(CONC.ns));

    const concKey = await genKey(`${dir}/conc.key`);
    const peers: string[] = [];
    for (const l of site.links) peers.push(`${l.index + 1}:${l.name}:${await genKey(`${dir}/${l.name}.key`)}`);
    writeFileSync(`${dir}/conc.uci`, concUci(dir, [{ name: 'home', subnet: '10.213.1.0/24', peers }]));
    writeFileSync(`${dir}/router.uci`, routerUci({ site, dir, concKey }));
    const rCfg = ['--config', `${dir}/router.uci`];
    const cCfg = ['--config', `${dir}/conc.uci`];

    const dry = await agent(lab, 'router', ['apply', '--dry-run', ...rCfg]);
    check('apply --dry-run prints commands and changes nothing', dry.exitCode === 0 && dry.commands > 10 &&
      JSON.stringify(withoutEmptyIptables(await lab.dumpState('router'))) === JSON.stringify(beforeRouter), `${dry.commands} commands; ${firstLines(dry.stderr)}`);

    const c1 = await agent(lab, CONC.ns, ['apply', ...cCfg]);
    const r1 = await agent(lab, 'router', ['apply', ...rCfg]);
    check('first apply builds both ends', c1.exitCode === 0 && r1.exitCode === 0 && r1.commands > 10,
      `conc: ${c1.commands} ${firstLines(c1.stderr)}; router: ${r1.commands} ${firstLines(r1.stderr)}`);

    const handshakes = async () => {
      const o = await lab.execIsolated('router', ['wg', 'show', 'all', 'latest-handshakes'], { reject: false });
      return o.stdout.trim().split('\n').filter((l) => Number(l.split('\t')[2]) > 0).length;
    };
    const allUp = await until(async () => (await handshakes()) === site.links.length, 40_000, 1000);
    check('every link\'s WireGuard tunnel has a handshake', allUp, `${await handshakes()} of ${site.links.length}`);

    // Done-when 1: LAN client -> server, seen as the concentrator.
    let seen = '';
    await until(async () => (seen = await lab.whoami(site.lanNs).catch((e: Error) => e.message)) === CONC.address, 20_000, 1000);
    check('LAN client reaches the server with the concentrator\'s address as source', seen === CONC.address, `server saw ${seen}`);

    // Done-when 2: gretaps enslaved, MTU and MSS as computed.
    const links = JSON.parse((await lab.exec('router', ['ip', '-j', '-d', 'link', 'show'])).stdout) as { ifname: string; mtu: number; master?: string; linkinfo?: { info_kind?: string } }[];
    const gretaps = links.filter((l) => l.linkinfo?.info_kind === 'gretap' && /^wbg/.test(l.ifname));
    check('every gretap is a bond slave', gretaps.length === site.links.length && gretaps.every((g) => g.master === 'wbond'),
      gretaps.map((g) => `${g.ifname}->${g.master}`).join(' '));
    const bond = links.find((l) => l.ifname === 'wbond');
    check('bond MTU is 1500 - 60 (WireGuard) - 42 (gretap with key) = 1398', bond?.mtu === 1398, `mtu ${bond?.mtu}`);
    // The lab kernel's nftables does not work, so wanbond uses iptables there (nftables elsewhere).
    const fw = async (ns: string) => (await lab.exec(ns, ['iptables-legacy-save', '-t', 'mangle'], { reject: false })).stdout +
      (await lab.exec(ns, ['nft', 'list', 'table', 'inet', 'wanbond'], { reject: false })).stdout;
    const mss = /-o wbond .*--set-mss 1358|oifname "wbond" .*maxseg size set 1358/;
    const mssC = /-o wbd501 .*--set-mss 1358|oifname "wbd501" .*maxseg size set 1358/;
    const fwR = await fw('router');
    check('MSS is clamped to 1358 at both ends', mss.test(fwR) && mssC.test(await fw(CONC.ns)), firstLines(fwR, 12));

    // Done-when 3: one TCP download through the bond of three against one link through the same
    // stack (a config with links 2 and 3 disabled: the reconciler takes them out), and against
    // the bare modem (figure only: it has no tunnel overhead).
    const l0 = site.links[0]!;
    await lab.exec('router', ['ip', 'rule', 'add', 'from', l0.address, 'lookup', '5701', 'priority', '1500']);
    const bare = await lab.iperf('router', { seconds: 8, reverse: true, bind: l0.address, extra: ['-O', '2'] });
    await lab.exec('router', ['ip', 'rule', 'del', 'from', l0.address, 'lookup', '5701', 'priority', '1500']);
    // Both ends with link 1 only (the concentrator's bond would otherwise keep sending a share of
    // the download to the router's removed tunnels), then both back to three.
    const oneLink = `${dir}/router-one.uci`;
    const oneConc = `${dir}/conc-one.uci`;
    writeFileSync(oneLink, routerUci({ site: { ...site, links: [l0] }, dir, concKey }));
    writeFileSync(oneConc, concUci(dir, [{ name: 'home', subnet: '10.213.1.0/24', peers: peers.slice(0, 1) }]));
    const shrink = [await agent(lab, CONC.ns, ['apply', '--config', oneConc]), await agent(lab, 'router', ['apply', '--config', oneLink])];
    const single = await lab.iperf(site.lanNs, { seconds: 10, reverse: true, extra: ['-O', '2'] });
    const grow = [await agent(lab, CONC.ns, ['apply', ...cCfg]), await agent(lab, 'router', ['apply', ...rCfg])];
    await until(async () => (await handshakes()) === site.links.length, 40_000, 1000);
    const bonded = await lab.iperf(site.lanNs, { seconds: 12, reverse: true, extra: ['-O', '3'] });
    const ratio = bonded.bitsPerSecond / single.bitsPerSecond;
    figure('bare_link_mbit', Number((bare.bitsPerSecond / 1e6).toFixed(2)));
    figure('one_link_bond_mbit', Number((single.bitsPerSecond / 1e6).toFixed(2)));
    figure('three_link_bond_mbit', Number((bonded.bitsPerSecond / 1e6).toFixed(2)));
    figure('bond_over_single', Number(ratio.toFixed(2)));
    check('one TCP download through the bond of 3 is at least 2.4x one link', [...shrink, ...grow].every((x) => x.exitCode === 0) && ratio >= 2.4,
      `3 links ${(bonded.bitsPerSecond / 1e6).toFixed(2)} vs 1 link ${(single.bitsPerSecond / 1e6).toFixed(2)} Mbit/s = ${ratio.toFixed(2)}x (bare modem ${(bare.bitsPerSecond / 1e6).toFixed(2)}); shrink ${shrink.map((x) => x.commands)} cmds, grow ${grow.map((x) => x.commands)}`);

    // Done-when 5 (first half): a second apply runs nothing.
    const c2 = await agent(lab, CONC.ns, ['apply', ...cCfg]);
    const r2 = await agent(lab, 'router', ['apply', ...rCfg]);
    check('a second apply runs zero commands at both ends', c2.commands === 0 && r2.commands === 0,
      `conc ${c2.commands}: ${firstLines(c2.stdout)}; router ${r2.commands}: ${firstLines(r2.stdout)}`);

    // Done-when 6: kill -9 in the middle of an apply, then restart. The apply runs with an `ip`
    // first on its PATH that stops at the first gretap or bond it is asked to create, so the kill
    // always lands after the tunnels and before the bond, however fast the apply runs.
    await agent(lab, 'router', ['down']);
    const shimDir = `${dir}/stall-ip`;
    const stalled = `${shimDir}/stalled.pid`;
    const realIp = ['/usr/sbin/ip', '/sbin/ip', '/usr/bin/ip', '/bin/ip'].find((x) => existsSync(x))!;
    mkdirSync(shimDir, { recursive: true });
    writeFileSync(`${shimDir}/ip`, `#!/bin/sh\nfor a in "$@"; do case "$a" in gretap|bond) echo $$ > ${stalled}; exec sleep 600;; esac; done\nexec ${realIp} "$@"\n`, { mode: 0o755 });
    const p = lab.spawnIsolated('router', ['node', 'dist/wanbond.js', 'apply', ...rCfg], { env: { PATH: `${shimDir}:${process.env['PATH'] ?? ''}` } });
    const reached = await until(async () => existsSync(stalled), 120_000, 100);
    if (p.pid) process.kill(p.pid, 'SIGKILL');
    await p.exited;
    if (reached) process.kill(Number(readFileSync(stalled, 'utf8')), 'SIGKILL');
    const mid = (await lab.exec('router', ['ip', '-br', 'link'])).stdout;
    const partial = /wbl1/.test(mid) && !/wbond|wbg3p1/.test(mid);
    log(`after kill -9: ${mid.replace(/\s+/g, ' ')}`);
    const r3 = await agent(lab, 'router', ['apply', ...rCfg]);
    const r4 = await agent(lab, 'router', ['apply', ...rCfg]);
    const rules = JSON.parse((await lab.exec('router', ['ip', '-j', '-4', 'rule', 'show'])).stdout) as { priority: number }[];
    const ours = rules.filter((r) => r.priority >= 960 && r.priority <= 989);
    const routes = JSON.parse((await lab.exec('router', ['ip', '-j', '-4', 'route', 'show', 'table', 'all', 'proto', '87'])).stdout) as unknown[];
    // One tunnel per link: in the kernel's WireGuard, or one wireguard-go each (WANBOND_WG_USERSPACE=1).
    const tunnels = (JSON.parse((await lab.exec('router', ['ip', '-j', 'link', 'show'])).stdout) as { ifname: string }[]).filter((l) => /^wbl\d+$/.test(l.ifname)).length;
    const procs = Number((await lab.exec('router', ['pgrep', '-c', '-f', '^wireguard-go wbl'], { reject: false })).stdout.trim());
    const wantProcs = process.env['WANBOND_WG_USERSPACE'] === '1' ? site.links.length : 0;
    check('kill -9 mid-apply then restart converges without duplicates', reached && partial && r3.exitCode === 0 && r4.commands === 0 &&
      ours.length === 5 && new Set(ours.map((r) => JSON.stringify(r))).size === 5 && routes.length === 4 && tunnels === site.links.length && procs === wantProcs,
      `stalled=${reached} partial=${partial} restart ${r3.commands} cmds, again ${r4.commands}; ${ours.length} rules, ${routes.length} routes, ${tunnels} tunnels, ${procs} wireguard-go`);
    let back = '';
    await until(async () => (back = await lab.whoami(site.lanNs).catch((e: Error) => e.message)) === CONC.address, 30_000, 1000);
    check('after the crash repair the LAN reaches the server again', back === CONC.address, back);

    // Done-when 5 (second half): down leaves the namespaces as they were.
    const d1 = await agent(lab, 'router', ['down']);
    const d2 = await agent(lab, CONC.ns, ['down']);
    const afterRouter = withoutEmptyIptables(await lab.dumpState('router'));
    const afterConc = withoutEmptyIptables(await lab.dumpState(CONC.ns));
    check('down: router state identical to before wanbond started', d1.exitCode === 0 && JSON.stringify(afterRouter) === JSON.stringify(beforeRouter), `${firstLines(d1.stderr)}; ${stateDiff(beforeRouter, afterRouter)}`);
    check('down: concentrator state identical to before wanbond started', d2.exitCode === 0 && JSON.stringify(afterConc) === JSON.stringify(beforeConc), `${firstLines(d2.stderr)}; ${stateDiff(beforeConc, afterConc)}`);
    const left = (await lab.exec('router', ['pgrep', '-c', '-f', '^wireguard-go'], { reject: false })).stdout.trim();
    check('down stops every wireguard-go', left === '0', `${left} left`);
    await lab.destroy();
  });
}

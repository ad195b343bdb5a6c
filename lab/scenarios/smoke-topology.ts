// Lab smoke test, topology half: every namespace of both sites reaches what it should through each modem
// (and the carrier NAT), the server sees each modem's public address, netem shaping holds, a live
// cut stops traffic, and dumpState is stable. Usage: smoke-topology.ts [profile] [sites=2]
import { loadProfile } from '../profile.ts';
import { runScenario, log } from '../scenario.ts';
import { buildTopology } from '../topology.ts';

await runScenario(async ({ check, figure }) => {
  const profile = loadProfile(process.argv[2] ?? 'hetero-3');
  const t0 = Date.now();
  const lab = await buildTopology(profile, { sites: Number(process.argv[3] ?? 2) });
  figure('topology_build_s', (Date.now() - t0) / 1000);
  log(`topology built in ${((Date.now() - t0) / 1000).toFixed(1)} s`);
  const { server, conc } = lab;

  const mainRoutes = (await lab.exec('router', ['ip', '-j', 'route', 'show'])).stdout;
  check('router starts without a default route', !/"dst":"default"/.test(mainRoutes), mainRoutes.trim());
  const lanPing = await lab.ping('lan', server.address, 2);
  check('lan client has no path out before the stack', lanPing.received === 0, `${lanPing.received} replies`);
  const concPing = await lab.ping(conc.ns, server.address, 3);
  check('concentrator reaches the server', concPing.received > 0, `${concPing.received}/3`);
  const concSeen = await lab.whoami(conc.ns);
  check('server sees the concentrator as itself', concSeen === conc.address, concSeen);

  // Per-link policy routing, as the stack will do: source address -> that link's table.
  for (const site of lab.sites) {
    for (const l of site.links) {
      const table = String(100 + l.index + 1);
      await lab.exec(l.routerNs, ['ip', 'route', 'add', 'default', 'via', l.gateway, 'dev', l.device, 'table', table]);
      await lab.exec(l.routerNs, ['ip', 'rule', 'add', 'from', l.address, 'lookup', table, 'priority', String(1000 + l.index)]);
    }
  }
  for (const site of lab.sites) {
    for (const l of site.links) {
      const who = `${l.routerNs === 'router' ? '' : `${l.routerNs}'s `}${l.name}`;
      const p = await lab.ping(l.routerNs, server.address, 5, { bind: l.address });
      check(`${l.routerNs} reaches the server via ${l.name}`, p.received >= 4, `${p.received}/5 replies, rtt ${p.rttAvgMs} ms`);
      const minRtt = 2 * l.profile.delay_ms - 4 * l.profile.jitter_ms;
      // Generous above: netem's timers in UML fire late on a loaded host (seen: +25 %).
      const maxRtt = 3 * l.profile.delay_ms + 4 * l.profile.jitter_ms + 40;
      check(`${who} round trip follows the profile`, p.rttAvgMs !== null && p.rttAvgMs >= minRtt && p.rttAvgMs <= maxRtt,
        `rtt ${p.rttAvgMs} ms, expected ${minRtt}..${maxRtt}`);
      const seen = await lab.whoami(l.routerNs, { bind: l.address });
      check(`server sees ${who}'s public address`, seen === l.publicAddress, `seen ${seen}, expected ${l.publicAddress}`);
      if (l.cgnatNs) {
        const wan = (await lab.exec(l.modemNs, ['ip', '-4', '-br', 'addr', 'show', 'wan0'])).stdout;
        check(`${who} modem sits behind carrier-grade NAT`, /100\.64\./.test(wan) && seen !== l.modemWanAddress, wan.trim());
      }
    }
  }
  if (lab.sites.length > 1) {
    const one = new Set(lab.sites[0]!.links.map((l) => l.publicAddress));
    const two = lab.sites[1]!.links.map((l) => l.publicAddress);
    check('the second site reaches the internet from addresses of its own', two.every((a) => !one.has(a)), two.join(' '));
  }

  // Shaping: goodput through one modem against its configured rate.
  for (const l of lab.links) {
    const r = await lab.iperf('router', { seconds: 6, reverse: true, bind: l.address, extra: ['-O', '1'] });
    const ratio = r.bitsPerSecond / (l.profile.rate_down_kbit * 1000);
    figure(`${l.name}_down_ratio`, Number(ratio.toFixed(3)));
    check(`${l.name} download is shaped to ${l.profile.rate_down_kbit} kbit/s`, ratio >= 0.7 && ratio <= 1.05,
      `${(r.bitsPerSecond / 1e6).toFixed(2)} Mbit/s = ${ratio.toFixed(2)} x`);
  }
  const l0 = lab.links[0]!;
  const upR = await lab.iperf('router', { seconds: 6, bind: l0.address, extra: ['-O', '1'] });
  const upRatio = upR.bitsPerSecond / (l0.profile.rate_up_kbit * 1000);
  figure(`${l0.name}_up_ratio`, Number(upRatio.toFixed(3)));
  check(`${l0.name} upload is shaped to ${l0.profile.rate_up_kbit} kbit/s`, upRatio >= 0.7 && upRatio <= 1.05,
    `${(upR.bitsPerSecond / 1e6).toFixed(2)} Mbit/s = ${upRatio.toFixed(2)} x`);

  // A live cut and its repair.
  const before = await lab.dumpState('router');
  await lab.setLink(0, { loss_pct: 100 });
  const cut = await lab.ping('router', server.address, 5, { bind: l0.address });
  check(`a cut of ${l0.name} stops its traffic`, cut.received === 0, `${cut.received}/5 replies`);
  const other = await lab.ping('router', server.address, 3, { bind: lab.links[1]!.address });
  check('the other links carry on during the cut', other.received >= 2, `${other.received}/3 replies`);
  await lab.resetLink(0);
  const back = await lab.ping('router', server.address, 5, { bind: l0.address });
  check(`${l0.name} carries traffic again after the cut`, back.received >= 4, `${back.received}/5 replies`);
  const after = await lab.dumpState('router');
  check('dumpState is stable across unrelated changes', JSON.stringify(before) === JSON.stringify(after));
  await lab.exec('router', ['ip', 'rule', 'add', 'to', '192.0.2.1', 'lookup', '999', 'priority', '999']);
  const changed = await lab.dumpState('router');
  check('dumpState sees a new rule', JSON.stringify(changed) !== JSON.stringify(after));

  await lab.destroy();
  const left = (await import('execa')).execa('ip', ['netns', 'list']);
  const leftOut = (await left).stdout.trim();
  check('destroy removes every namespace', leftOut === '', leftOut);
});

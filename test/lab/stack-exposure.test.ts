// What the internet can reach (README, Security): the concentrator accepts only peers it knows
// and opens only its WireGuard port; what wanbond listens on (the health port, on tunnel
// addresses) or decapsulates (GRE to its gretaps) is taken only from its own tunnels, at both ends.
// The internet server plays an attacker upstream of each end: its core router delivers the
// tunnel subnet to the concentrator's public interface, and modem 3 (no carrier NAT) forwards
// UDP 5790 and GRE to the router's tunnel address. It sends probe-format UDP and GRE carrying a
// frame for each end's bond. The receivers are the health channel's own ProbeSocket and
// GarbageCounter, bound where the agent binds them, and a UDP sink on each bond address
// (test/lab/exposure-listener.ts). One lab boot.
import { fileURLToPath } from 'node:url';
import { agent, configureOneSite, firstLines, inGuest, labTest, until, SCRATCH } from './stack-lib.ts';

const FILE = fileURLToPath(import.meta.url);

if (!inGuest()) {
  labTest(FILE, 'stack exposure: only configured peers, only the WireGuard port, nothing of wanbond\'s from outside its tunnels', 420);
} else {
  const { readFileSync } = await import('node:fs');
  const { runScenario, log } = await import('../../lab/scenario.ts');
  const { loadProfile } = await import('../../lab/profile.ts');
  const { buildTopology, CONC } = await import('../../lab/topology.ts');
  const { linkAddresses, siteAddresses, siteBond, routerWg } = await import('../../src/plan/addressing.ts');
  type Spawned = ReturnType<Awaited<ReturnType<typeof buildTopology>>['spawn']>;

  await runScenario(async ({ check }) => {
    const lab = await buildTopology(loadProfile('default'));
    const site = lab.sites[0]!;
    const subnet = '10.213.1.0/24'; // configureOneSite's
    const bonds = siteAddresses(subnet);
    const wan = site.links[2]!; // modem 3: a public address of its own, no carrier NAT
    if (wan.cgnatNs) throw new Error('the default profile\'s third modem was expected without carrier NAT');
    const cl = linkAddresses(subnet, 1); // the concentrator listens on link 1's address
    const rl = linkAddresses(subnet, wan.index + 1); // the router on link 3's
    const SINK = 5799;
    const dir = `${SCRATCH}/exposure`;
    const cfg = await configureOneSite(lab, dir);

    const c1 = await agent(lab, CONC.ns, ['apply', '--config', cfg.conc]);
    const r1 = await agent(lab, 'router', ['apply', '--config', cfg.router]);
    let who = '';
    await until(async () => (who = await lab.whoami(site.lanNs).catch((e: Error) => e.message)) === CONC.address, 60_000, 1000);
    check('the stack is up: the LAN reaches the server through the bond (GRE inside the tunnels works)',
      c1.exitCode === 0 && r1.exitCode === 0 && who === CONC.address, `server saw ${who}; ${firstLines(c1.stderr, 3)} / ${firstLines(r1.stderr, 3)}`);
    const c2 = await agent(lab, CONC.ns, ['apply', '--config', cfg.conc]);
    const r2 = await agent(lab, 'router', ['apply', '--config', cfg.router]);
    check('with the input guard, a second apply still runs zero commands at both ends', c2.commands === 0 && r2.commands === 0,
      `conc ${c2.commands}, router ${r2.commands}: ${firstLines(c2.stdout + r2.stdout, 4)}`);

    // wg: exactly the configured peers, the one listening port.
    const configured = [...readFileSync(cfg.conc, 'utf8').matchAll(/list peer '\d+:\w+:([^']+)'/g)].map((m) => m[1]!).sort();
    const concKey = /option public_key '([^']+)'/.exec(readFileSync(cfg.router, 'utf8'))![1]!;
    const wg = async (ns: string, ...args: string[]) => (await lab.execIsolated(ns, ['wg', 'show', ...args], { reject: false })).stdout.trim();
    const concPeers = (await wg(CONC.ns, 'wb0', 'peers')).split('\n').sort();
    const routerPeers = await Promise.all(site.links.map((l) => wg('router', routerWg(l.index + 1), 'peers')));
    const interfaces = (await wg(CONC.ns, 'interfaces')).split(/\s+/);
    check('wg show lists only the configured peers (concentrator: one per router link; router: the concentrator on each tunnel)',
      JSON.stringify(concPeers) === JSON.stringify(configured) && routerPeers.every((p) => p === concKey) && JSON.stringify(interfaces) === '["wb0"]',
      `concentrator ${interfaces.join(',')}: ${concPeers.length} peers (${configured.length} configured); router: ${routerPeers.map((p) => p.split('\n').length).join(',')}`);

    const ports = (await lab.exec(CONC.ns, ['ss', '-Hlnu'])).stdout.trim().split('\n').filter(Boolean).map((l) => l.split(/\s+/)[3]!.replace(/^.*:/, ''));
    const tcp = (await lab.exec(CONC.ns, ['ss', '-Hlnt'])).stdout.trim();
    const listenPort = await wg(CONC.ns, 'wb0', 'listen-port');
    check('the concentrator listens on its WireGuard port and nothing else', listenPort === '51820' && ports.every((p) => p === '51820') && tcp === '',
      `wg port ${listenPort}; udp ${ports.join(',') || '(kernel sockets not listed)'}; tcp ${tcp || 'none'}`);

    // Receivers at both ends.
    const listen = (ns: string, l: { conc: string; router: string }, local: 'conc' | 'router', id: number, bondAddr: string): Spawned =>
      lab.spawn(ns, ['node', '--import', 'tsx', 'test/lab/exposure-listener.ts', l[local], l[local === 'conc' ? 'router' : 'conc'], String(id), bondAddr, String(SINK)]);
    const concL = listen(CONC.ns, cl, 'conc', 1, bonds.bondConc);
    const routerL = listen('router', rl, 'router', wan.index + 1, bonds.bondRouter);
    type Event = { ready?: boolean; garbage?: Record<string, number>; sink?: string; from?: string };
    const parse = (l: string): Event[] => {
      try {
        return [JSON.parse(l) as Event];
      } catch {
        return []; // a line still being written
      }
    };
    const events = (p: Spawned) => p.output().split('\n').filter((l) => l.startsWith('{')).flatMap(parse);
    const garbage = (p: Spawned) => Object.values(events(p).filter((e) => e.garbage).at(-1)?.garbage ?? {}).reduce((a, b) => a + b, 0);
    const sinks = (p: Spawned) => events(p).filter((e) => e.sink).map((e) => `${e.sink} from ${e.from}`);
    const state = () => `conc: garbage ${garbage(concL)}, bond got [${sinks(concL).join('; ')}]; router: garbage ${garbage(routerL)}, bond got [${sinks(routerL).join('; ')}]`;
    const ready = await until(async () => events(concL).some((e) => e.ready) && events(routerL).some((e) => e.ready), 60_000, 500);
    if (!ready) throw new Error(`listeners did not start: ${concL.output().slice(-500)} / ${routerL.output().slice(-500)}`);

    const udp = (ns: string, host: string, port: number, payload: string) =>
      lab.exec(ns, ['bash', '-c', 'printf %s "$1" > "/dev/udp/$2/$3"', 'udp', payload, host, String(port)], { reject: false });
    const probe = (link: number) => JSON.stringify({ v: 1, t: 'probe', link, seq: 7, ts: 1 });

    // Through the tunnels and the bond: a probe for a link it is not (counted as garbage: it
    // reached the socket) and a datagram to the other end's bond address.
    await udp('router', cl.conc, 5790, probe(9));
    await udp(CONC.ns, rl.router, 5790, probe(9));
    await udp('router', bonds.bondConc, SINK, 'via the bond');
    await udp(CONC.ns, bonds.bondRouter, SINK, 'via the bond');
    const through = await until(async () => garbage(concL) === 1 && garbage(routerL) === 1 && sinks(concL).length === 1 && sinks(routerL).length === 1, 20_000, 500);
    check('through the tunnels, probes reach the health socket and datagrams the bond, at both ends', through, state());

    // The attacker's side.
    const LOCAL = '192.0.2.66';
    const setup: string[][] = [
      ['core', 'ip', 'route', 'add', subnet, 'via', CONC.address],
      [wan.modemNs, 'ip', 'route', 'add', `${rl.router}/32`, 'via', wan.address],
      [wan.modemNs, 'iptables-legacy', '-w', '-t', 'nat', '-I', 'PREROUTING', '-i', 'wan0', '-p', 'udp', '--dport', '5790', '-j', 'DNAT', '--to-destination', rl.router],
      [wan.modemNs, 'iptables-legacy', '-w', '-t', 'nat', '-I', 'PREROUTING', '-i', 'wan0', '-p', 'gre', '-j', 'DNAT', '--to-destination', rl.router],
    ];
    const mac = async (ns: string, dev: string) => (JSON.parse((await lab.exec(ns, ['ip', '-j', 'link', 'show', 'dev', dev])).stdout) as { address: string }[])[0]!.address;
    const concMac = await mac(CONC.ns, siteBond(subnet));
    const routerMac = await mac('router', 'wbond');
    // Server gretaps that look like the other end's gretap of that link (same addresses and key).
    const srv = [
      `addr add ${LOCAL}/32 dev lo`, `addr add ${cl.router}/32 dev lo`, `addr add ${rl.conc}/32 dev lo`,
      `link add xc type gretap local ${cl.router} remote ${cl.conc} key 1`, 'link set xc addrgenmode none', 'link set xc up',
      `route add ${bonds.bondConc}/32 dev xc src ${LOCAL}`, `neigh replace ${bonds.bondConc} lladdr ${concMac} dev xc nud permanent`,
      `link add xr type gretap local ${rl.conc} remote ${wan.publicAddress} key 1`, 'link set xr addrgenmode none', 'link set xr up',
      `route add ${bonds.bondRouter}/32 dev xr src ${LOCAL}`, `neigh replace ${bonds.bondRouter} lladdr ${routerMac} dev xr nud permanent`,
    ];
    for (const [ns, ...argv] of setup) await lab.exec(ns!, argv);
    await lab.exec('server', ['ip', '-batch', '-'], { input: srv.join('\n') + '\n' });

    const attack = async () => {
      await udp('server', CONC.address, 5790, probe(1)); // the public address: nothing of wanbond's there
      await udp('server', cl.conc, 5790, probe(1)); // the tunnel address, through the public interface
      await udp('server', wan.publicAddress, 5790, probe(wan.index + 1)); // the router's public WAN, forwarded
      await udp('server', bonds.bondConc, SINK, 'GRE from the internet'); // in GRE to the concentrator's gretap
      await udp('server', bonds.bondRouter, SINK, 'GRE from the internet'); // in GRE to the router's, forwarded
    };
    const dropped = async (ns: string): Promise<number> => {
      const n = await lab.exec(ns, ['nft', 'list', 'chain', 'inet', 'wanbond', 'input'], { reject: false });
      if (n.exitCode === 0) return [...n.stdout.matchAll(/counter packets (\d+)/g)].reduce((a, m) => a + Number(m[1]), 0);
      const i = await lab.exec(ns, ['iptables-legacy', '-w', '-nvxL', 'WANBOND_IN'], { reject: false });
      return i.stdout.split('\n').filter((l) => /\sDROP\s/.test(l)).reduce((a, l) => a + Number(l.trim().split(/\s+/)[0]), 0);
    };
    const before = [await dropped(CONC.ns), await dropped('router')];
    await attack();
    await new Promise((r) => setTimeout(r, 3000));
    const after = [await dropped(CONC.ns), await dropped('router')];
    log(`guard counters before ${before} after ${after}; ${state()}`);
    check('from the internet, probes and GRE reach neither end\'s health socket nor bond', garbage(concL) === 1 && garbage(routerL) === 1 &&
      sinks(concL).length === 1 && sinks(routerL).length === 1, state());
    check('the input guard counted them (a probe and a GRE packet at each end)', after[0]! - before[0]! >= 2 && after[1]! - before[1]! >= 2,
      `concentrator ${after[0]! - before[0]!}, router ${after[1]! - before[1]!}`);

    // Without the guard the same packets do get in: the attack is real, and the checks above can fail.
    for (const ns of [CONC.ns, 'router']) {
      const f = await lab.exec(ns, ['nft', 'flush', 'chain', 'inet', 'wanbond', 'input'], { reject: false });
      if (f.exitCode !== 0) await lab.exec(ns, ['iptables-legacy', '-w', '-F', 'WANBOND_IN']);
    }
    await attack();
    const open = await until(async () => garbage(concL) === 2 && garbage(routerL) === 2 &&
      sinks(concL).some((s) => s.startsWith('GRE')) && sinks(routerL).some((s) => s.startsWith('GRE')), 15_000, 500);
    check('without the guard the same packets reach the health socket and the bond at both ends', open, state());

    await concL.stop();
    await routerL.stop();
    await agent(lab, 'router', ['down']);
    await agent(lab, CONC.ns, ['down']);
    await lab.destroy();
  });
}

// Pairing and several sites on a real kernel (issue 3, Done-when 7 and 8): two routers paired
// from configs that hold only their links, against a concentrator with no config at all; bad
// tokens refused without a trace; both sites online at once and unable to reach each other.
import { statSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { agent, inGuest, labTest, until, firstLines, SCRATCH } from './stack-lib.ts';

const FILE = fileURLToPath(import.meta.url);

if (!inGuest()) {
  labTest(FILE, 'stack sites: pairing round trip, bad tokens refused, two isolated sites', 600);
} else {
  const { existsSync, readFileSync, writeFileSync, mkdirSync } = await import('node:fs');
  const { runScenario } = await import('../../lab/scenario.ts');
  const { loadProfile } = await import('../../lab/profile.ts');
  const { buildTopology, CONC } = await import('../../lab/topology.ts');

  await runScenario(async ({ check }) => {
    const lab = await buildTopology(loadProfile('default'), { sites: 2 });
    const dir = `${SCRATCH}/sites`;
    mkdirSync(dir, { recursive: true });
    const conc = `${dir}/conc.uci`;
    const cState = `${dir}/conc-pair.json`;
    const routerFile = (i: number) => `${dir}/router${i}.uci`;
    // Only the links, as a user would write them before pairing (disabled until paired).
    for (const s of lab.sites) {
      writeFileSync(routerFile(s.index), s.links.map((l) => [`config link '${l.name}'`, `\toption id '${l.index + 1}'`, `\toption device '${l.device}'`,
        `\toption gateway '${l.gateway}'`, `\toption private_key_file '${dir}/r${s.index}/${l.name}.key'`, ''].join('\n')).join('\n'));
    }
    const r = (i: number, args: string[]) => agent(lab, lab.sites[i - 1]!.routerNs, [...args, '--config', routerFile(i), '--state', `${dir}/r${i}-pair.json`]);
    const c = (args: string[]) => agent(lab, CONC.ns, [...args, '--config', conc, '--state', cState]);

    const p1 = await r(1, ['pair', '--site', 'home']);
    const t1 = p1.stdout.trim();
    check('wanbond pair prints one token and makes 0600 keys', p1.exitCode === 0 && /^[A-Za-z0-9_-]{100,}$/.test(t1) &&
      lab.sites[0]!.links.every((l) => (statSync(`${dir}/r1/${l.name}.key`).mode & 0o777) === 0o600), firstLines(p1.stderr));

    const mid = Math.floor(t1.length / 2);
    const tampered = t1.slice(0, mid) + (t1[mid] === 'A' ? 'B' : 'A') + t1.slice(mid + 1);
    const bad1 = await c(['site', 'add', tampered]);
    const bad2 = await c(['site', 'add', t1.slice(0, -10)]);
    check('a tampered or truncated token is refused and writes nothing', bad1.exitCode === 1 && bad2.exitCode === 1 && !existsSync(conc) &&
      /checksum|damaged|not a valid/.test(bad1.stderr) && /damaged|truncated|checksum/.test(bad2.stderr), `${firstLines(bad1.stderr)} / ${firstLines(bad2.stderr)}`);

    const a1 = await c(['site', 'add', t1]);
    const reply1 = a1.stdout.trim();
    check('site add on an empty concentrator writes the site and prints a reply', a1.exitCode === 0 && /^[A-Za-z0-9_-]{100,}$/.test(reply1) &&
      /config site 'home'/.test(readFileSync(conc, 'utf8')), firstLines(a1.stderr));
    const before = readFileSync(conc, 'utf8');
    const again = await c(['site', 'add', t1]);
    check('a replayed pairing token is refused and changes nothing', again.exitCode === 1 && /used already/.test(again.stderr) && readFileSync(conc, 'utf8') === before, firstLines(again.stderr));

    const acc1 = await r(1, ['pair', '--accept', reply1]);
    const acc1b = await r(1, ['pair', '--accept', reply1]);
    check('pair --accept completes the router; a replayed reply is refused', acc1.exitCode === 0 && acc1b.exitCode === 1 && /used already/.test(acc1b.stderr),
      `${firstLines(acc1.stderr)} / ${firstLines(acc1b.stderr)}`);

    const t2 = (await r(2, ['pair', '--site', 'shop'])).stdout.trim();
    const reply2 = (await c(['site', 'add', t2])).stdout.trim();
    const acc2 = await r(2, ['pair', '--accept', reply2]);
    check('a second site pairs with the next subnet', acc2.exitCode === 0 && /10\.213\.2\.0\/24/.test(acc2.stderr), firstLines(acc2.stderr));

    // Site 1 routes its LAN instead of NATing it, so the isolation check below has a real target.
    writeFileSync(conc, readFileSync(conc, 'utf8').replace(/config site 'home'\n/, `config site 'home'\n\tlist lan '${lab.sites[0]!.lanSubnet}'\n`));
    writeFileSync(routerFile(1), readFileSync(routerFile(1), 'utf8').replace(/config globals\n/, "config globals\n\toption nat '0'\n"));

    const ca = await c(['apply']);
    const r1a = await r(1, ['apply']);
    const r2a = await r(2, ['apply']);
    check('paired configs bring the stack up at all three', ca.exitCode === 0 && r1a.exitCode === 0 && r2a.exitCode === 0,
      [ca, r1a, r2a].map((x) => firstLines(x.stderr, 3)).join(' / '));

    const who = async (ns: string) => lab.whoami(ns).catch((e: Error) => e.message);
    let w: string[] = [];
    await until(async () => (w = await Promise.all([who(lab.sites[0]!.lanNs), who(lab.sites[1]!.lanNs)])).every((x) => x === CONC.address), 45_000, 1000);
    check('both sites reach the server at the same time, seen as the concentrator', w.every((x) => x === CONC.address), w.join(' / '));

    const lan1 = lab.sites[0]!.lanAddress;
    const fromConc = await lab.ping(CONC.ns, lan1, 3);
    const fromSite2 = await lab.ping(lab.sites[1]!.lanNs, lan1, 3);
    const toBond1 = await lab.ping(lab.sites[1]!.lanNs, '10.213.1.2', 2);
    check('site 2 cannot reach site 1\'s LAN (which the concentrator itself can reach)', fromConc.received >= 2 && fromSite2.received === 0 && toBond1.received === 0,
      `concentrator ${fromConc.received}/3, site 2 ${fromSite2.received}/3, site 2 -> site 1 bond ${toBond1.received}/2`);
    await lab.destroy();
  });

}

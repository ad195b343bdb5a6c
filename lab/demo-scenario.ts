// What `make demo` shows, run inside the lab: three emulated modems and their speeds, then the
// bond at work (per-link status, a download through the bond beside the best single link, a
// modem cut during a download). Usage: demo-scenario.ts [profile=default]
import { existsSync } from 'node:fs';
import { loadProfile } from './profile.ts';
import { writeResult } from './scenario.ts';
import { buildTopology, type Lab, type LabLink } from './topology.ts';

const say = (s = ''): void => console.log(s);
const mbit = (bps: number): string => (bps / 1e6).toFixed(2);
const pad = (s: string | number, n: number): string => String(s).padEnd(n);

interface DemoStack {
  /** `wanbond status` as the router's user sees it. */
  status(): Promise<string>;
  /** Namespace and address that download through the bond (normally the LAN client). */
  clientNs: string;
  stop(): Promise<void>;
}

// ============================================================================================
// HOOK (stack): starts the agents as on the devices (`wanbond run --config <uci file>` in router
// and conc, each with its own /var/run/wireguard and /var/run/wanbond), with the keys and UCI
// files the stack's lab tests write (test/lab/stack-lib.ts), and waits until the LAN client's
// traffic leaves the internet from the concentrator's address. Returns null when there is no
// agent bundle, a string saying why when the stack did not come up.
// ============================================================================================
async function startStack(lab: Lab): Promise<DemoStack | string | null> {
  const { AGENT, SCRATCH, configureOneSite, until } = await import('../test/lab/stack-lib.ts');
  if (!existsSync(AGENT)) return null;
  const cfg = await configureOneSite(lab, `${SCRATCH}/demo`);
  const conc = lab.spawnIsolated(lab.conc.ns, ['node', AGENT, 'run', '--config', cfg.conc]);
  const router = lab.spawnIsolated('router', ['node', AGENT, 'run', '--config', cfg.router]);
  const stop = async (): Promise<void> => {
    await Promise.all([router.stop(), conc.stop()]);
    await lab.execIsolated('router', ['node', AGENT, 'down'], { reject: false, timeoutMs: 60_000 });
    await lab.execIsolated(lab.conc.ns, ['node', AGENT, 'down'], { reject: false, timeoutMs: 60_000 });
  };
  say('starting wanbond on the router and the concentrator...');
  const t0 = Date.now();
  const up = await until(async () => (await lab.whoami('lan').catch(() => '')) === lab.conc.address, 120_000, 1000);
  if (!up) {
    say('the stack did not come up; the agents said:');
    say(router.output().split('\n').slice(-10).join('\n'));
    say(conc.output().split('\n').slice(-10).join('\n'));
    await stop();
    return 'the stack did not come up within 120 s';
  }
  say(`the LAN reaches the internet through the bond after ${((Date.now() - t0) / 1000).toFixed(0)} s (the server sees ${lab.conc.address})`);
  say();
  return {
    clientNs: 'lan',
    status: async () => (await lab.execIsolated('router', ['node', AGENT, 'status'], { reject: false })).stdout,
    stop,
  };
}

async function pinLinks(lab: Lab): Promise<void> {
  for (const l of lab.links) {
    const table = String(200 + l.index);
    await lab.exec('router', ['ip', 'route', 'replace', 'default', 'via', l.gateway, 'dev', l.device, 'table', table]);
    await lab.exec('router', ['ip', 'rule', 'add', 'from', l.address, 'lookup', table, 'priority', String(900 + l.index)]);
  }
}

async function unpinLinks(lab: Lab): Promise<void> {
  for (const l of lab.links) {
    await lab.exec('router', ['ip', 'rule', 'del', 'from', l.address, 'priority', String(900 + l.index)], { reject: false });
    await lab.exec('router', ['ip', 'route', 'flush', 'table', String(200 + l.index)], { reject: false });
  }
}

async function main(): Promise<void> {
  const profile = loadProfile(process.argv[2] ?? 'default');
  const t0 = Date.now();
  const lab = await buildTopology(profile);
  say(`lab ready in ${((Date.now() - t0) / 1000).toFixed(1)} s: LAN client, router, ${lab.links.length} modems, carrier NAT, internet, concentrator ${lab.conc.address}, server ${lab.server.address}`);
  say();

  // Each modem alone, all at once (they are independent links).
  await pinLinks(lab);
  const speeds = await Promise.all(lab.links.map((l) =>
    lab.iperf('router', { seconds: 4, reverse: true, bind: l.address, extra: ['-O', '1'] })));
  await unpinLinks(lab);
  say('modem      link  gateway         seen by the internet  configured down/up, delay     measured down');
  lab.links.forEach((l: LabLink, i) => {
    const p = l.profile;
    say(`${pad(l.modemNs, 11)}${pad(l.name, 6)}${pad(l.gateway, 16)}${pad(l.publicAddress + (l.cgnatNs ? ' (CGNAT)' : ''), 22)}` +
      `${pad(`${p.rate_down_kbit / 1000}/${p.rate_up_kbit / 1000} Mbit/s, ${p.delay_ms} ms`, 30)}${mbit(speeds[i]!.bitsPerSecond)} Mbit/s`);
  });
  const best = Math.max(...speeds.map((s) => s.bitsPerSecond));
  const sum = profile.links.reduce((a, l) => a + l.rate_down_kbit * 1000, 0);
  say();

  const stack = await startStack(lab);
  if (!stack || typeof stack === 'string') {
    say(stack ?? 'There is no agent bundle (dist/wanbond.js): run `make build`.');
    say(`Best single link: ${mbit(best)} Mbit/s of ${mbit(sum)} Mbit/s the modems have together.`);
    writeResult({ best_link_bps: best, sum_bps: sum, bond_bps: null, error: stack ?? 'no agent' });
    await lab.destroy();
    process.exitCode = 1;
    return;
  }

  say('$ wanbond status');
  say((await stack.status()).trimEnd());
  say();
  const bond = await lab.iperf(stack.clientNs, { seconds: 8, reverse: true, extra: ['-O', '1'] });
  say(`one TCP download from the internet, 8 s:`);
  say(`  best single link   ${mbit(best)} Mbit/s`);
  say(`  through the bond   ${mbit(bond.bitsPerSecond)} Mbit/s  (${(bond.bitsPerSecond / best).toFixed(2)} x the best link, ${(100 * bond.bitsPerSecond / sum).toFixed(0)} % of the sum)`);
  say();

  const victim = lab.links[0]!;
  say(`cutting ${victim.modemNs} (${victim.name}) 3 s into a 12 s download...`);
  const during = lab.iperf(stack.clientNs, { seconds: 12, reverse: true });
  await new Promise((r) => setTimeout(r, 3000));
  await lab.setLink(victim, { loss_pct: 100 });
  const cut = await during;
  say(`  the download ${cut.bitsPerSecond > 0 ? 'carried on' : 'DIED'}: ${mbit(cut.bitsPerSecond)} Mbit/s on average over 12 s`);
  say();
  say('$ wanbond status');
  say((await stack.status()).trimEnd());
  writeResult({ best_link_bps: best, sum_bps: sum, bond_bps: bond.bitsPerSecond, cut_bps: cut.bitsPerSecond });
  await stack.stop();
  await lab.destroy();
}

main().then(() => process.exit(process.exitCode ?? 0), (e: unknown) => {
  console.error(`demo failed: ${(e as Error).stack ?? String(e)}`);
  process.exit(1);
});

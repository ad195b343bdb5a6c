// Lab smoke test, tunnel half: wireguard-go runs in router and conc side by side (same interface
// names, each namespace with its own /var/run/wireguard), one WireGuard tunnel per modem (the
// second through carrier-grade NAT), a gretap inside each, and a balance-rr bond of the two
// gretaps carries traffic over both. This is the data plane the stack builds, by hand.
import { buildManualBond } from '../manual-bond.ts';
import { loadProfile } from '../profile.ts';
import { runScenario, log } from '../scenario.ts';
import { buildTopology, type Lab } from '../topology.ts';

async function txPackets(lab: Lab, ns: string, dev: string): Promise<number> {
  const j = JSON.parse((await lab.exec(ns, ['ip', '-j', '-s', 'link', 'show', dev])).stdout) as
    Array<{ stats64?: { tx?: { packets?: number } } }>;
  return j[0]?.stats64?.tx?.packets ?? 0;
}

const sortedWords = (s: string): string => s.trim().split(/\s+/).sort().join(' ');

await runScenario(async ({ check, figure }) => {
  const t0 = Date.now();
  const lab = await buildTopology(loadProfile(process.argv[2] ?? 'default'));
  figure('topology_build_s', (Date.now() - t0) / 1000);
  log(`topology built in ${((Date.now() - t0) / 1000).toFixed(1)} s`);
  const { conc } = lab;
  const t1 = Date.now();
  const bond = await buildManualBond(lab, lab.links.slice(0, 2));
  figure('tunnels_and_bond_s', (Date.now() - t1) / 1000);
  log(`tunnels and bond up in ${((Date.now() - t1) / 1000).toFixed(1)} s`);

  const shared = (await lab.exec('router', ['wg', 'show', 'interfaces'], { reject: false })).stdout.trim();
  const own = sortedWords((await lab.execIsolated('router', ['wg', 'show', 'interfaces'])).stdout);
  check('each namespace has its own /var/run/wireguard', shared === '' && own === 'wg1 wg2', `shared "${shared}", isolated "${own}"`);
  const concIfs = sortedWords((await lab.execIsolated(conc.ns, ['wg', 'show', 'interfaces'])).stdout);
  check('conc runs its own wireguard-go instances', concIfs === 'wg1 wg2', concIfs);

  for (const t of bond.tunnels) {
    const l = t.link;
    const p = await lab.ping('router', t.concTunnel, 5);
    check(`wireguard-go tunnel over ${l.name}${l.cgnatNs ? ' (through carrier NAT)' : ''} carries traffic`, p.received >= 4, `${p.received}/${p.sent}`);
    const dump = (await lab.execIsolated(conc.ns, ['wg', 'show', t.wg, 'endpoints'])).stdout.trim();
    check(`conc sees ${t.wg}'s peer at ${l.publicAddress}`, dump.includes(`${l.publicAddress}:`), dump);
  }

  const tx0 = await Promise.all(bond.tunnels.map((t) => txPackets(lab, 'router', t.gretap)));
  const bp = await lab.ping('router', bond.concAddress, 20);
  check('the bond of two gretaps passes traffic', bp.received >= 16, `${bp.received}/${bp.sent}, rtt ${bp.rttAvgMs} ms`);
  const tx1 = await Promise.all(bond.tunnels.map((t) => txPackets(lab, 'router', t.gretap)));
  const sent = tx1.map((v, i) => v - tx0[i]!);
  check('balance-rr sends over both gretaps', sent.every((v) => v >= 5), `gretap tx packets: ${sent.join(', ')}`);

  // Throughput through the bond (a figure; the bench measures): conc runs its own iperf3 server.
  lab.spawn(conc.ns, ['iperf3', '-s', '-p', '5301']);
  await new Promise((r) => setTimeout(r, 1000));
  const ip = await lab.iperf('router', { server: bond.concAddress, port: 5301, seconds: 6, reverse: true, extra: ['-O', '1'] });
  figure('bond2_download_mbit', Number((ip.bitsPerSecond / 1e6).toFixed(2)));
  check('a TCP download runs through the bond', ip.bitsPerSecond > 0.1e6, `${(ip.bitsPerSecond / 1e6).toFixed(2)} Mbit/s`);
  await lab.destroy();
});

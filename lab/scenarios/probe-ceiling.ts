// Measures what the lab itself can carry (no assertions on speed): TCP through a modem, through a
// wireguard-go tunnel, through gretap-in-wireguard, and through a bond of two. Usage:
// probe-ceiling.ts [profile=fast-2] [seconds=6]
import { buildManualBond } from '../manual-bond.ts';
import { loadProfile } from '../profile.ts';
import { runScenario, log } from '../scenario.ts';
import { buildTopology } from '../topology.ts';

await runScenario(async ({ check, figure }) => {
  const seconds = Number(process.argv[3] ?? 6);
  const lab = await buildTopology(loadProfile(process.argv[2] ?? 'fast-2'));
  const l0 = lab.links[0]!;
  const mbit = (bps: number): number => Number((bps / 1e6).toFixed(2));
  await lab.exec('router', ['ip', 'route', 'add', 'default', 'via', l0.gateway, 'dev', l0.device, 'table', '200']);
  await lab.exec('router', ['ip', 'rule', 'add', 'from', l0.address, 'lookup', '200', 'priority', '900']);
  const direct = await lab.iperf('router', { seconds, reverse: true, bind: l0.address, extra: ['-O', '1'] });
  figure('modem1_direct_mbit', mbit(direct.bitsPerSecond));
  log(`through modem1: ${mbit(direct.bitsPerSecond)} Mbit/s`);
  const bond = await buildManualBond(lab, lab.links.slice(0, 2));
  lab.spawn(lab.conc.ns, ['iperf3', '-s', '-p', '5301']);
  await new Promise((r) => setTimeout(r, 1000));
  const t = bond.tunnels[0]!;
  const wg = await lab.iperf('router', { server: t.concTunnel, port: 5301, seconds, reverse: true, extra: ['-O', '1'] });
  figure('wg1_mbit', mbit(wg.bitsPerSecond));
  log(`through wg1: ${mbit(wg.bitsPerSecond)} Mbit/s`);
  const b = await lab.iperf('router', { server: bond.concAddress, port: 5301, seconds, reverse: true, extra: ['-O', '1'] });
  figure('bond2_mbit', mbit(b.bitsPerSecond));
  log(`through the bond of 2: ${mbit(b.bitsPerSecond)} Mbit/s`);
  const b8 = await lab.iperf('router', { server: bond.concAddress, port: 5301, seconds, reverse: true, parallel: 4, extra: ['-O', '1'] });
  figure('bond2_4flows_mbit', mbit(b8.bitsPerSecond));
  log(`through the bond of 2, 4 flows: ${mbit(b8.bitsPerSecond)} Mbit/s`);
  check('measured', true);
  await lab.destroy();
});

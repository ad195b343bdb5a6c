// Lab smoke test, tunnel half: wireguard-go runs in router and conc side by side (same interface
// names, each namespace with its own /var/run/wireguard), one WireGuard tunnel per modem (the
// second through carrier-grade NAT), a gretap inside each, and a balance-rr bond of the two
// gretaps carries traffic over both. This is the data plane the stack builds, by hand.
import { runScenario, log } from '../scenario.ts';
import { loadProfile } from '../profile.ts';
import { buildTopology, type Lab, type LabLink } from '../topology.ts';

const WG_PORT_BASE = 51820;

async function waitFor(what: string, fn: () => Promise<boolean>, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await fn())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 200));
  }
}

async function keypair(lab: Lab): Promise<{ priv: string; pub: string }> {
  const priv = (await lab.exec('router', ['wg', 'genkey'])).stdout.trim();
  const pub = (await lab.exec('router', ['wg', 'pubkey'], { input: priv + '\n' })).stdout.trim();
  return { priv, pub };
}

async function startWg(lab: Lab, ns: string, ifname: string): Promise<void> {
  lab.spawnIsolated(ns, ['wireguard-go', '-f', ifname]);
  await waitFor(`${ifname} in ${ns}`, async () =>
    (await lab.execIsolated(ns, ['wg', 'show', ifname], { reject: false })).exitCode === 0, 20_000);
}

async function txPackets(lab: Lab, ns: string, dev: string): Promise<number> {
  const j = JSON.parse((await lab.exec(ns, ['ip', '-j', '-s', 'link', 'show', dev])).stdout) as
    Array<{ stats64?: { tx?: { packets?: number } } }>;
  return j[0]?.stats64?.tx?.packets ?? 0;
}

await runScenario(async ({ check, figure }) => {
  const t0 = Date.now();
  const lab = await buildTopology(loadProfile(process.argv[2] ?? 'default'));
  figure('topology_build_s', (Date.now() - t0) / 1000);
  log(`topology built in ${((Date.now() - t0) / 1000).toFixed(1)} s`);
  const links: LabLink[] = lab.links.slice(0, 2);
  const { conc } = lab;

  for (const l of links) {
    const n = l.index + 1;
    const ifname = `wg${n}`;
    const keyDir = '/tmp/lab-wg';
    await lab.exec('router', ['mkdir', '-p', keyDir]);
    const r = await keypair(lab), c = await keypair(lab);
    const { writeFileSync } = await import('node:fs');
    writeFileSync(`${keyDir}/router-${ifname}`, r.priv + '\n', { mode: 0o600 });
    writeFileSync(`${keyDir}/conc-${ifname}`, c.priv + '\n', { mode: 0o600 });
    await startWg(lab, conc.ns, ifname);
    await startWg(lab, 'router', ifname);
    const port = String(WG_PORT_BASE + n);
    await lab.execIsolated(conc.ns, ['wg', 'set', ifname, 'listen-port', port, 'private-key', `${keyDir}/conc-${ifname}`,
      'peer', r.pub, 'allowed-ips', `10.201.${n}.2/32`]);
    // The tunnel's packets carry a mark that a rule sends through this link's modem.
    const mark = `0x${(0x100 + n).toString(16)}`;
    const table = String(100 + n);
    await lab.exec('router', ['ip', 'route', 'add', 'default', 'via', l.gateway, 'dev', l.device, 'table', table]);
    await lab.exec('router', ['ip', 'rule', 'add', 'fwmark', mark, 'lookup', table, 'priority', String(1000 + n)]);
    await lab.execIsolated('router', ['wg', 'set', ifname, 'private-key', `${keyDir}/router-${ifname}`, 'fwmark', mark,
      'peer', c.pub, 'endpoint', `${conc.address}:${port}`, 'allowed-ips', `10.201.${n}.0/30`, 'persistent-keepalive', '5']);
    for (const [ns, addr] of [[conc.ns, `10.201.${n}.1/30`], ['router', `10.201.${n}.2/30`]] as const) {
      await lab.exec(ns, ['ip', 'addr', 'add', addr, 'dev', ifname]);
      await lab.exec(ns, ['ip', 'link', 'set', ifname, 'mtu', '1420', 'up']);
    }
  }

  log('tunnels configured');
  const shared = (await lab.exec('router', ['wg', 'show', 'interfaces'], { reject: false })).stdout.trim();
  const own = (await lab.execIsolated('router', ['wg', 'show', 'interfaces'])).stdout.trim().split(/\s+/).sort().join(' ');
  check('each namespace has its own /var/run/wireguard', shared === '' && own === 'wg1 wg2', `shared "${shared}", isolated "${own}"`);

  for (const l of links) {
    const n = l.index + 1;
    const t0 = Date.now();
    // The first packet through a fresh wireguard-go tunnel waits for the handshake (~4 s).
    await waitFor(`a reply through wg${n}`, async () =>
      (await lab.ping('router', `10.201.${n}.1`, 1)).received === 1, 30_000).catch(() => undefined);
    figure(`wg${n}_first_reply_s`, (Date.now() - t0) / 1000);
    const p = await lab.ping('router', `10.201.${n}.1`, 5);
    check(`wireguard-go tunnel over ${l.name}${l.cgnatNs ? ' (through carrier NAT)' : ''} carries traffic`, p.received >= 4, `${p.received}/${p.sent}`);
    const dump = (await lab.execIsolated(conc.ns, ['wg', 'show', `wg${n}`, 'endpoints'])).stdout.trim();
    check(`conc sees wg${n}'s peer at ${l.publicAddress}`, dump.includes(`${l.publicAddress}:`), dump);
  }

  // A gretap inside each tunnel, one balance-rr bond over them at each end.
  for (const [ns, self, peer, bondAddr] of [['router', 2, 1, '10.200.0.2/24'], [conc.ns, 1, 2, '10.200.0.1/24']] as const) {
    await lab.exec(ns, ['ip', 'link', 'add', 'bond0', 'type', 'bond', 'mode', 'balance-rr']);
    for (const l of links) {
      const n = l.index + 1;
      await lab.exec(ns, ['ip', 'link', 'add', `gt${n}`, 'type', 'gretap', 'local', `10.201.${n}.${self}`, 'remote', `10.201.${n}.${peer}`]);
      await lab.exec(ns, ['ip', 'link', 'set', `gt${n}`, 'mtu', '1382', 'master', 'bond0']);
      await lab.exec(ns, ['ip', 'link', 'set', `gt${n}`, 'up']);
    }
    await lab.exec(ns, ['ip', 'link', 'set', 'bond0', 'mtu', '1380', 'up']);
    await lab.exec(ns, ['ip', 'addr', 'add', bondAddr, 'dev', 'bond0']);
  }
  const tx0 = await Promise.all(links.map((l) => txPackets(lab, 'router', `gt${l.index + 1}`)));
  const bp = await lab.ping('router', '10.200.0.1', 20, { intervalSec: 0.2 });
  check('the bond of two gretaps passes traffic', bp.received >= 16, `${bp.received}/${bp.sent}, rtt ${bp.rttAvgMs} ms`);
  const tx1 = await Promise.all(links.map((l) => txPackets(lab, 'router', `gt${l.index + 1}`)));
  const sent = tx1.map((v, i) => v - tx0[i]!);
  check('balance-rr sends over both gretaps', sent.every((v) => v >= 5), `gretap tx packets: ${sent.join(', ')}`);

  // Throughput through the bond (figure only): conc runs its own iperf3 server.
  lab.spawn(conc.ns, ['iperf3', '-s', '-p', '5301']);
  await new Promise((r) => setTimeout(r, 1000));
  const ip = await lab.iperf('router', { server: '10.200.0.1', port: 5301, seconds: 6, reverse: true, extra: ['-O', '1'] });
  figure('bond2_download_mbit', Number((ip.bitsPerSecond / 1e6).toFixed(2)));
  log(`download through the 2-link bond: ${(ip.bitsPerSecond / 1e6).toFixed(2)} Mbit/s`);
  check('a TCP download runs through the bond', ip.bitsPerSecond > 0.5e6, `${(ip.bitsPerSecond / 1e6).toFixed(2)} Mbit/s`);

  // The same interface names in both namespaces are separate wireguard-go instances.
  const concIfs = (await lab.execIsolated(conc.ns, ['wg', 'show', 'interfaces'])).stdout.trim().split(/\s+/).sort().join(' ');
  check('conc runs its own wireguard-go instances', concIfs === 'wg1 wg2', concIfs);
  await lab.destroy();
});

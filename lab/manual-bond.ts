// The seed design's data plane built by hand in the lab, without the agent: one wireguard-go
// tunnel per link (pinned to its modem by fwmark), a gretap inside each, one bond at each end.
// For smoke tests and for baselines; the product builds the same through its reconciler.
import { writeFileSync, mkdirSync } from 'node:fs';
import type { Lab, LabLink } from './topology.ts';

export interface ManualBond {
  /** Bond addresses: router side and concentrator side (no prefix length, /24). */
  routerAddress: string;
  concAddress: string;
  /** Per link: wireguard interface, gretap, tunnel addresses. */
  tunnels: Array<{ link: LabLink; wg: string; gretap: string; routerTunnel: string; concTunnel: string }>;
}

export async function waitFor(what: string, fn: () => Promise<boolean>, timeoutMs: number): Promise<void> {
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

/** WireGuard tunnels only (wgN, 10.201.N.2 router / .1 conc), one per given link. */
export async function buildTunnels(lab: Lab, links: LabLink[]): Promise<ManualBond['tunnels']> {
  const keyDir = '/tmp/lab-wg';
  mkdirSync(keyDir, { recursive: true });
  const out: ManualBond['tunnels'] = [];
  for (const l of links) {
    const n = l.index + 1;
    const wg = `wg${n}`;
    const r = await keypair(lab), c = await keypair(lab);
    writeFileSync(`${keyDir}/router-${wg}`, r.priv + '\n', { mode: 0o600 });
    writeFileSync(`${keyDir}/conc-${wg}`, c.priv + '\n', { mode: 0o600 });
    await startWg(lab, lab.conc.ns, wg);
    await startWg(lab, l.routerNs, wg);
    const port = String(51820 + n);
    await lab.execIsolated(lab.conc.ns, ['wg', 'set', wg, 'listen-port', port, 'private-key', `${keyDir}/conc-${wg}`,
      'peer', r.pub, 'allowed-ips', `10.201.${n}.2/32`]);
    // The tunnel's packets carry a mark that a rule sends through this link's modem.
    const mark = `0x${(0x100 + n).toString(16)}`;
    const table = String(100 + n);
    await lab.exec(l.routerNs, ['ip', 'route', 'replace', 'default', 'via', l.gateway, 'dev', l.device, 'table', table]);
    await lab.exec(l.routerNs, ['ip', 'rule', 'add', 'fwmark', mark, 'lookup', table, 'priority', String(1000 + n)]);
    await lab.execIsolated(l.routerNs, ['wg', 'set', wg, 'private-key', `${keyDir}/router-${wg}`, 'fwmark', mark,
      'peer', c.pub, 'endpoint', `${lab.conc.address}:${port}`, 'allowed-ips', `10.201.${n}.0/30`, 'persistent-keepalive', '5']);
    for (const [ns, addr] of [[lab.conc.ns, `10.201.${n}.1/30`], [l.routerNs, `10.201.${n}.2/30`]] as const) {
      await lab.exec(ns, ['ip', 'addr', 'add', addr, 'dev', wg]);
      await lab.exec(ns, ['ip', 'link', 'set', wg, 'mtu', '1420', 'up']);
    }
    out.push({ link: l, wg, gretap: `gt${n}`, routerTunnel: `10.201.${n}.2`, concTunnel: `10.201.${n}.1` });
  }
  // The first packet through a fresh wireguard-go tunnel waits for the handshake (~4 s).
  for (const t of out) {
    await waitFor(`a reply through ${t.wg}`, async () =>
      (await lab.ping(t.link.routerNs, t.concTunnel, 1)).received === 1, 30_000);
  }
  return out;
}

/** Tunnels, a gretap in each, and a bond (bond0, 10.200.0.2 router / .1 conc) over them. */
export async function buildManualBond(lab: Lab, links: LabLink[], mode = 'balance-rr'): Promise<ManualBond> {
  const tunnels = await buildTunnels(lab, links);
  const routerNs = links[0]!.routerNs;
  for (const [ns, side] of [[routerNs, 'router'], [lab.conc.ns, 'conc']] as const) {
    await lab.exec(ns, ['ip', 'link', 'add', 'bond0', 'type', 'bond', 'mode', mode]);
    for (const t of tunnels) {
      const [local, remote] = side === 'router' ? [t.routerTunnel, t.concTunnel] : [t.concTunnel, t.routerTunnel];
      await lab.exec(ns, ['ip', 'link', 'add', t.gretap, 'type', 'gretap', 'local', local, 'remote', remote]);
      await lab.exec(ns, ['ip', 'link', 'set', t.gretap, 'mtu', '1382', 'master', 'bond0']);
      await lab.exec(ns, ['ip', 'link', 'set', t.gretap, 'up']);
    }
    await lab.exec(ns, ['ip', 'link', 'set', 'bond0', 'mtu', '1380', 'up']);
    await lab.exec(ns, ['ip', 'addr', 'add', side === 'router' ? '10.200.0.2/24' : '10.200.0.1/24', 'dev', 'bond0']);
  }
  return { routerAddress: '10.200.0.2', concAddress: '10.200.0.1', tunnels };
}

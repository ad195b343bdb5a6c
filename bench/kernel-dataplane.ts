// Guest side: the data plane built by hand in the lab, without WireGuard and without the agent's
// stack: per link an L3 GRE tunnel (the health channel, standing in for the WireGuard tunnel) and
// N gretaps told apart by GRE key, one bond per end. The health lab tests (test/lab/health-failover,
// mqtt-alert) drive it with bench/kernel-agent.ts; `make bench` measures `wanbond run` itself.
import type { Lab, LabLink } from '../lab/topology.ts';

export const BOND = 'wbbench';
export const BOND_ROUTER = '10.99.0.1';
export const BOND_CONC = '10.99.0.2';
export const LAN_TABLE = 200;

export const probeDev = (n: number) => `wbp${n}`;
export const gretapDev = (n: number, p: number) => `wbg${n}p${p}`;
export const probeRouter = (n: number) => `10.98.${n}.1`;
export const probeConc = (n: number) => `10.98.${n}.2`;

export interface KernelPlaneOptions {
  /** gretaps per link (index = link index). */
  paths: number[];
  /** netem delay on each link's gretaps, per end: router transmit, concentrator transmit. */
  extraRouter: number[];
  extraConc: number[];
  mode: 'balance-rr' | 'balance-xor';
  mtu?: number;
}

async function batch(lab: Lab, ns: string, lines: string[]): Promise<void> {
  await lab.exec(ns, ['ip', '-batch', '-'], { input: lines.join('\n') + '\n' });
}

export async function setDelay(lab: Lab, ns: string, dev: string, ms: number): Promise<void> {
  if (ms > 0) await lab.exec(ns, ['tc', 'qdisc', 'replace', 'dev', dev, 'root', 'netem', 'delay', `${ms}ms`, 'limit', '10000']);
  else await lab.exec(ns, ['tc', 'qdisc', 'del', 'dev', dev, 'root'], { reject: false });
}

/** Policy routing per link on the router (idempotent per lab: call once). */
export async function pinLinks(lab: Lab): Promise<void> {
  for (const l of lab.links) {
    const n = l.index + 1;
    await lab.exec('router', ['ip', 'route', 'replace', 'default', 'via', l.gateway, 'dev', l.device, 'table', String(100 + n)]);
    await lab.exec('router', ['ip', 'rule', 'add', 'from', l.address, 'lookup', String(100 + n), 'priority', String(1000 + n)]);
    // First packets out from the router, so every NAT on the way maps GRE before the far end sends.
    await lab.ping('router', lab.conc.address, 1, { bind: l.address });
  }
  for (const ns of ['router', lab.conc.ns]) {
    await lab.exec(ns, ['iptables-legacy', '-w', '-t', 'mangle', '-A', 'FORWARD', '-p', 'tcp', '--tcp-flags', 'SYN,RST', 'SYN', '-j', 'TCPMSS', '--clamp-mss-to-pmtu']);
  }
  await lab.exec(lab.conc.ns, ['iptables-legacy', '-w', '-t', 'nat', '-A', 'POSTROUTING', '-s', lab.sites[0]!.lanSubnet, '-o', lab.conc.dev, '-j', 'MASQUERADE']);
  await lab.exec('router', ['ip', 'rule', 'add', 'iif', 'eth0', 'lookup', String(LAN_TABLE), 'priority', '900']);
}

function endLines(l: LabLink, side: 'router' | 'conc', concAddr: string, paths: number): string[] {
  const n = l.index + 1;
  const [local, remote] = side === 'router' ? [l.address, concAddr] : [concAddr, l.publicAddress];
  const lines = [
    `link add ${probeDev(n)} type gre local ${local} remote ${remote} key 1000`,
    `addr add ${side === 'router' ? probeRouter(n) : probeConc(n)}/32 peer ${side === 'router' ? probeConc(n) : probeRouter(n)} dev ${probeDev(n)}`,
    `link set ${probeDev(n)} up`,
  ];
  for (let p = 1; p <= paths; p++) {
    lines.push(`link add ${gretapDev(n, p)} type gretap local ${local} remote ${remote} key ${p}`);
    lines.push(`link set ${gretapDev(n, p)} master ${BOND}`);
    lines.push(`link set ${gretapDev(n, p)} up`);
  }
  return lines;
}

/** Build both ends' bond. Tear down first with removePlane when rebuilding. */
export async function buildPlane(lab: Lab, o: KernelPlaneOptions): Promise<void> {
  const mtu = o.mtu ?? 1400;
  const bondArgs = o.mode === 'balance-xor' ? 'mode balance-xor xmit_hash_policy layer3+4' : 'mode balance-rr';
  for (const side of ['router', 'conc'] as const) {
    const ns = side === 'router' ? 'router' : lab.conc.ns;
    const lines = [`link add ${BOND} type bond ${bondArgs}`, `link set ${BOND} mtu ${mtu}`];
    for (const l of lab.links) lines.push(...endLines(l, side, lab.conc.address, o.paths[l.index] ?? 1));
    lines.push(`addr add ${side === 'router' ? BOND_ROUTER : BOND_CONC}/30 dev ${BOND}`, `link set ${BOND} up`);
    if (side === 'router') lines.push(`route replace default via ${BOND_CONC} dev ${BOND} table ${LAN_TABLE}`);
    else lines.push(`route replace ${lab.sites[0]!.lanSubnet} via ${BOND_ROUTER} dev ${BOND}`);
    await batch(lab, ns, lines);
    const extra = side === 'router' ? o.extraRouter : o.extraConc;
    for (const l of lab.links) {
      for (let p = 1; p <= (o.paths[l.index] ?? 1); p++) await setDelay(lab, ns, gretapDev(l.index + 1, p), extra[l.index] ?? 0);
    }
  }
}

export async function removePlane(lab: Lab): Promise<void> {
  for (const ns of ['router', lab.conc.ns]) {
    const r = await lab.exec(ns, ['ip', '-o', 'link', 'show'], { reject: false });
    const devs = [...r.stdout.matchAll(/^\d+: (wb[a-z0-9]+)[@:]/gm)].map((m) => m[1]!);
    // gretaps and GRE tunnels before the bond.
    devs.sort((a, b) => Number(a === BOND) - Number(b === BOND));
    if (devs.length) await lab.exec(ns, ['ip', '-force', '-batch', '-'], { input: devs.map((d) => `link del ${d}`).join('\n') + '\n', reject: false });
  }
}

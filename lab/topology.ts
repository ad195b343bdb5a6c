// Guest side of the lab: builds the namespaces (LAN client, router, modems with NAT, carrier NAT,
// internet core, concentrator, internet server), shapes each modem's uplink with netem from the
// profile, starts the server's services, and hands back a Lab to drive and measure it.
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { CONC, CORE_NS, SERVER, planSites, type LabLink, type LabSite } from './addressing.ts';
import { parseIperf, parsePing, type IperfResult, type PingResult } from './measure.ts';
import { execIp, isolatedArgv, nsArgv, spawnIp, type ExecOptions, type ExecResult, type SpawnedProcess } from './netns.ts';
import type { LabProfile } from './profile.ts';
import { REPO_ROOT } from './run.ts';
import { netemArgs, type Shape } from './shaping.ts';
import { TcSession } from '../src/kernel/tc-session.ts';
import { dumpState, type NsState } from './state.ts';

export type { LabLink, LabSite } from './addressing.ts';
export type { IperfResult, PingResult } from './measure.ts';
export type { ExecOptions, ExecResult, SpawnedProcess } from './netns.ts';
export type { NsState } from './state.ts';
export { CONC, SERVER } from './addressing.ts';

export interface LinkChange {
  loss_pct?: number;
  delay_ms?: number;
  jitter_ms?: number;
  /** Both directions; rate_down_kbit / rate_up_kbit set one. */
  rate_kbit?: number;
  rate_down_kbit?: number;
  rate_up_kbit?: number;
}

export interface IperfOptions {
  /** Address of the iperf3 server; default the internet server. */
  server?: string;
  /** Default: a free port of the internet server's iperf3 instances. */
  port?: number;
  seconds: number;
  /** Download: the server sends (iperf3 -R). */
  reverse?: boolean;
  parallel?: number;
  udp?: boolean;
  /** iperf3 -b, e.g. '1M' (UDP default 1M). */
  bitrate?: string;
  /** Source address to bind (iperf3 -B). */
  bind?: string;
  /** Extra iperf3 arguments. */
  extra?: string[];
  /** Run in the namespace's isolated mount namespace (see execIsolated). */
  isolated?: boolean;
}

export interface Lab {
  profile: LabProfile;
  /** Site 1's links (= sites[0].links). */
  links: LabLink[];
  sites: LabSite[];
  conc: typeof CONC;
  server: typeof SERVER;
  /** Every namespace the lab made. */
  namespaces: string[];
  exec(ns: string, argv: string[], opts?: ExecOptions): Promise<ExecResult>;
  spawn(ns: string, argv: string[], opts?: { env?: Record<string, string> }): SpawnedProcess;
  /** Like exec, with this namespace's own /var/run/wireguard and /var/run/wanbond. */
  execIsolated(ns: string, argv: string[], opts?: ExecOptions): Promise<ExecResult>;
  spawnIsolated(ns: string, argv: string[], opts?: { env?: Record<string, string> }): SpawnedProcess;
  /** Change a link live in both directions (cut: { loss_pct: 100 }). Index into `links`, or a LabLink. */
  setLink(link: number | LabLink, change: LinkChange): Promise<void>;
  /** Restore the profile's shaping of a link. */
  resetLink(link: number | LabLink): Promise<void>;
  iperf(ns: string, opts: IperfOptions): Promise<IperfResult>;
  ping(ns: string, target: string, count?: number, opts?: { intervalSec?: number; bind?: string; isolated?: boolean }): Promise<PingResult>;
  /** The address the internet server sees for a TCP connection from ns (optionally from `bind`). */
  whoami(ns: string, opts?: { bind?: string; host?: string; port?: number }): Promise<string>;
  dumpState(ns: string): Promise<NsState>;
  destroy(): Promise<void>;
}

export interface TopologyOptions {
  /** 1 (default) or 2: a second site (lan2, router2, s2modemN) on the same concentrator. */
  sites?: number;
  /** Start iperf3 servers and the whoami service on the internet server (default true). */
  services?: boolean;
}

const WHOAMI = join(REPO_ROOT, 'lab', 'services', 'whoami.mjs');

function linkShapes(l: LabLink): { down: Shape; up: Shape } {
  const p = l.profile;
  const common = { delay_ms: p.delay_ms, jitter_ms: p.jitter_ms, loss_pct: p.loss_pct, queue_ms: p.queue_ms ?? 150 };
  return { down: { ...common, rate_kbit: p.rate_down_kbit }, up: { ...common, rate_kbit: p.rate_up_kbit } };
}

export async function buildTopology(profile: LabProfile, opts: TopologyOptions = {}): Promise<Lab> {
  const sites = planSites(profile, opts.sites ?? 1);
  const namespaces = new Set<string>([CORE_NS, CONC.ns, SERVER.ns]);
  for (const s of sites) {
    namespaces.add(s.lanNs).add(s.routerNs);
    if (s.cgnatNs) namespaces.add(s.cgnatNs);
    for (const l of s.links) namespaces.add(l.modemNs);
  }
  const spawned: SpawnedProcess[] = [];
  const shapes = new Map<LabLink, { down: Shape; up: Shape }>();
  const freePorts: number[] = [...SERVER.iperfPorts];

  const exec = (ns: string, argv: string[], o?: ExecOptions): Promise<ExecResult> => execIp(nsArgv(ns, argv), o);
  const ipBatch = async (ns: string | null, lines: string[]): Promise<void> => {
    if (!lines.length) return;
    await execIp([...(ns ? ['-n', ns] : []), '-batch', '-'], { input: lines.join('\n') + '\n' });
  };
  const masquerade = (ns: string, dev: string): Promise<ExecResult> =>
    exec(ns, ['iptables-legacy', '-w', '-t', 'nat', '-A', 'POSTROUTING', '-o', dev, '-j', 'MASQUERADE']);
  // Link changes go to a tc kept running per namespace: starting a process freezes the one-CPU
  // guest for 0.3-1 s, so every cut and spike came with both agents frozen at that very moment
  // (a spike's first packet hit 0.37 s after the command; decisions at 1.1-2.7 s, not 0.4-0.6 s).
  const tcSessions = new Map<string, TcSession>();
  const applyShape = async (where: { ns: string; dev: string }, s: Shape): Promise<void> => {
    let tc = tcSessions.get(where.ns);
    if (!tc) tcSessions.set(where.ns, (tc = new TcSession(where.ns, 10_000)));
    const line = `qdisc replace dev ${where.dev} root ${netemArgs(s).join(' ')}`;
    const err = await tc.run([line]);
    if (err) throw new Error(`tc -n ${where.ns} ${line}: ${err}`);
  };
  const resolveLink = (link: number | LabLink): LabLink => {
    if (typeof link !== 'number') return link;
    const l = sites[0]!.links[link];
    if (!l) throw new Error(`lab: no link ${link}`);
    return l;
  };

  // Forwarding on in every namespace, inherited from the guest's own at creation: a process per
  // namespace less (each costs seconds in UML on a loaded host). LAN client and server have one
  // interface each, so forwarding there changes nothing.
  writeFileSync('/proc/sys/net/core/devconf_inherit_init_net', '1\n');
  writeFileSync('/proc/sys/net/ipv4/ip_forward', '1\n');
  // Namespaces and veth pairs (created straight into their namespaces).
  await ipBatch(null, [...namespaces].map((n) => `netns add ${n}`));
  const veth = (a: string, aNs: string, b: string, bNs: string): string =>
    `link add ${a} netns ${aNs} type veth peer name ${b} netns ${bNs}`;
  const rootLines = [veth(CONC.dev, CONC.ns, 'conc0', CORE_NS), veth(SERVER.dev, SERVER.ns, 'srv0', CORE_NS)];
  for (const s of sites) {
    rootLines.push(veth('eth0', s.lanNs, 'eth0', s.routerNs));
    if (s.cgnatNs) rootLines.push(veth('wan0', s.cgnatNs, `s${s.index}cg`, CORE_NS));
    for (const l of s.links) {
      rootLines.push(veth(l.device, l.routerNs, 'lan0', l.modemNs));
      rootLines.push(veth('wan0', l.modemNs, l.downShaper.dev, l.downShaper.ns));
    }
  }
  await ipBatch(null, rootLines);

  // Addresses and routes, one batch per namespace.
  const nsLines = new Map<string, string[]>([...namespaces].map((n) => [n, ['link set lo up']]));
  const add = (ns: string, ...lines: string[]): void => { nsLines.get(ns)!.push(...lines); };
  const up = (ns: string, dev: string, addr: string): void => add(ns, `addr add ${addr} dev ${dev}`, `link set ${dev} up`);
  up(CONC.ns, CONC.dev, `${CONC.address}/${CONC.prefixLen}`);
  add(CONC.ns, `route add default via ${CONC.gateway}`);
  up(CORE_NS, 'conc0', `${CONC.gateway}/${CONC.prefixLen}`);
  up(SERVER.ns, SERVER.dev, `${SERVER.address}/${SERVER.prefixLen}`);
  add(SERVER.ns, `route add default via ${SERVER.gateway}`);
  up(CORE_NS, 'srv0', `${SERVER.gateway}/${SERVER.prefixLen}`);
  for (const s of sites) {
    up(s.lanNs, 'eth0', `${s.lanAddress}/24`);
    add(s.lanNs, `route add default via ${s.routerLanAddress}`);
    up(s.routerNs, 'eth0', `${s.routerLanAddress}/24`);
    if (s.cgnatNs && s.cgnatPublicAddress) {
      const core = s.cgnatPublicAddress.replace(/\.2$/, '.1');
      up(s.cgnatNs, 'wan0', `${s.cgnatPublicAddress}/24`);
      add(s.cgnatNs, `route add default via ${core}`);
      up(CORE_NS, `s${s.index}cg`, `${core}/24`);
    }
    for (const l of s.links) {
      up(l.routerNs, l.device, `${l.address}/${l.prefixLen}`);
      up(l.modemNs, 'lan0', `${l.gateway}/${l.prefixLen}`);
      const far = l.modemWanAddress.replace(/\.2$/, '.1');
      up(l.modemNs, 'wan0', `${l.modemWanAddress}/24`);
      add(l.modemNs, `route add default via ${far}`);
      up(l.downShaper.ns, l.downShaper.dev, `${far}/24`);
    }
  }
  for (const [ns, lines] of nsLines) await ipBatch(ns, lines);

  // NAT: every modem masquerades its uplink, and so does the carrier NAT.
  for (const s of sites) {
    if (s.cgnatNs) await masquerade(s.cgnatNs, 'wan0');
    for (const l of s.links) await masquerade(l.modemNs, 'wan0');
  }

  for (const s of sites) {
    for (const l of s.links) {
      const sh = linkShapes(l);
      shapes.set(l, sh);
      await applyShape(l.upShaper, sh.up);
      await applyShape(l.downShaper, sh.down);
    }
  }

  const spawn = (ns: string, argv: string[], o?: { env?: Record<string, string> }): SpawnedProcess => {
    const p = spawnIp(nsArgv(ns, argv), o?.env);
    spawned.push(p);
    return p;
  };

  if (opts.services ?? true) {
    for (const port of SERVER.iperfPorts) spawn(SERVER.ns, ['iperf3', '-s', '-p', String(port)]);
    spawn(SERVER.ns, ['node', WHOAMI, 'serve', String(SERVER.whoamiPort), String(SERVER.udpEchoPort)]);
    await waitListening(exec, SERVER.ns, [...SERVER.iperfPorts, SERVER.whoamiPort], 60_000);
  }

  const lab: Lab = {
    profile,
    links: sites[0]!.links,
    sites,
    conc: CONC,
    server: SERVER,
    namespaces: [...namespaces],
    exec,
    spawn,
    execIsolated: (ns, argv, o) => execIp(isolatedArgv(ns, argv), o),
    spawnIsolated(ns, argv, o) {
      const p = spawnIp(isolatedArgv(ns, argv), o?.env);
      spawned.push(p);
      return p;
    },
    async setLink(link, change) {
      const l = resolveLink(link);
      const cur = shapes.get(l)!;
      const next = (s: Shape, rate: number | undefined): Shape => ({
        ...s,
        ...(change.loss_pct !== undefined ? { loss_pct: change.loss_pct } : {}),
        ...(change.delay_ms !== undefined ? { delay_ms: change.delay_ms } : {}),
        ...(change.jitter_ms !== undefined ? { jitter_ms: change.jitter_ms } : {}),
        ...(rate !== undefined ? { rate_kbit: rate } : {}),
      });
      const updated = {
        down: next(cur.down, change.rate_down_kbit ?? change.rate_kbit),
        up: next(cur.up, change.rate_up_kbit ?? change.rate_kbit),
      };
      shapes.set(l, updated);
      await Promise.all([applyShape(l.downShaper, updated.down), applyShape(l.upShaper, updated.up)]);
    },
    async resetLink(link) {
      const l = resolveLink(link);
      const sh = linkShapes(l);
      shapes.set(l, sh);
      await Promise.all([applyShape(l.downShaper, sh.down), applyShape(l.upShaper, sh.up)]);
    },
    async iperf(ns, o) {
      // A port the caller names is taken out of the pool too, so that concurrent runs never share one.
      let taken: number | undefined;
      if (o.port === undefined) taken = freePorts.shift();
      else if (freePorts.includes(o.port)) taken = freePorts.splice(freePorts.indexOf(o.port), 1)[0];
      const port = o.port ?? taken;
      if (port === undefined) throw new Error('lab: every iperf3 server port is in use');
      const argv = ['iperf3', '-c', o.server ?? SERVER.address, '-p', String(port), '-t', String(o.seconds),
        '-J', '--connect-timeout', '5000'];
      if (o.reverse) argv.push('-R');
      if (o.parallel && o.parallel > 1) argv.push('-P', String(o.parallel));
      if (o.udp) argv.push('-u', '-b', o.bitrate ?? '1M');
      else if (o.bitrate) argv.push('-b', o.bitrate);
      if (o.bind) argv.push('-B', o.bind);
      argv.push(...(o.extra ?? []));
      try {
        const ipArgv = o.isolated ? isolatedArgv(ns, argv) : nsArgv(ns, argv);
        const r = await execIp(ipArgv, { timeoutMs: (o.seconds + 30) * 1000, reject: false });
        return parseIperf(r.stdout, !!o.udp);
      } finally {
        if (taken !== undefined) freePorts.push(taken);
      }
    },
    async ping(ns, target, count = 5, o = {}) {
      const interval = o.intervalSec ?? 0.2;
      const argv = ['timeout', String(Math.ceil(count * interval + 5)), 'ping', '-n', '-c', String(count),
        '-i', String(interval), '-W', '1', ...(o.bind ? ['-I', o.bind] : []), target];
      const r = await execIp(o.isolated ? isolatedArgv(ns, argv) : nsArgv(ns, argv), { reject: false });
      return parsePing(r.stdout);
    },
    async whoami(ns, o = {}) {
      const argv = ['node', WHOAMI, 'ask', o.host ?? SERVER.address, String(o.port ?? SERVER.whoamiPort), ...(o.bind ? [o.bind] : [])];
      const r = await exec(ns, argv, { timeoutMs: 60_000 });
      return r.stdout.trim();
    },
    dumpState: (ns) => dumpState(exec, ns),
    async destroy() {
      for (const tc of tcSessions.values()) tc.stop();
      await Promise.all(spawned.map((p) => p.stop()));
      for (const ns of namespaces) {
        // Processes started inside by others (an agent, its wireguard-go) go too.
        const pids = await execIp(['netns', 'pids', ns], { reject: false });
        for (const pid of pids.stdout.split(/\s+/).filter(Boolean)) {
          try { process.kill(Number(pid), 'SIGKILL'); } catch { /* gone */ }
        }
      }
      await ipBatch(null, [...namespaces].map((n) => `netns del ${n}`)).catch(() => undefined);
    },
  };
  return lab;
}

async function waitListening(
  exec: (ns: string, argv: string[], o?: ExecOptions) => Promise<ExecResult>,
  ns: string, ports: number[], timeoutMs: number,
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const r = await exec(ns, ['ss', '-Hltn'], { reject: false });
    const open = new Set([...r.stdout.matchAll(/:(\d+)\s/g)].map((m) => Number(m[1])));
    const missing = ports.filter((p) => !open.has(p));
    if (!missing.length) return;
    if (Date.now() > deadline) throw new Error(`lab: ${ns} not listening on ${missing.join(', ')}`);
    await new Promise((r2) => setTimeout(r2, 500));
  }
}

// Why a throughput figure is what it is: the sending and receiving hosts' TCP counters
// (retransmits, reordering seen, spurious recoveries undone, the out-of-order queue), every qdisc's
// drops (and the shapers' and emulated links' bytes) and every device's dropped packets in the
// lab, before and after a run. Only what changed is kept, in the detail file beside the run's figure.
import type { Lab } from '../lab/topology.ts';

export interface DiagSnapshot {
  /** The sender's counters, then the receiver's (`rx.` in front). */
  tcp: Record<string, number>;
  /** Every qdisc's drops, and every device's dropped packets, in the namespaces a packet crosses. */
  qdisc: Record<string, number>;
}

const TCP_KEYS = /^(Tcp\.RetransSegs|Tcp\.OutSegs|Ip\.InDiscards|Ip\.OutDiscards|TcpExt\.(TCPOFODrop|TCPOFOQueue|TCPRcvQDrop|TCPBacklogDrop|PruneCalled|RcvPruned|OfoPruned|TCPRcvCollapsed|TCPSACKReorder|TCPTSReorder|TCPRenoReorder|TCPDSACKRecv|TCPDSACKUndo|TCPLossUndo|TCPSpuriousRTOs|TCPTimeouts|TCPLossProbes|TCPLossProbeRecovery|TCPFastRetrans|TCPSlowStartRetrans|TCPLostRetransmit|TCPSackRecovery|TCPFullUndo|TCPPartialUndo|TCPSpuriousRtxHostQueues))$/;

/** Where a packet can vanish without a qdisc or a device counting it (a call's losses after a leave). */
const DROP_KEYS = /^(Ip\.(InDiscards|OutDiscards|InNoRoutes|InHdrErrors|InAddrErrors|ForwDatagrams)|Udp\.(InErrors|RcvbufErrors|NoPorts))$/;

/** `/proc/net/netstat` and `/proc/net/snmp` are per network namespace: header line, value line. */
function parseProcTables(text: string, keys = TCP_KEYS): Record<string, number> {
  const out: Record<string, number> = {};
  const lines = text.split('\n');
  for (let i = 0; i + 1 < lines.length; i++) {
    const head = lines[i]!.split(/\s+/);
    const vals = lines[i + 1]!.split(/\s+/);
    if (head[0] !== vals[0] || !head[0]?.endsWith(':') || Number.isNaN(Number(vals[1]))) continue;
    const table = head[0].slice(0, -1);
    head.slice(1).forEach((k, j) => {
      const key = `${table}.${k}`;
      if (keys.test(key)) out[key] = Number(vals[j + 1]);
    });
    i++;
  }
  return out;
}

interface TcQdisc { kind: string; handle: string; dev?: string; root?: boolean; drops?: number; ecn_mark?: number; bytes?: number; packets?: number }
interface IpLink { ifname: string; stats64?: { rx?: { dropped?: number; errors?: number }; tx?: { dropped?: number; errors?: number } } }

/** Namespaces whose qdiscs can drop a bond's packet: router, concentrator, every emulated link's ends. */
function queueNamespaces(lab: Lab): string[] {
  const ns = new Set<string>([lab.conc.ns]);
  for (const s of lab.sites) {
    ns.add(s.routerNs);
    for (const l of s.links) ns.add(l.upShaper.ns).add(l.downShaper.ns);
  }
  return [...ns];
}

/** JSON a command printed, or nothing (a namespace without the device, a command that failed). */
function parsed<T>(stdout: string): T[] {
  try {
    return JSON.parse(stdout) as T[];
  } catch {
    return [];
  }
}

export async function snapshot(lab: Lab, senderNs: string, receiverNs: string): Promise<DiagSnapshot> {
  const counters = async (ns: string) =>
    parseProcTables((await lab.exec(ns, ['cat', '/proc/net/netstat', '/proc/net/snmp'], { reject: false })).stdout);
  const tcp = await counters(senderNs);
  for (const [k, v] of Object.entries(await counters(receiverNs))) tcp[`rx.${k}`] = v;
  const qdisc: Record<string, number> = {};
  const queues = queueNamespaces(lab);
  await Promise.all([...new Set([...queues, receiverNs, senderNs])].map(async (ns) => {
    for (const l of parsed<IpLink>((await lab.exec(ns, ['ip', '-s', '-j', 'link', 'show'], { reject: false })).stdout)) {
      const st = l.stats64;
      qdisc[`${ns}/${l.ifname}.link_dropped`] = (st?.rx?.dropped ?? 0) + (st?.rx?.errors ?? 0) + (st?.tx?.dropped ?? 0) + (st?.tx?.errors ?? 0);
    }
    const snmp = parseProcTables((await lab.exec(ns, ['cat', '/proc/net/snmp'], { reject: false })).stdout, DROP_KEYS);
    for (const [k, v] of Object.entries(snmp)) qdisc[`${ns}/${k}`] = v;
    if (!queues.includes(ns)) return;
    for (const q of parsed<TcQdisc>((await lab.exec(ns, ['tc', '-s', '-j', 'qdisc', 'show'], { reject: false })).stdout)) {
      if (!q.dev || q.dev === 'lo') continue;
      const at = `${ns}/${q.dev}/${q.kind}:${q.handle}`;
      qdisc[`${at}.drops`] = q.drops ?? 0;
      if (q.ecn_mark !== undefined) qdisc[`${at}.ecn_mark`] = q.ecn_mark;
      // What the shapers and the emulated links carried: their bytes per packet tell GSO batches.
      if (q.root && (q.kind === 'tbf' || q.kind === 'netem' || q.kind === 'htb')) {
        qdisc[`${at}.bytes`] = q.bytes ?? 0;
        qdisc[`${at}.packets`] = q.packets ?? 0;
      }
    }
  }));
  // The guest's one CPU: packets its backlog dropped (softnet_stat's second column, hex).
  const softnet = (await lab.exec(receiverNs, ['cat', '/proc/net/softnet_stat'], { reject: false })).stdout.trim().split(/\s+/);
  if (softnet.length > 1) qdisc['softnet.dropped'] = parseInt(softnet[1]!, 16);
  return { tcp, qdisc };
}

/** Counters that moved between two snapshots. */
export function changed(a: DiagSnapshot, b: DiagSnapshot): Record<string, number> {
  const out: Record<string, number> = {};
  for (const part of ['tcp', 'qdisc'] as const) {
    for (const [k, v] of Object.entries(b[part])) {
      const d = v - (a[part][k] ?? 0);
      if (d !== 0) out[k] = d;
    }
  }
  return out;
}

/**
 * TCP resets each box's own stack sent (Tcp.OutRsts), at the boxes between the two ends (the
 * router's and the concentrator's NAT) and at the ends: a session lost to a reset shows who sent
 * it. (A packet conntrack finds out of window is not translated back, reaches the NAT box's own
 * stack, and that answers with a reset. The lab's kernel has no /proc/net/stat/nf_conntrack to
 * count such packets.)
 */
export async function resetCounters(lab: Lab): Promise<Record<string, number>> {
  const out: Record<string, number> = {};
  const namespaces = [...new Set([...lab.sites.flatMap((s) => [s.lanNs, s.routerNs]), lab.conc.ns, lab.server.ns])];
  await Promise.all(namespaces.map(async (ns) => {
    const snmp = (await lab.exec(ns, ['cat', '/proc/net/snmp'], { reject: false })).stdout.split('\n').filter((l) => l.startsWith('Tcp:'));
    const [head, vals] = snmp.map((l) => l.trim().split(/\s+/));
    const i = head?.indexOf('OutRsts') ?? -1;
    if (i > 0 && vals) out[`${ns}.OutRsts`] = Number(vals[i]);
  }));
  return out;
}

/** What moved between two `resetCounters`. */
export function resetsBetween(a: Record<string, number>, b: Record<string, number>): Record<string, number> {
  return changed({ tcp: a, qdisc: {} }, { tcp: b, qdisc: {} });
}

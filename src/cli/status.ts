// `wanbond status [--json]`: asks the running agent through ubus (`wanbond status`) where ubusd
// runs, else through its local control socket, and prints a table or the exact status object.
import { ControlError, controlCall } from '../control/client.ts';
import { CONTROL_SOCKET_PATH } from '../control/protocol.ts';
import type { LinkStatus, Status } from '../status/types.ts';
import { UbusClient, UbusError } from '../ubus/client.ts';
import { stringifyBlobmsg } from '../ubus/blobmsg.ts';
import type { Command } from './command.ts';

export interface StatusIo {
  out(line: string): void;
  err(line: string): void;
  /** ubus socket to try (default: the standard paths). */
  ubusSocket?: string;
  controlSocket?: string;
  now?: () => number;
}

async function viaUbus(socketPath: string | undefined): Promise<unknown> {
  const client = new UbusClient({ socketPath, reconnect: false, requestTimeoutMs: 3000 });
  await client.connect();
  try {
    return await client.call('wanbond', 'status', {}, 5000);
  } finally {
    await client.close();
  }
}

function fmtMs(v: number | null): string {
  return v === null ? '-' : `${v < 10 ? v.toFixed(1) : Math.round(v)}ms`;
}
function fmtPct(v: number | null): string {
  return v === null ? '-' : `${v < 10 ? v.toFixed(1) : Math.round(v)}%`;
}
/** Down/up capacity; `~` marks a measured one (packet trains), `>` one the router reported. */
function fmtCapacity(l: LinkStatus): string {
  const one = (v: number | null, src: LinkStatus['capacity_down_source']) =>
    v === null ? '?' : `${src === 'measured' ? '~' : src === 'router' ? '>' : ''}${fmtRate(v)}`;
  return `${one(l.capacity_down_kbit, l.capacity_down_source)}/${one(l.capacity_up_kbit, l.capacity_up_source)}`;
}
/** In the bond or not; `*` marks the link this end's express traffic (small non-TCP packets) leaves by. */
function fmtBond(l: LinkStatus): string {
  return `${l.in_bond ? 'yes' : 'no'}${l.express ? '*' : ''}`;
}
function fmtRate(kbit: number): string {
  if (kbit >= 1000) return `${(kbit / 1000).toFixed(kbit >= 100000 ? 0 : 1)}M`;
  return `${Math.round(kbit)}k`;
}
export function fmtDuration(sec: number): string {
  const s = Math.max(0, Math.floor(sec));
  if (s < 60) return `${s}s`;
  if (s < 3600) return `${Math.floor(s / 60)}m${String(s % 60).padStart(2, '0')}s`;
  if (s < 86400) return `${Math.floor(s / 3600)}h${String(Math.floor((s % 3600) / 60)).padStart(2, '0')}m`;
  return `${Math.floor(s / 86400)}d${String(Math.floor((s % 86400) / 3600)).padStart(2, '0')}h`;
}

function table(rows: string[][]): string[] {
  const widths = rows[0]!.map((_, i) => Math.max(...rows.map((r) => (r[i] ?? '').length)));
  return rows.map((r) => r.map((c, i) => (i === r.length - 1 ? c : c.padEnd(widths[i]!))).join('  ').trimEnd());
}

/** The human view: one header block, one row per link. */
export function formatStatus(s: Status, nowSec: number): string[] {
  const g = s.globals;
  const lines = [
    `wanbond ${g.version} ${g.role} on ${g.hostname}, ${g.enabled ? 'enabled' : 'disabled'}, up ${fmtDuration(g.uptime)}`,
    `bond ${s.bond.name} (${s.bond.mode}, mtu ${s.bond.mtu}): ${s.bond.members.length ? s.bond.members.join(' ') : 'no members'}` +
      `, rx ${fmtRate(s.bond.rx_rate_kbit)}bit/s tx ${fmtRate(s.bond.tx_rate_kbit)}bit/s`,
  ];
  if (g.role === 'router') {
    lines.push(
      `concentrator ${s.concentrator.host}: ${s.concentrator.reachable ? 'reachable' : 'unreachable'} for ${fmtDuration(nowSec - s.concentrator.since)}` +
        (s.fallback ? ' (fallback: LAN traffic goes direct)' : ''),
    );
  }
  lines.push('');
  const rows: string[][] = [['LINK', 'STATUS', 'BOND', 'IFACE', 'DEVICE', 'RTT', 'JITTER', 'LOSS', 'RX', 'TX', 'CAP DN/UP', 'SINCE', 'REASON']];
  for (const l of s.links as LinkStatus[]) {
    rows.push([
      l.name,
      l.status,
      fmtBond(l),
      l.interface ?? '-',
      l.device ?? '-',
      fmtMs(l.rtt_ms),
      fmtMs(l.jitter_ms),
      fmtPct(l.loss_pct),
      fmtRate(l.rx_rate_kbit),
      fmtRate(l.tx_rate_kbit),
      fmtCapacity(l),
      fmtDuration(nowSec - l.since),
      l.reason || '-',
    ]);
  }
  if (s.links.length === 0) return [...lines, 'no links configured'];
  const notes: string[] = [];
  if (s.links.some((l) => l.express)) notes.push('bond: * express link: small non-TCP packets (calls, DNS, pings) leave by it, bypassing the bond');
  const cap = [];
  if (s.links.some((l) => l.capacity_down_source === 'measured' || l.capacity_up_source === 'measured')) cap.push('~ measured by packet trains');
  if (s.links.some((l) => l.capacity_down_source === 'router')) cap.push('> as the router reported');
  if (cap.length) notes.push(`capacity: ${cap.join('; ')}`);
  return [...lines, ...table(rows), ...(notes.length ? ['', ...notes] : [])];
}

export async function runStatus(args: string[], io: StatusIo): Promise<number> {
  const json = args.includes('--json');
  const unknown = args.filter((a) => a !== '--json');
  if (unknown.length) {
    io.err(`wanbond status: unknown option '${unknown[0]}' (usage: wanbond status [--json])`);
    return 2;
  }
  let status: unknown;
  const problems: string[] = [];
  try {
    status = await viaUbus(io.ubusSocket);
  } catch (e) {
    problems.push(`ubus: ${e instanceof UbusError ? e.message : (e as Error).message}`);
  }
  if (status === undefined || status === null) {
    const path = io.controlSocket ?? CONTROL_SOCKET_PATH;
    try {
      status = await controlCall('status', {}, { path });
    } catch (e) {
      problems.push(`control socket: ${e instanceof ControlError ? e.message : (e as Error).message}`);
    }
  }
  if (status === undefined || status === null || typeof status !== 'object') {
    io.err('wanbond: no running agent answered (is the service started? try /etc/init.d/wanbond start)');
    for (const p of problems) io.err(`  ${p}`);
    return 1;
  }
  if (json) {
    io.out(stringifyBlobmsg(status as never, '\t')); // tab-indented, as `ubus call` prints
    return 0;
  }
  const now = io.now ? io.now() : Date.now() / 1000;
  for (const line of formatStatus(status as Status, now)) io.out(line);
  return 0;
}

export const statusCommand: Command = {
  name: 'status',
  summary: 'show links, bond and concentrator state of the running agent [--json]',
  run: (args) =>
    runStatus(args, {
      out: (l) => process.stdout.write(l + '\n'),
      err: (l) => process.stderr.write(l + '\n'),
      ubusSocket: process.env.WANBOND_UBUS_SOCKET || undefined,
      controlSocket: process.env.WANBOND_CONTROL_SOCKET || undefined,
    }),
};

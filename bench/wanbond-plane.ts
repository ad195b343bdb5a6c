// Guest side: wanbond itself as the data plane — `wanbond run` (dist/wanbond.js) at the router and
// the concentrator of the lab, configured by UCI files as a user would (each link's rates given,
// health left at its defaults), with in-kernel WireGuard. Every line the agents log is stamped
// with the time the bench saw it, so the bench can tell how fast they acted.
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { REPO_ROOT } from '../lab/run.ts';
import type { Lab, SpawnedProcess } from '../lab/topology.ts';

const DIR = '/tmp/wbbench'; // guest tmpfs
const SUBNET = '10.213.1.0/24';
const AGENT = join(REPO_ROOT, 'dist', 'wanbond.js');

export interface StampedLine {
  at: number;
  side: 'router' | 'conc';
  line: string;
}

export interface WanbondPlane {
  router: SpawnedProcess;
  conc: SpawnedProcess;
  /** Every line either agent logged since `fromMs` (unix ms, as the bench saw it). */
  lines(fromMs?: number): StampedLine[];
  /** Link state changes logged since `fromMs`: at, side, link, from, to. */
  moves(fromMs?: number): { at: number; side: 'router' | 'conc'; link: string; from: string; to: string }[];
  stop(): Promise<void>;
}

async function keypair(lab: Lab, path: string): Promise<string> {
  const priv = (await lab.exec('router', ['wg', 'genkey'])).stdout.trim();
  writeFileSync(path, priv + '\n', { mode: 0o600 });
  return (await lab.exec('router', ['wg', 'pubkey'], { input: priv + '\n' })).stdout.trim();
}

/** Stamps each new complete output line of `p` (polled every 25 ms; output() keeps the last 64 KiB). */
function stamper(p: SpawnedProcess, side: StampedLine['side'], into: StampedLine[]): () => void {
  let tail = '';
  let carry = '';
  const t = setInterval(() => {
    const all = p.output();
    // output() is a sliding window: new text starts after the last tail we saw.
    const i = tail ? all.lastIndexOf(tail) : -1;
    const fresh = tail && i < 0 ? all : all.slice(i < 0 ? 0 : i + tail.length);
    tail = all.slice(-256);
    if (!fresh) return;
    const parts = (carry + fresh).split('\n');
    carry = parts.pop()!;
    const at = Date.now();
    for (const line of parts) if (line) into.push({ at, side, line });
  }, 25);
  return () => clearInterval(t);
}

/**
 * `rates: false` leaves the links' rates out of the router's config (nothing shaped; capacities
 * measured by packet trains); `logLevel` 'debug' has both agents log every command they run.
 */
export async function startWanbond(lab: Lab, opts: { rates?: boolean; logLevel?: 'info' | 'debug' } = {}): Promise<WanbondPlane> {
  const level = opts.logLevel ? [`\toption log_level '${opts.logLevel}'`] : [];
  mkdirSync(DIR, { recursive: true, mode: 0o700 });
  const concPub = await keypair(lab, `${DIR}/conc.key`);
  const peers: string[] = [];
  const router = ['config globals', "\toption enabled '1'", "\toption role 'router'", "\toption mode 'balance-rr'", ...level, '',
    'config concentrator', `\toption host '${lab.conc.address}'`, "\toption port '51820'", `\toption public_key '${concPub}'`,
    "\toption site 'bench'", `\toption subnet '${SUBNET}'`, ''];
  for (const l of lab.links) {
    const id = l.index + 1;
    const pub = await keypair(lab, `${DIR}/${l.name}.key`);
    peers.push(`${id}:${l.name}:${pub}`);
    router.push(`config link '${l.name}'`, `\toption id '${id}'`, `\toption device '${l.device}'`, `\toption gateway '${l.gateway}'`,
      ...(opts.rates === false ? [] : [`\toption rate_down '${l.profile.rate_down_kbit}'`, `\toption rate_up '${l.profile.rate_up_kbit}'`]),
      `\toption private_key_file '${DIR}/${l.name}.key'`, '');
  }
  const conc = ['config globals', "\toption enabled '1'", "\toption role 'concentrator'", "\toption listen_port '51820'",
    `\toption private_key_file '${DIR}/conc.key'`, `\toption public_interface '${lab.conc.dev}'`, ...level, '',
    "config site 'bench'", `\toption subnet '${SUBNET}'`, ...peers.map((p) => `\tlist peer '${p}'`), ''];
  writeFileSync(`${DIR}/router.uci`, router.join('\n'));
  writeFileSync(`${DIR}/conc.uci`, conc.join('\n'));
  const concP = lab.spawnIsolated(lab.conc.ns, ['node', AGENT, 'run', '--config', `${DIR}/conc.uci`, '--control', `${DIR}/conc.sock`]);
  const routerP = lab.spawnIsolated('router', ['node', AGENT, 'run', '--config', `${DIR}/router.uci`, '--control', `${DIR}/router.sock`]);
  const stamped: StampedLine[] = [];
  const stops = [stamper(routerP, 'router', stamped), stamper(concP, 'conc', stamped)];
  const lines = (fromMs = 0) => stamped.filter((l) => l.at >= fromMs);
  return {
    router: routerP,
    conc: concP,
    lines,
    moves(fromMs = 0) {
      return lines(fromMs).flatMap((l) => {
        const m = /link (\S+): (\w+) -> (\w+) \(/.exec(l.line);
        return m ? [{ at: l.at, side: l.side, link: m[1]!, from: m[2]!, to: m[3]! }] : [];
      });
    },
    async stop() {
      for (const s of stops) s();
      await routerP.stop();
      await concP.stop();
      await lab.execIsolated('router', ['node', AGENT, 'down', '--config', `${DIR}/router.uci`], { reject: false, timeoutMs: 120_000 });
      await lab.execIsolated(lab.conc.ns, ['node', AGENT, 'down', '--config', `${DIR}/conc.uci`], { reject: false, timeoutMs: 120_000 });
    },
  };
}

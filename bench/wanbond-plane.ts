// Guest side: wanbond itself as the data plane — `wanbond run` (dist/wanbond.js) at the router and
// the concentrator of the lab, configured by UCI files as a user would (link rates given, so the
// router knows its links' capacities), with their own WireGuard (wireguard-go in the lab).
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { REPO_ROOT } from '../lab/run.ts';
import type { Lab, SpawnedProcess } from '../lab/topology.ts';

const DIR = '/tmp/wbbench'; // guest tmpfs
const SUBNET = '10.213.1.0/24';
const AGENT = join(REPO_ROOT, 'dist', 'wanbond.js');

export interface WanbondPlane {
  router: SpawnedProcess;
  conc: SpawnedProcess;
  /** Link state changes the router's agent logged: [link, from, to]. */
  moves(fromChars?: number): [string, string, string][];
  stop(): Promise<void>;
}

async function keypair(lab: Lab, path: string): Promise<string> {
  const priv = (await lab.exec('router', ['wg', 'genkey'])).stdout.trim();
  writeFileSync(path, priv + '\n', { mode: 0o600 });
  return (await lab.exec('router', ['wg', 'pubkey'], { input: priv + '\n' })).stdout.trim();
}

export async function startWanbond(lab: Lab): Promise<WanbondPlane> {
  mkdirSync(DIR, { recursive: true, mode: 0o700 });
  const concPub = await keypair(lab, `${DIR}/conc.key`);
  const peers: string[] = [];
  const router = ['config globals', "\toption enabled '1'", "\toption role 'router'", "\toption mode 'balance-rr'", '',
    'config concentrator', `\toption host '${lab.conc.address}'`, "\toption port '51820'", `\toption public_key '${concPub}'`,
    "\toption site 'bench'", `\toption subnet '${SUBNET}'`, ''];
  for (const l of lab.links) {
    const id = l.index + 1;
    const pub = await keypair(lab, `${DIR}/${l.name}.key`);
    peers.push(`${id}:${l.name}:${pub}`);
    router.push(`config link '${l.name}'`, `\toption id '${id}'`, `\toption device '${l.device}'`, `\toption gateway '${l.gateway}'`,
      `\toption rate_down '${l.profile.rate_down_kbit}'`, `\toption rate_up '${l.profile.rate_up_kbit}'`,
      `\toption private_key_file '${DIR}/${l.name}.key'`, '');
  }
  const conc = ['config globals', "\toption enabled '1'", "\toption role 'concentrator'", "\toption listen_port '51820'",
    `\toption private_key_file '${DIR}/conc.key'`, `\toption public_interface '${lab.conc.dev}'`, '',
    "config site 'bench'", `\toption subnet '${SUBNET}'`, ...peers.map((p) => `\tlist peer '${p}'`), ''];
  // wireguard-go and both agents share the lab's one CPU: round trips through the tunnels reach a
  // second or more at times, which says nothing about the emulated links. Judge by loss and
  // silence here, not by delay (the same as the stack's own lab tests do).
  const health = ['config health', "\toption failure_latency '10000'", "\toption recovery_latency '8000'", ''];
  writeFileSync(`${DIR}/router.uci`, [...router, ...health].join('\n'));
  writeFileSync(`${DIR}/conc.uci`, [...conc, ...health].join('\n'));
  const concP = lab.spawnIsolated(lab.conc.ns, ['node', AGENT, 'run', '--config', `${DIR}/conc.uci`, '--control', `${DIR}/conc.sock`]);
  const routerP = lab.spawnIsolated('router', ['node', AGENT, 'run', '--config', `${DIR}/router.uci`, '--control', `${DIR}/router.sock`]);
  return {
    router: routerP,
    conc: concP,
    moves(fromChars = 0) {
      return [...routerP.output().slice(fromChars).matchAll(/link (\S+): (\w+) -> (\w+) \(/g)].map((m) => [m[1]!, m[2]!, m[3]!]);
    },
    async stop() {
      await routerP.stop();
      await concP.stop();
      await lab.execIsolated('router', ['node', AGENT, 'down', '--config', `${DIR}/router.uci`], { reject: false, timeoutMs: 120_000 });
      await lab.execIsolated(lab.conc.ns, ['node', AGENT, 'down', '--config', `${DIR}/conc.uci`], { reject: false, timeoutMs: 120_000 });
    },
  };
}

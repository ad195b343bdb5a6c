// Shared by the stack's lab tests: UCI files for router and concentrator written the way a user
// would, keys made with `wg`, the agent run from dist/wanbond.js inside the lab's namespaces, and
// the host half that boots the lab once per test file and turns its checks into node:test cases.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, writeFileSync } from 'node:fs';
import { execa } from 'execa';
import type { Lab, LabSite } from '../../lab/topology.ts';
import { CONC } from '../../lab/topology.ts';
import type { ScenarioResult } from '../../lab/scenario.ts';

export const AGENT = 'dist/wanbond.js';
export const SCRATCH = '/tmp/wb';

export const inGuest = () => !!process.env['WANBOND_LAB_RESULT'];

/** Host side: boot the lab once with this file as the scenario, then one test per check. */
export function labTest(file: string, title: string, timeoutSec: number, args: string[] = [], env: Record<string, string> = {}): void {
  test(title, { timeout: (timeoutSec + 120) * 1000 }, async (t) => {
    const { runInLab } = await import('../../lab/run.ts');
    const r = await runInLab({ scenario: file, args, timeoutSec, env: { ...(DIAG ? { LAB_DIAG: DIAG } : {}), ...env } });
    const res = r.result as ScenarioResult | null;
    if (!res || res.error || r.exitCode !== 0) {
      console.log(r.output.slice(-6000));
    }
    assert.ok(res, `the scenario wrote no result (exit ${r.exitCode}${r.timedOut ? ', timed out' : ''})`);
    for (const c of res.checks) {
      await t.test(c.name, () => assert.ok(c.ok, c.detail));
    }
    if (Object.keys(res.figures).length) console.log(`figures: ${JSON.stringify(res.figures)}`);
    assert.equal(res.error, undefined, res.error);
    assert.ok(res.checks.length > 0, 'no checks ran');
  });
}

export async function genKey(path: string): Promise<string> {
  mkdirSync(path.replace(/\/[^/]+$/, ''), { recursive: true, mode: 0o700 });
  const priv = (await execa('wg', ['genkey'])).stdout.trim();
  writeFileSync(path, priv + '\n', { mode: 0o600 });
  return (await execa('wg', ['pubkey'], { input: priv })).stdout.trim();
}

export interface RouterOpts {
  site: LabSite;
  dir: string;
  concKey?: string;
  subnet?: string;
  siteName?: string;
  mode?: string;
  extraGlobals?: string[];
  /** Give each link its lab profile's rate_down / rate_up, as a user who knows them would. */
  rates?: boolean;
}

/** Router UCI: one link per lab modem, with device + gateway (no netifd in the lab). */
export function routerUci(o: RouterOpts): string {
  const lines = ['config globals', "\toption enabled '1'", "\toption role 'router'", `\toption mode '${o.mode ?? 'balance-rr'}'`, ...DIAG_GLOBALS, ...(o.extraGlobals ?? []), ''];
  if (o.concKey) {
    lines.push('config concentrator', `\toption host '${CONC.address}'`, "\toption port '51820'", `\toption public_key '${o.concKey}'`,
      `\toption site '${o.siteName ?? 'home'}'`, `\toption subnet '${o.subnet ?? '10.213.1.0/24'}'`, '');
  }
  for (const l of o.site.links) {
    lines.push(`config link '${l.name}'`, `\toption id '${l.index + 1}'`, `\toption device '${l.device}'`, `\toption gateway '${l.gateway}'`,
      `\toption private_key_file '${o.dir}/${l.name}.key'`,
      ...(o.rates ? [`\toption rate_down '${l.profile.rate_down_kbit}'`, `\toption rate_up '${l.profile.rate_up_kbit}'`] : []), '');
  }
  return lines.join('\n');
}

export function concUci(dir: string, sites: { name: string; subnet: string; peers: string[] }[]): string {
  const lines = ['config globals', "\toption enabled '1'", "\toption role 'concentrator'", "\toption listen_port '51820'",
    `\toption private_key_file '${dir}/conc.key'`, `\toption public_interface '${CONC.dev}'`, ...DIAG_GLOBALS, ''];
  for (const s of sites) {
    lines.push(`config site '${s.name}'`, `\toption subnet '${s.subnet}'`, ...s.peers.map((p) => `\tlist peer '${p}'`), '');
  }
  return lines.join('\n');
}

/** Run the agent's CLI in a namespace (its own /var/run/wireguard), never throwing. */
export async function agent(lab: Lab, ns: string, args: string[], timeoutMs = 120_000) {
  const r = await lab.execIsolated(ns, ['node', AGENT, ...args], { reject: false, timeoutMs });
  const m = /(?:would run|ran|removed \() ?(\d+) command/.exec(r.stderr);
  return { ...r, commands: /nothing to do|nothing of wanbond/.test(r.stderr) ? 0 : m ? Number(m[1]) : -1 };
}

/** Wait until `probe` is true (polling), up to `ms`. */
export async function until(probe: () => Promise<boolean>, ms: number, stepMs = 500): Promise<boolean> {
  const end = Date.now() + ms;
  while (Date.now() < end) {
    if (await probe()) return true;
    await new Promise((r) => setTimeout(r, stepMs));
  }
  return probe();
}

/**
 * `wanbond run` at the concentrator and the router of the lab's first site; `online` once the LAN
 * client reaches the internet through the concentrator (checked by the caller).
 */
export async function runAgents(lab: Lab, cfg: { router: string; conc: string }) {
  const concAgent = lab.spawnIsolated(CONC.ns, stamped(['node', AGENT, 'run', '--config', cfg.conc]));
  const routerAgent = lab.spawnIsolated('router', stamped(['node', AGENT, 'run', '--config', cfg.router]));
  const saveLogs = () => {
    if (!DIAG) return;
    mkdirSync(DIAG, { recursive: true });
    writeFileSync(`${DIAG}/router-agent.log`, routerAgent.output());
    writeFileSync(`${DIAG}/conc-agent.log`, concAgent.output());
  };
  if (DIAG) setInterval(saveLogs, 1000).unref();
  let seen = '';
  const online = await until(async () => (seen = await lab.whoami(lab.sites[0]!.lanNs).catch((e: Error) => e.message)) === CONC.address, 120_000, 1000);
  return { concAgent, routerAgent, online, saveLogs, detail: `${seen}; router: ${firstLines(routerAgent.output(), 6)}` };
}

/**
 * LAB_DIAG=<dir> (a host path: the guest sees the host's files) for reading a lab failure
 * afterwards: the agents of the UCI files written here log at debug, and runAgents' stamp each
 * line with the time into <dir>/{router,conc}-agent.log.
 */
export const DIAG = process.env['LAB_DIAG'];

/** The agents of the UCI files written here log at debug under LAB_DIAG. */
const DIAG_GLOBALS = DIAG ? ["\toption log_level 'debug'"] : [];

/** argv run under perl, which stamps each output line and passes SIGTERM on (stopping works as without it). */
function stamped(argv: string[]): string[] {
  const STAMP = 'my $p = open(my $fh, "-|") // die; if (!$p) { open STDERR, ">&STDOUT"; exec @ARGV } $SIG{TERM} = sub { kill "TERM", $p }; ' +
    '$| = 1; while (<$fh>) { printf "%.2f %s", time, $_ } waitpid $p, 0;';
  return DIAG ? ['perl', '-MTime::HiRes=time', '-e', STAMP, ...argv] : argv;
}

/** Slaves of a bond as the kernel lists them. */
export async function bondSlaves(lab: Lab, ns: string, bond: string): Promise<number> {
  return ((await lab.exec(ns, ['cat', `/proc/net/bonding/${bond}`], { reject: false })).stdout.match(/^Slave Interface:/gm) ?? []).length;
}

/** Links (1-based) with at least one gretap in a bond, as the kernel lists them: steering may give a link several. */
export async function bondLinkIds(lab: Lab, ns: string, bond: string): Promise<number[]> {
  const r = await lab.exec(ns, ['cat', `/proc/net/bonding/${bond}`], { reject: false });
  return [...new Set([...r.stdout.matchAll(/^Slave Interface: wb(?:[0-9a-f]{4})?g(\d+)p\d+$/gm)].map((m) => Number(m[1])))].sort();
}

/** Every link `up` in the router agent's `wanbond status --json`. */
export async function allLinksUp(lab: Lab): Promise<boolean> {
  const r = await lab.execIsolated('router', ['node', AGENT, 'status', '--json'], { reject: false, timeoutMs: 60_000 });
  try {
    return (JSON.parse(r.stdout) as { links: { status: string }[] }).links.every((l) => l.status === 'up');
  } catch {
    return false;
  }
}

/** Everything a second apply would find to do, as JSON-able text, for failure details. */
export function firstLines(s: string, n = 12): string {
  return s.trim().split('\n').slice(0, n).join(' | ');
}

/** Keys and UCI files for the lab's first site and the concentrator; returns the two paths. */
export async function configureOneSite(lab: Lab, dir: string, extraGlobals: string[] = [], rates = false): Promise<{ router: string; conc: string }> {
  const site = lab.sites[0]!;
  const concKey = await genKey(`${dir}/conc.key`);
  const peers: string[] = [];
  for (const l of site.links) peers.push(`${l.index + 1}:${l.name}:${await genKey(`${dir}/${l.name}.key`)}`);
  writeFileSync(`${dir}/conc.uci`, concUci(dir, [{ name: 'home', subnet: '10.213.1.0/24', peers }]));
  writeFileSync(`${dir}/router.uci`, routerUci({ site, dir, concKey, extraGlobals, rates }));
  return { router: `${dir}/router.uci`, conc: `${dir}/conc.uci` };
}

/** Where two dumpState results differ, briefly (for a failing check's detail). */
export function stateDiff(a: unknown, b: unknown): string {
  const out: string[] = [];
  const A = a as Record<string, unknown>, B = b as Record<string, unknown>;
  for (const k of Object.keys(A)) {
    const x = JSON.stringify(A[k]), y = JSON.stringify(B[k]);
    if (x === y) continue;
    let i = 0;
    while (i < x.length && x[i] === y[i]) i++;
    out.push(`${k}: before ...${x.slice(Math.max(0, i - 80), i + 120)}... after ...${y.slice(Math.max(0, i - 80), i + 120)}...`);
  }
  return out.join(' || ') || 'identical';
}

/**
 * dumpState with iptables tables that hold nothing but empty built-in chains (policy ACCEPT)
 * left out: the kernel creates a namespace's iptables tables when they are first used and never
 * removes them, and such a table filters nothing.
 */
export function withoutEmptyIptables<T extends { iptables: string[] }>(s: T): T {
  const out: string[] = [];
  let table: string[] = [];
  for (const line of s.iptables) {
    if (line.startsWith('*')) table = [line];
    else if (line === 'COMMIT') {
      const empty = table.slice(1).every((l) => /^:[A-Z]+ ACCEPT/.test(l));
      if (!empty) out.push(...table, line);
      table = [];
    } else if (table.length) table.push(line);
    else out.push(line);
  }
  return { ...s, iptables: out };
}

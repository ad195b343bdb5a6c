// Two real health monitors talking over real UDP on loopback: the concentrator in this process,
// the router in a child process that the test freezes with SIGSTOP, as a starved CPU or a process
// start freezes an agent in the field (and the lab's one-CPU guest, where CI went red on it).
// What is under test is the wiring between them: who notices a stall, what it tells the peer,
// and that neither end blames the links for it, while a link that does fall silent is still
// judged. Real time, no clock of the test's own: the bounds are loose, the outcomes are not.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { fork, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { HealthMonitor, type MonitoredLink } from '../../src/health/monitor.ts';
import { HEALTH_DEFAULTS } from '../../src/config/defaults.ts';
import { createLogger } from '../../src/log.ts';
import type { LinkEvent } from '../../src/status/types.ts';
import type { PeerSetup } from './helpers/health-peer.ts';

const PORT = 30000 + Math.floor(Math.random() * 10000);
const IDS = [1, 2, 3];
const link = (id: number, router: boolean): MonitoredLink => ({
  key: router ? `wan${id}` : `site/wan${id}`,
  name: `wan${id}`,
  id,
  local: `127.77.${id}.${router ? 1 : 2}`,
  peer: `127.77.${id}.${router ? 2 : 1}`,
  role: 'active',
  enabled: true,
  // Configured rates: no packet trains, whose shadows would be a second subject.
  tx_rate_kbit: 4000,
  rx_rate_kbit: 4000,
  rx_devs: [],
});

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const freezeThisProcess = (ms: number) => {
  const end = Date.now() + ms;
  while (Date.now() < end);
};

let child: ChildProcess;
let conc: HealthMonitor;
const concEvents: LinkEvent[] = [];
const routerEvents: LinkEvent[] = [];
const concLog: string[] = [];
const routerLog: string[] = [];
const routerUp = new Set<string>();

async function until(what: string, ok: () => boolean, ms: number): Promise<void> {
  const end = Date.now() + ms;
  while (!ok()) {
    if (Date.now() > end) assert.fail(`${what} not within ${ms} ms: ${logs()}`);
    await sleep(20);
  }
}

const logs = () => `\nconcentrator:\n${concLog.slice(-12).join('\n')}\nrouter:\n${routerLog.slice(-12).join('\n')}`;
const allUp = () => conc.status().every((s) => s.status === 'up') && IDS.every((id) => routerUp.has(`wan${id}`));

before(async () => {
  const log = createLogger('conc', 'debug', (line) => concLog.push(line));
  conc = new HealthMonitor({ role: 'concentrator', health: HEALTH_DEFAULTS, fallback: { enabled: false, timeout_s: 30 }, log, port: PORT, startupGraceMs: 0 });
  conc.on('link', (ev) => concEvents.push(ev));
  conc.setLinks(IDS.map((id) => link(id, false)));
  conc.start();
  const setup: PeerSetup = { port: PORT, links: IDS.map((id) => link(id, true)) };
  child = fork(fileURLToPath(new URL('./helpers/health-peer.ts', import.meta.url)), [JSON.stringify(setup)], { execArgv: ['--import', 'tsx'] });
  child.on('message', (m: { kind: string; ev?: LinkEvent; line?: string }) => {
    if (m.kind === 'log') routerLog.push(m.line!);
    if (m.kind === 'link') {
      routerEvents.push(m.ev!);
      if (m.ev!.to === 'up') routerUp.add(m.ev!.link);
      else routerUp.delete(m.ev!.link);
    }
  });
  await until('every link up at both ends', allUp, 20_000);
});

after(() => {
  conc?.stop();
  child?.kill('SIGKILL');
});

test('a frozen router is not blamed on its links: the concentrator keeps every link up', async () => {
  const [c0, r0, l0, rl0] = [concEvents.length, routerEvents.length, concLog.length, routerLog.length];
  child.kill('SIGSTOP');
  await sleep(1200);
  child.kill('SIGCONT');
  await sleep(2500);
  assert.deepEqual(concEvents.slice(c0).map((e) => `${e.link} ${e.to}: ${e.reason}`), [], 'the concentrator changed no link');
  assert.deepEqual(routerEvents.slice(r0).map((e) => `${e.link} ${e.to}: ${e.reason}`), [], 'the router changed no link');
  assert.ok(routerLog.slice(rl0).some((l) => /this end stalled \d+ ms/.test(l)), `the router noticed its own stall: ${logs()}`);
  assert.ok(concLog.slice(l0).some((l) => /the peer site stalled \d+ ms/.test(l)), `the router told the concentrator: ${logs()}`);
  assert.ok(allUp());
});

test('a frozen concentrator is not blamed on the links either: the router keeps every link up', async () => {
  const [c0, r0, l0, cl0] = [concEvents.length, routerEvents.length, routerLog.length, concLog.length];
  freezeThisProcess(1200);
  await sleep(2500);
  assert.deepEqual(concEvents.slice(c0).map((e) => `${e.link} ${e.to}: ${e.reason}`), [], 'the concentrator changed no link');
  assert.deepEqual(routerEvents.slice(r0).map((e) => `${e.link} ${e.to}: ${e.reason}`), [], 'the router changed no link');
  assert.ok(concLog.slice(cl0).some((l) => /this end stalled \d+ ms/.test(l)), `the concentrator noticed its own stall: ${logs()}`);
  assert.ok(routerLog.slice(l0).some((l) => /the peer stalled \d+ ms/.test(l)), `the concentrator told the router: ${logs()}`);
  assert.ok(allUp());
});

test('a link that falls silent while the others answer is still judged, and only that one', async () => {
  const c0 = concEvents.length;
  const at = Date.now();
  child.send({ cmd: 'cut', key: 'wan2' });
  await until('site/wan2 down at the concentrator', () => concEvents.slice(c0).some((e) => e.link === 'site/wan2' && e.to === 'down'), 5000);
  const decidedMs = Date.now() - at;
  await sleep(500);
  assert.deepEqual(concEvents.slice(c0).map((e) => `${e.link} ${e.to}`), ['site/wan2 down'], 'only the silent link left');
  // The defaults decide a cut about 0.5 s after its last reply; this bound only rules out the
  // 3 s that "every link silent" waits, which is not the case here.
  assert.ok(decidedMs < 2500, `decided after ${decidedMs} ms`);
});

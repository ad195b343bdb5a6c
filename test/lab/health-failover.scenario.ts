// Guest side of test/lab/health-failover.test.ts: the kernel bond of bench/kernel-dataplane.ts with
// wanbond's health monitor at both ends (bench/kernel-agent.ts). Cuts one link under traffic and
// records when it left this end's transmit set and when it came back; sends garbage at a probe
// socket. Writes figures and checks for the host-side test to assert on.
import { join } from 'node:path';
import { loadProfile } from '../../lab/profile.ts';
import { REPO_ROOT } from '../../lab/run.ts';
import { log, runScenario } from '../../lab/scenario.ts';
import { buildTopology, type SpawnedProcess } from '../../lab/topology.ts';
import type { Health } from '../../src/config/types.ts';
import { HEALTH_PORT } from '../../src/health/probe-socket.ts';
import { buildPlane, gretapDev, pinLinks, probeConc, probeRouter } from '../../bench/kernel-dataplane.ts';
import type { AgentSpec } from '../../bench/kernel-agent.ts';

interface Line { kind: string; at: number; link?: string; from?: string; to?: string; reason?: string; members?: string[]; garbage?: Record<string, number> }
const parse = (p: SpawnedProcess): Line[] =>
  p.output().split('\n').filter((s) => s.startsWith('{')).map((s) => JSON.parse(s) as Line);
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
// The defaults' timing, with latency thresholds raised: a one-CPU guest on a busy CI machine
// delays the agents' own timers by hundreds of ms, which must not read as a slow link here.
const HEALTH: Health = { interval: 0.1, failure_latency: 4000, recovery_latency: 3000, failure_loss: 20, recovery_loss: 5, down: 5, up: 10 };

await runScenario(async ({ check, figure }) => {
  const lab = await buildTopology(loadProfile(join(REPO_ROOT, 'bench', 'profiles', 'hetero-3.json')), { services: true });
  await pinLinks(lab);
  const paths = [2, 1, 1];
  await buildPlane(lab, { paths, extraRouter: [0, 0, 0], extraConc: [0, 0, 0], mode: 'balance-rr' });
  const agent = join(REPO_ROOT, 'dist', 'bench', 'kernel-agent.mjs'); // bundled by the test (bench/bundle.ts)
  const spec = (role: AgentSpec['role']): string => {
    const r = role === 'router';
    const links = lab.links.map((l) => {
      const n = l.index + 1;
      const gretaps = Array.from({ length: paths[l.index]! }, (_, p) => gretapDev(n, p + 1));
      return { key: l.name, name: l.name, id: n, local: r ? probeRouter(n) : probeConc(n), peer: r ? probeConc(n) : probeRouter(n), role: 'active' as const, enabled: true, rx_devs: gretaps, gretaps };
    });
    return JSON.stringify({ role, health: HEALTH, links, equalise: false } satisfies AgentSpec);
  };
  const router = lab.spawn('router', ['node', agent, spec('router')]);
  const conc = lab.spawn(lab.conc.ns, ['node', agent, spec('concentrator')]);
  const members = (p: SpawnedProcess) => parse(p).filter((l) => l.kind === 'applied').at(-1)?.members ?? [];
  // Up = the link's last event took it to 'up' (with nothing answering, every link is a member).
  const upLinks = (p: SpawnedProcess) => lab.links.filter((l) => parse(p).filter((e) => e.kind === 'link' && e.link === l.name).at(-1)?.to === 'up').map((l) => l.name);
  const deadline = Date.now() + 90_000;
  while (Date.now() < deadline && (upLinks(router).length < 3 || upLinks(conc).length < 3 || members(router).length < 3)) await sleep(250);
  check('every link comes up and joins the transmit set at both ends', upLinks(router).length === 3 && upLinks(conc).length === 3 && members(router).length === 3,
    `router ${upLinks(router).join(',')} / concentrator ${upLinks(conc).join(',')}`);

  // Garbage at the router's probe socket on link 1, from the concentrator's tunnel address.
  const junk = `const s=require('dgram').createSocket('udp4');const m=['x','{"v":1,"t":"probe"}','{"v":9}','[]'];let i=0;` +
    `s.bind({address:'${probeConc(1)}'},()=>{const f=()=>{if(i>=40)return s.close();s.send(m[i++%4],${HEALTH_PORT},'${probeRouter(1)}',f)};f()})`;
  await lab.exec(lab.conc.ns, ['node', '-e', junk], { timeoutMs: 20_000 });

  const victim = lab.links[0]!;
  const gretapsDown = async () => {
    const j = JSON.parse((await lab.exec('router', ['ip', '-j', 'link', 'show'])).stdout) as { ifname: string; flags: string[] }[];
    return j.filter((d) => d.ifname.startsWith(`wbg1p`)).every((d) => !d.flags.includes('UP'));
  };
  // Traffic through the bond during the cut: pings from the LAN client.
  const during = lab.ping('lan', lab.server.address, 40, { intervalSec: 0.1 });
  await sleep(1000);
  const cutAt = Date.now();
  await lab.setLink(victim, { loss_pct: 100 });
  await sleep(4000);
  const out = await gretapsDown();
  const stateAtCut = parse(router).filter((l) => l.kind === 'link' && l.link === victim.name && l.at < cutAt).at(-1)?.to;
  figure('state_at_cut', stateAtCut ?? null);
  const left = parse(router).find((l) => l.kind === 'link' && l.link === victim.name && l.from === 'up' && l.at >= cutAt);
  const leftApplied = parse(router).find((l) => l.kind === 'applied' && l.at >= cutAt && !l.members!.includes(victim.name));
  figure('leave_event_s', left ? (left.at - cutAt) / 1000 : null);
  figure('leave_applied_s', leftApplied ? (leftApplied.at - cutAt) / 1000 : null);
  check('the cut link left the router transmit set', !!left && out, `${left?.from} -> ${left?.to}: ${left?.reason}; gretaps down: ${out}`);
  const concLeft = parse(conc).find((l) => l.kind === 'link' && l.link === victim.name && l.from === 'up' && l.at >= cutAt);
  figure('conc_leave_event_s', concLeft ? (concLeft.at - cutAt) / 1000 : null);
  check('the cut link left the concentrator transmit set', !!concLeft, `${concLeft?.reason}`);
  const p = await during;
  figure('ping_lost_during_cut', p.sent - p.received);
  check('traffic kept flowing over the other links', p.received >= 20, `${p.received}/${p.sent} pings answered`);

  const backAt = Date.now();
  await lab.resetLink(victim);
  const until = Date.now() + 30_000;
  while (Date.now() < until && !members(router).includes(victim.name)) await sleep(200);
  const joined = parse(router).find((l) => l.kind === 'link' && l.link === victim.name && l.to === 'up' && l.at >= backAt);
  figure('rejoin_event_s', joined ? (joined.at - backAt) / 1000 : null);
  check('the link rejoined after it recovered', !!joined && !(await gretapsDown()), `${joined?.reason}`);
  // Leaving = from up to anything; rejoining = to up (down -> degraded stays out of the set).
  const moves = parse(router).filter((l) => l.kind === 'link' && l.link === victim.name && l.at >= cutAt);
  const leaves = moves.filter((m) => m.from === 'up').length;
  const joins = moves.filter((m) => m.to === 'up').length;
  check('one leave and one rejoin, no flapping', leaves === 1 && joins === 1, moves.map((m) => `${m.from}->${m.to}`).join(' '));
  const others = parse(router).filter((l) => l.kind === 'link' && l.link !== victim.name && l.at >= cutAt);
  figure('other_link_moves', others.length);
  check('the other links are in the transmit set at the end', lab.links.every((l) => members(router).includes(l.name)),
    `${members(router).join(',')}; moves: ${others.map((m) => `${m.link} ${m.from}->${m.to}`).join(' ')}`);

  await router.stop();
  const g = parse(router).find((l) => l.kind === 'stopped')?.garbage ?? {};
  figure('garbage', JSON.stringify(g));
  check('garbage from the peer is ignored and counted', (g['invalid'] ?? 0) + (g['not_json'] ?? 0) >= 30, JSON.stringify(g));
  log('done');
  await conc.stop();
  await lab.destroy();
});

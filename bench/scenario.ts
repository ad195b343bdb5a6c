// Guest side of `make bench`: builds the lab from a profile, checks the CPU is not the limit,
// measures the plain balance-rr baseline and wanbond's steering on the same lab, runs the cut /
// spike / flap scenarios, and writes every figure (each measured `reps` times) as the result.
// Usage (through runInLab): scenario.ts <profile.json> <reps>
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { loadProfile, sumDownKbit, sumUpKbit } from '../lab/profile.ts';
import { log, writeResult } from '../lab/scenario.ts';
import { buildTopology, type Lab, type SpawnedProcess } from '../lab/topology.ts';
import { REPO_ROOT } from '../lab/run.ts';
import { HEALTH_DEFAULTS } from '../src/config/defaults.ts';
import { pathsFor } from '../src/steer/paths.ts';
import { extraDelays } from '../src/steer/delay.ts';
import { buildPlane, gretapDev, pinLinks, probeConc, probeRouter, removePlane, type KernelPlaneOptions } from './kernel-dataplane.ts';
import type { AgentSpec } from './kernel-agent.ts';
import { bytesAtEnd, longestGap, median, spikeRecovery, voipAliveAtEnd, voipLostSeconds } from './metrics.ts';
import type { VoipTrace } from './voip.ts';
import type { BenchDetail } from './detail.ts';
import { startWanbond } from './wanbond-plane.ts';

const profilePath = process.argv[2] ?? join(REPO_ROOT, 'bench', 'profiles', 'hetero-3.json');
const reps = Math.max(1, Number(process.argv[3] ?? 3));
const profile = loadProfile(profilePath);
const sumDown = sumDownKbit(profile);
const sumUp = sumUpKbit(profile);
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const r3 = (x: number) => Math.round(x * 1000) / 1000;

const out: BenchDetail = { profile, sum_down_kbit: sumDown, sum_up_kbit: sumUp, reps, cpu: { tunnel_kbit: 0, needed_kbit: 0, ok: false }, baseline: {}, variants: {}, planes: {}, plane: 'none', results: null, runs: {} };

async function repeat(name: string, f: () => Promise<number>): Promise<number> {
  const xs: number[] = [];
  for (let i = 0; i < reps; i++) {
    try {
      xs.push(await f());
    } catch (e) {
      log(`${name}: run failed: ${(e as Error).message}`);
      xs.push(0);
    }
  }
  out.runs[name] = xs.map(r3);
  log(`${name}: ${xs.map((x) => x.toFixed(3)).join(' ')} -> median ${median(xs).toFixed(3)}`);
  return r3(median(xs));
}

const down = (lab: Lab, parallel = 1) => async () =>
  (await lab.iperf('lan', { seconds: 10, reverse: true, parallel, extra: ['-O', '2'] })).bitsPerSecond / 1000 / sumDown;
const up = (lab: Lab) => async () => (await lab.iperf('lan', { seconds: 10, extra: ['-O', '2'] })).bitsPerSecond / 1000 / sumUp;

function planOptions(steered: boolean, equalise: boolean): KernelPlaneOptions {
  const ls = profile.links;
  if (!steered) return { paths: ls.map(() => 1), extraRouter: ls.map(() => 0), extraConc: ls.map(() => 0), mode: 'balance-rr' };
  const paths = pathsFor(ls.map((l) => l.rate_down_kbit));
  const eq = (rate: (l: (typeof ls)[number]) => number) =>
    equalise ? extraDelays(ls.map((l) => ({ owd_ms: l.delay_ms, capacity_kbit: rate(l) }))) : ls.map(() => 0);
  return { paths, extraRouter: eq((l) => l.rate_up_kbit), extraConc: eq((l) => l.rate_down_kbit), mode: 'balance-rr' };
}

/** wanbond's health monitor + steering at both ends of the kernel plane. */
function startAgents(lab: Lab, o: KernelPlaneOptions, equalise: boolean): { router: SpawnedProcess; conc: SpawnedProcess } {
  const agent = join(REPO_ROOT, 'dist', 'bench', 'kernel-agent.mjs'); // bench/bundle.ts
  const links = (side: 'router' | 'concentrator'): AgentSpec['links'] =>
    lab.links.map((l) => {
      const n = l.index + 1;
      const gretaps = Array.from({ length: o.paths[l.index] ?? 1 }, (_, p) => gretapDev(n, p + 1));
      const r = side === 'router';
      return {
        key: l.name, name: l.name, id: n,
        local: r ? probeRouter(n) : probeConc(n), peer: r ? probeConc(n) : probeRouter(n),
        role: 'active', enabled: true,
        tx_rate_kbit: r ? l.profile.rate_up_kbit : l.profile.rate_down_kbit,
        rx_rate_kbit: r ? l.profile.rate_down_kbit : l.profile.rate_up_kbit,
        rx_devs: gretaps, gretaps,
      };
    });
  const spec = (role: AgentSpec['role']): string => JSON.stringify({ role, health: HEALTH_DEFAULTS, links: links(role), equalise } satisfies AgentSpec);
  return {
    router: lab.spawn('router', ['node', agent, spec('router')]),
    conc: lab.spawn(lab.conc.ns, ['node', agent, spec('concentrator')]),
  };
}

interface AgentLine { kind: string; at: number; link?: string; from?: string; to?: string; members?: string[]; reason?: string }
const lines = (p: SpawnedProcess): AgentLine[] =>
  p.output().split('\n').filter((s) => s.startsWith('{')).map((s) => { try { return JSON.parse(s) as AgentLine; } catch { return { kind: 'bad', at: 0 }; } });

async function waitAllIn(p: SpawnedProcess, n: number, timeoutMs: number): Promise<boolean> {
  const end = Date.now() + timeoutMs;
  while (Date.now() < end) {
    // Every link's last event took it to 'up' (with nothing answering, all links are members).
    const ls = lines(p);
    const up = new Set(ls.filter((l) => l.kind === 'link').map((l) => [l.link, l.to]).filter(([, to], i, all) => all.slice(i + 1).every(([k]) => k !== all[i]![0]) && to === 'up').map(([k]) => k));
    if (up.size === n) return true;
    await sleep(200);
  }
  return false;
}

async function voip(lab: Lab, seconds: number): Promise<VoipTrace> {
  const r = await lab.exec('lan', ['node', join(REPO_ROOT, 'dist', 'bench', 'voip.mjs'), lab.server.address, String(lab.server.udpEchoPort), String(seconds)], { timeoutMs: (seconds + 60) * 1000 });
  return JSON.parse(r.stdout.trim().split('\n').pop()!) as VoipTrace;
}

interface Flow { raw: unknown; ok: boolean; error?: string }
async function tcpFlow(lab: Lab, seconds: number): Promise<Flow> {
  try {
    const r = await lab.iperf('lan', { seconds, reverse: true, extra: ['-i', '0.1'] });
    return { raw: r.raw, ok: true };
  } catch (e) {
    return { raw: null, ok: false, error: (e as Error).message };
  }
}

/** A TCP download and the VoIP stream for `seconds`; `disturb` runs meanwhile, from t=0 of both. */
async function underLoad(lab: Lab, seconds: number, disturb: (t0: number) => Promise<void>) {
  const t0 = Date.now();
  const [flow, trace] = await Promise.all([tcpFlow(lab, seconds), voip(lab, seconds), disturb(t0)]);
  return { flow, trace, t0 };
}

/** Link moves the router's agent reported while `f` ran: [from, to] of the victim link. */
type MoveProbe = <T>(link: string, f: () => Promise<T>) => Promise<{ value: T; moves: [string, string][] }>;

async function scenarios(lab: Lab, plane: string, watch: MoveProbe): Promise<Record<string, number | boolean>> {
  const victim = 0; // the largest link: losing it hurts most
  const name = lab.links[victim]!.name;
  const gaps: number[] = [], udpLost: number[] = [], spikes: number[] = [], flapLost: number[] = [], flapMoves: number[] = [];
  let survived = true;
  for (let i = 0; i < reps; i++) {
    let cutAt = 0;
    const cut = await underLoad(lab, 24, async (t0) => {
      await sleep(8000);
      cutAt = Date.now();
      await lab.setLink(victim, { loss_pct: 100 });
      await sleep(8000);
      await lab.resetLink(victim);
    });
    const gap = cut.flow.ok ? longestGap(cut.flow.raw, 2) : 24;
    const alive = cut.flow.ok && bytesAtEnd(cut.flow.raw, 3) > 0;
    survived &&= alive;
    gaps.push(gap);
    udpLost.push(voipLostSeconds(cut.trace, cut.t0 + 1000, cut.t0 + 21_000));
    log(`${plane} cut ${i + 1}: tcp ${alive ? 'survived' : `lost (${cut.flow.error ?? 'no bytes at the end'})`}, longest gap ${gap} s, udp lost ${udpLost.at(-1)} s (cut at +${((cutAt - cut.t0) / 1000).toFixed(1)} s)`);
    await sleep(3000);

    let spikeAt = 0, spikeEnd = 0;
    const spike = await underLoad(lab, 34, async () => {
      await sleep(8000);
      spikeAt = Date.now();
      await lab.setLink(victim, { delay_ms: lab.links[victim]!.profile.delay_ms + 1500 });
      await sleep(20_000);
      spikeEnd = Date.now();
      await lab.resetLink(victim);
    });
    spikes.push(spikeRecovery(spike.trace, spikeAt, spikeEnd));
    log(`${plane} spike ${i + 1}: udp delay back within 50 ms after ${spikes.at(-1)} s`);
    await sleep(3000);

    const watched = await watch(name, () => underLoad(lab, 30, async () => {
      await sleep(5000);
      for (let k = 0; k < 5; k++) {
        await lab.setLink(victim, { loss_pct: 100 });
        await sleep(2000);
        await lab.resetLink(victim);
        await sleep(2000);
      }
    }));
    const flap = watched.value;
    const lost = Number(!(flap.flow.ok && bytesAtEnd(flap.flow.raw, 3) > 0)) + Number(!voipAliveAtEnd(flap.trace, 3));
    flapLost.push(lost);
    const leaves = watched.moves.filter(([from]) => from === 'up').length;
    const joins = watched.moves.filter(([, to]) => to === 'up').length;
    flapMoves.push(Math.max(leaves, joins));
    log(`${plane} flap ${i + 1}: sessions lost ${lost}, ${name} left ${leaves}x and rejoined ${joins}x in 5 flaps`);
    await sleep(5000);
  }
  out.runs[`${plane}.cut_max_gap_s`] = gaps;
  out.runs[`${plane}.cut_udp_lost_s`] = udpLost;
  out.runs[`${plane}.spike_recovery_s`] = spikes;
  out.runs[`${plane}.flap_sessions_lost`] = flapLost;
  out.runs[`${plane}.flap_leaves_max`] = flapMoves;
  return {
    cut_max_gap_s: median(gaps),
    cut_tcp_survived: survived,
    cut_udp_lost_s: median(udpLost),
    spike_recovery_s: median(spikes),
    flap_sessions_lost: Math.max(...flapLost),
    flap_moves_per_5: Math.max(...flapMoves),
  };
}

/** How late a 10 ms timer fires in the guest (p95, ms): a starved guest delays probes and agents. */
async function timerLag(): Promise<number> {
  const lags: number[] = [];
  for (let i = 0; i < 100; i++) {
    const t = performance.now();
    await sleep(10);
    lags.push(performance.now() - t - 10);
  }
  lags.sort((a, b) => a - b);
  return Math.round(lags[94]!);
}

async function main(): Promise<void> {
  const t0 = Date.now();
  const lab = await buildTopology(profile);
  log(`topology built in ${((Date.now() - t0) / 1000).toFixed(0)} s`);
  await pinLinks(lab);
  try {
    // 1. The CPU must not be the limit: unshaped tunnel throughput >= 2x the profile's sum.
    await buildPlane(lab, planOptions(false, false));
    for (const l of lab.links) await lab.setLink(l, { rate_kbit: 1_000_000, jitter_ms: 0 });
    const cpu = (await lab.iperf('lan', { seconds: 5, reverse: true, parallel: 4, extra: ['-O', '1'] })).bitsPerSecond / 1000;
    for (const l of lab.links) await lab.resetLink(l);
    const needed = 2 * Math.max(sumDown, sumUp);
    const lag = await timerLag();
    out.cpu = { tunnel_kbit: Math.round(cpu), needed_kbit: needed, ok: cpu >= needed, timer_lag_p95_ms: lag };
    log(`cpu check: unshaped tunnel ${Math.round(cpu)} kbit/s, need ${needed}; timer lag p95 ${lag} ms${lag > 50 ? ' (busy machine: timing figures suffer)' : ''}`);
    if (!out.cpu.ok) {
      out.refused = `the lab's CPU is the limit: unshaped tunnel throughput ${Math.round(cpu)} kbit/s < 2 x ${Math.max(sumDown, sumUp)} kbit/s`;
      return;
    }

    // 2. The best link alone, straight through its modem (no tunnel).
    const best = [...lab.links].sort((a, b) => b.profile.rate_down_kbit - a.profile.rate_down_kbit)[0]!;
    const bestRatio = await repeat('best_link_ratio', async () =>
      (await lab.iperf('router', { seconds: 10, reverse: true, bind: best.address, extra: ['-O', '2'] })).bitsPerSecond / 1000 / sumDown);

    // 3. Baseline: the seed article's plain balance-rr bond, one gretap per link, no controller.
    out.baseline = {
      single_flow_down_ratio: await repeat('baseline.single_flow_down_ratio', down(lab)),
      multi_flow_down_ratio: await repeat('baseline.multi_flow_down_ratio', down(lab, 8)),
      single_flow_up_ratio: await repeat('baseline.single_flow_up_ratio', up(lab)),
      best_link_ratio: bestRatio,
    };

    // 4. Steering variants without the agent (what the kernel can do with known rates).
    for (const [vname, eq] of [['weighted', false], ['weighted+equalised', true]] as const) {
      await removePlane(lab);
      await buildPlane(lab, planOptions(true, eq));
      out.variants[vname] = {
        single_flow_down_ratio: await repeat(`${vname}.single_flow_down_ratio`, down(lab)),
        single_flow_up_ratio: await repeat(`${vname}.single_flow_up_ratio`, up(lab)),
      };
    }

    // 5. wanbond's health + steering driving the kernel plane, and the scenarios.
    const equalise = process.env['BENCH_EQUALISE'] !== '0';
    await removePlane(lab);
    const o = planOptions(true, false); // the agents set the delays themselves
    await buildPlane(lab, o);
    const agents = startAgents(lab, o, equalise);
    const allIn = await waitAllIn(agents.router, lab.links.length, 120_000) && (await waitAllIn(agents.conc, lab.links.length, 60_000));
    log(`agents up, every link in the bond: ${allIn}`);
    if (!allIn) log(agents.router.output().slice(-2000));
    // The issue's figures for one data plane, in the order the results file lists them.
    const measurePlane = async (plane: string, watch: MoveProbe): Promise<Record<string, number | boolean>> => ({
      single_flow_down_ratio: await repeat(`${plane}.single_flow_down_ratio`, down(lab)),
      multi_flow_down_ratio: await repeat(`${plane}.multi_flow_down_ratio`, down(lab, 8)),
      single_flow_up_ratio: await repeat(`${plane}.single_flow_up_ratio`, up(lab)),
      best_link_ratio: bestRatio,
      ...(await scenarios(lab, plane, watch)),
    });
    const kernelWatch: MoveProbe = async (link, f) => {
      const t0 = Date.now();
      const value = await f();
      const t1 = Date.now() + 1000;
      const moves = lines(agents.router).filter((l) => l.kind === 'link' && l.link === link && l.at >= t0 && l.at <= t1).map((l): [string, string] => [l.from!, l.to!]);
      return { value, moves };
    };
    const kernel = await measurePlane('kernel', kernelWatch);
    out.planes['kernel'] = kernel;
    out.results = kernel;
    out.plane = 'kernel';
    await agents.router.stop();
    await agents.conc.stop();
    out.runs['kernel.agent_router_tail'] = [agents.router.output().slice(-3000)];

    // 6. wanbond itself: `wanbond run` at both ends (WireGuard, gretaps, bond, its own health).
    if (process.env['BENCH_PLANE'] !== 'kernel' && existsSync(join(REPO_ROOT, 'dist', 'wanbond.js'))) {
      await removePlane(lab);
      await lab.exec('router', ['ip', 'rule', 'del', 'priority', '900'], { reject: false });
      const wb = await startWanbond(lab);
      try {
        let ready = false;
        const until = Date.now() + 180_000;
        while (!ready && Date.now() < until) {
          ready = (await lab.whoami('lan').catch(() => '')) === lab.conc.address;
          if (!ready) await sleep(1000);
        }
        await sleep(5000); // every link's probes answered, steering applied
        log(`wanbond up: ${ready}; router agent says:\n${wb.router.output().slice(-1500)}`);
        if (!ready) throw new Error('wanbond: the LAN client never reached the server through the bond');
        for (const l of lab.links) await lab.setLink(l, { rate_kbit: 1_000_000, jitter_ms: 0 });
        const cpuWg = (await lab.iperf('lan', { seconds: 5, reverse: true, parallel: 4, extra: ['-O', '1'] })).bitsPerSecond / 1000;
        for (const l of lab.links) await lab.resetLink(l);
        const needed = 2 * Math.max(sumDown, sumUp);
        log(`cpu check (wanbond, WireGuard): unshaped ${Math.round(cpuWg)} kbit/s, need ${needed}`);
        out.planes['wanbond_cpu'] = { tunnel_kbit: Math.round(cpuWg), needed_kbit: needed, ok: cpuWg >= needed };
        if (cpuWg < needed) {
          out.planes['wanbond'] = { refused: true };
          log('wanbond plane: the lab CPU is the limit through WireGuard; figures not reported');
        } else {
          const wbWatch: MoveProbe = async (link, f) => {
            const from = wb.router.output().length;
            const value = await f();
            await sleep(1000);
            return { value, moves: wb.moves(from).filter(([l]) => l === link).map(([, a, b]): [string, string] => [a, b]) };
          };
          const res = await measurePlane('wanbond', wbWatch);
          out.planes['wanbond'] = res;
          out.results = res;
          out.plane = 'wanbond';
        }
      } catch (e) {
        out.planes['wanbond'] = { error: true };
        log(`wanbond plane failed: ${(e as Error).message}`);
      } finally {
        out.runs['wanbond.router_log_tail'] = [wb.router.output().slice(-4000)];
        await wb.stop().catch(() => undefined);
      }
    }
  } finally {
    await lab.destroy().catch(() => undefined);
  }
}

try {
  await main();
} catch (e) {
  out.error = (e as Error).stack ?? String(e);
  log(`error: ${out.error}`);
  process.exitCode = 1;
}
writeResult(out);
process.exit(process.exitCode ?? 0);

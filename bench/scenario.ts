// Guest side of `make bench`: builds the lab from a profile, measures the best link alone and the
// plain balance-rr baseline, then runs wanbond itself (`wanbond run` at the router and the
// concentrator, UCI-configured) in the same lab: checks the lab's CPU is not the limit through
// wanbond's own tunnels, measures the issue's figures and the cut / spike / flap scenarios. Every
// figure is measured `reps` times; the median is quoted.
// Usage (through runInLab): scenario.ts <profile.json> <reps>
// BENCH_PARTS (comma list, default all): figures, scenarios, baseline — for quicker iterations.
// BENCH_LOG=debug: both agents log every command they run (in the detail's agent_lines).
import { join } from 'node:path';
import { loadProfile, sumDownKbit, sumUpKbit } from '../lab/profile.ts';
import { log, writeResult } from '../lab/scenario.ts';
import { buildTopology, type Lab } from '../lab/topology.ts';
import { REPO_ROOT } from '../lab/run.ts';
import { buildPlane, pinLinks, removePlane } from './kernel-dataplane.ts';
import { bytesAtEnd, longestGap, median, spikeOnset, spikeRecovery, spikeRecoveryPerPacket, voipAliveAtEnd, voipLostSeconds, voipMedianRtt } from './metrics.ts';
import type { VoipTrace } from './voip.ts';
import type { BenchDetail } from './detail.ts';
import { changed, resetCounters, resetsBetween, snapshot } from './tcp-diag.ts';
import { startWanbond, type WanbondPlane } from './wanbond-plane.ts';

const profilePath = process.argv[2] ?? join(REPO_ROOT, 'bench', 'profiles', 'hetero-3.json');
const reps = Math.max(1, Number(process.argv[3] ?? 3));
const parts = new Set((process.env['BENCH_PARTS'] ?? 'figures,scenarios,baseline').split(','));
const profile = loadProfile(profilePath);
const sumDown = sumDownKbit(profile);
const sumUp = sumUpKbit(profile);
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const r3 = (x: number) => Math.round(x * 1000) / 1000;
const r2 = (x: number) => Math.round(x * 100) / 100;

const out: BenchDetail = { profile, sum_down_kbit: sumDown, sum_up_kbit: sumUp, reps, cpu: { tunnel_kbit: 0, needed_kbit: 0, ok: false }, baseline: {}, wanbond: {}, results: null, runs: {} };

/** One run's figure, with what else the run saw worth keeping beside its diagnostics. */
type Run = number | { value: number; note: Record<string, number> };

/**
 * `reps` runs of a figure, the median quoted; with `diag`, what TCP and the queues did in each run,
 * and with its `plane`, the link state changes either agent logged during it (a link judged down
 * mid-run explains a low figure).
 */
async function repeat(name: string, f: () => Promise<Run>, diag?: { lab: Lab; senderNs: string; receiverNs: string; plane?: WanbondPlane }): Promise<number> {
  const xs: number[] = [];
  for (let i = 0; i < reps; i++) {
    try {
      const before = diag ? await snapshot(diag.lab, diag.senderNs, diag.receiverNs) : null;
      const startedAt = Date.now();
      const run = await f();
      xs.push(typeof run === 'number' ? run : run.value);
      if (diag && before) {
        const d = changed(before, await snapshot(diag.lab, diag.senderNs, diag.receiverNs));
        (out.runs[`diag.${name}`] ??= []).push(typeof run === 'number' ? d : { ...d, ...run.note });
      }
      if (diag?.plane) {
        const moves = diag.plane.moves(startedAt).map((m) => `${((m.at - startedAt) / 1000).toFixed(1)} s ${m.side} ${m.link}: ${m.from} -> ${m.to}`);
        (out.runs[`moves.${name}`] ??= []).push(moves.join('; ') || 'none');
      }
    } catch (e) {
      log(`${name}: run failed: ${(e as Error).message}`);
      xs.push(0);
    }
  }
  out.runs[name] = xs.map(r3);
  log(`${name}: ${xs.map((x) => x.toFixed(3)).join(' ')} -> median ${median(xs).toFixed(3)}`);
  return r3(median(xs));
}

/** Who sends and who receives in a download and in an upload, for `repeat`'s diagnostics. */
const downloadEnds = (lab: Lab, plane?: WanbondPlane) => ({ lab, senderNs: lab.server.ns, receiverNs: lab.sites[0]!.lanNs, ...(plane ? { plane } : {}) });
const uploadEnds = (lab: Lab, plane?: WanbondPlane) => ({ lab, senderNs: lab.sites[0]!.lanNs, receiverNs: lab.server.ns, ...(plane ? { plane } : {}) });

/** A download's goodput ratio; noted beside it, the same from the receiver's own intervals (against iperf3's end summary). */
const down = (lab: Lab, parallel = 1) => async (): Promise<Run> => {
  const r = await lab.iperf('lan', { seconds: 10, reverse: true, parallel, extra: ['-O', '2'] });
  const value = r.bitsPerSecond / 1000 / sumDown;
  return r.intervalBitsPerSecond === null ? value : { value, note: { receiver_intervals_ratio: r3(r.intervalBitsPerSecond / 1000 / sumDown) } };
};
const up = (lab: Lab) => async () => (await lab.iperf('lan', { seconds: 10, extra: ['-O', '2'] })).bitsPerSecond / 1000 / sumUp;

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
async function underLoad(lab: Lab, seconds: number, disturb: () => Promise<void>) {
  const t0 = Date.now();
  const [flow, trace] = await Promise.all([tcpFlow(lab, seconds), voip(lab, seconds), disturb()]);
  return { flow, trace, t0 };
}

/** Seconds from `at` until each end first took the victim out of its transmit set, and until that was applied. */
function reaction(wb: WanbondPlane, victim: string, at: number, until: number): Record<string, number | null> {
  const mine = (link: string) => link === victim || link.endsWith(`/${victim}`);
  const res: Record<string, number | null> = {};
  for (const side of ['router', 'conc'] as const) {
    const leave = wb.moves(at).find((m) => m.side === side && mine(m.link) && m.from === 'up' && m.at <= until);
    // Applied: released from the bond through sysfs at once ("out of the bond"), or by the reconcile.
    const applied = leave ? wb.lines(leave.at).find((l) => l.side === side && /out of the bond|health steering: ran/.test(l.line)) : undefined;
    res[`${side}_leave_s`] = leave ? r2((leave.at - at) / 1000) : null;
    res[`${side}_applied_s`] = applied ? r2((applied.at - at) / 1000) : null;
  }
  return res;
}

/** TCP resets each box sent since `before`, kept; for the log line, those of the boxes between the ends. */
async function resetsSince(lab: Lab, before: Record<string, number>, scenario: string, i: number, into: Record<string, unknown>[]): Promise<string> {
  const d = resetsBetween(before, await resetCounters(lab));
  into.push({ scenario, run: i + 1, ...d });
  const between = Object.entries(d).filter(([k]) => !k.startsWith(`${lab.server.ns}.`) && !lab.sites.some((s) => k.startsWith(`${s.lanNs}.`)));
  return between.length ? `; resets sent between the ends: ${JSON.stringify(Object.fromEntries(between))}` : '';
}

/** The stream's round trips from 4 s before an event to 4 s after it ended, to see what a figure means. */
function traceAround(t: VoipTrace, fromMs: number, toMs: number) {
  const from = Math.max(0, Math.round((fromMs - t.start_ms - 4000) / t.interval_ms));
  return {
    at_index: Math.round((fromMs - t.start_ms) / t.interval_ms) - from, interval_ms: t.interval_ms,
    rtt_ms: t.rtt_ms.slice(from, Math.round((toMs - t.start_ms + 4000) / t.interval_ms)),
  };
}

async function scenarios(lab: Lab, wb: WanbondPlane): Promise<Record<string, number | boolean>> {
  const victim = 0; // the largest link: losing it hurts most
  const name = lab.links[victim]!.name;
  const gaps: number[] = [], udpLost: number[] = [], spikes: number[] = [], flapLost: number[] = [], flapMoves: number[] = [], callRtt: number[] = [];
  const reactions: Record<string, unknown>[] = [];
  const traces: unknown[] = [], cutTraces: unknown[] = [];
  const spikesPerPacket: number[] = [], spikeOnsets: (number | null)[] = [];
  const resets: Record<string, unknown>[] = [];
  let survived = true;
  for (let i = 0; i < reps; i++) {
    let cutAt = 0;
    let rst = await resetCounters(lab);
    // Which queues dropped (the call's losses after a leave: the bond's, a link's, a modem's).
    const queuesBefore = await snapshot(lab, lab.server.ns, lab.sites[0]!.lanNs);
    const cut = await underLoad(lab, 24, async () => {
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
    // A call's round trip while a download runs, before the cut.
    callRtt.push(voipMedianRtt(cut.trace, cut.t0 + 2000, cutAt));
    const cr = reaction(wb, name, cutAt, cutAt + 8000);
    reactions.push({ cut: cr, at: cutAt });
    cutTraces.push(traceAround(cut.trace, cutAt, cutAt + 8000));
    (out.runs['diag.cut'] ??= []).push(changed(queuesBefore, await snapshot(lab, lab.server.ns, lab.sites[0]!.lanNs)));
    const cutRst = await resetsSince(lab, rst, 'cut', i, resets);
    log(`cut ${i + 1}: tcp ${alive ? 'survived' : `lost (${cut.flow.error ?? 'no bytes at the end'})`}, longest gap ${gap} s, udp lost ${udpLost.at(-1)} s; ${JSON.stringify(cr)}${cutRst}`);
    await sleep(3000);

    let spikeAt = 0, spikeEnd = 0;
    rst = await resetCounters(lab);
    const spike = await underLoad(lab, 34, async () => {
      await sleep(8000);
      spikeAt = Date.now();
      await lab.setLink(victim, { delay_ms: lab.links[victim]!.profile.delay_ms + 1500 });
      await sleep(20_000);
      spikeEnd = Date.now();
      await lab.resetLink(victim);
    });
    spikes.push(spikeRecovery(spike.trace, spikeAt, spikeEnd));
    spikesPerPacket.push(spikeRecoveryPerPacket(spike.trace, spikeAt, spikeEnd));
    spikeOnsets.push(spikeOnset(spike.trace, spikeAt, spikeEnd));
    const sr = reaction(wb, name, spikeAt, spikeEnd);
    reactions.push({ spike: sr, at: spikeAt });
    traces.push(traceAround(spike.trace, spikeAt, spikeEnd));
    log(`spike ${i + 1}: udp delay back within 50 ms after ${spikes.at(-1)} s (every packet: ${spikesPerPacket.at(-1)} s; first packet hit after ${spikeOnsets.at(-1)} s); ${JSON.stringify(sr)}${await resetsSince(lab, rst, 'spike', i, resets)}`);
    await sleep(3000);

    const flapFrom = Date.now();
    rst = await resetCounters(lab);
    const flap = await underLoad(lab, 30, async () => {
      await sleep(5000);
      for (let k = 0; k < 5; k++) {
        await lab.setLink(victim, { loss_pct: 100 });
        await sleep(2000);
        await lab.resetLink(victim);
        await sleep(2000);
      }
    });
    await sleep(1000);
    const lost = Number(!(flap.flow.ok && bytesAtEnd(flap.flow.raw, 3) > 0)) + Number(!voipAliveAtEnd(flap.trace, 3));
    flapLost.push(lost);
    const moves = wb.moves(flapFrom).filter((m) => m.link === name || m.link.endsWith(`/${name}`));
    const count = (side: string, f: (m: (typeof moves)[number]) => boolean) => moves.filter((m) => m.side === side && f(m)).length;
    const per = ['router', 'conc'].map((s) => Math.max(count(s, (m) => m.from === 'up'), count(s, (m) => m.to === 'up')));
    flapMoves.push(Math.max(...per));
    log(`flap ${i + 1}: sessions lost ${lost}, ${name} left/rejoined router ${per[0]}x, concentrator ${per[1]}x in 5 flaps${await resetsSince(lab, rst, 'flap', i, resets)}`);
    await sleep(5000);
  }
  out.runs['cut_max_gap_s'] = gaps;
  out.runs['cut_udp_lost_s'] = udpLost;
  out.runs['call_rtt_ms'] = callRtt;
  out.runs['spike_recovery_s'] = spikes;
  out.runs['spike_recovery_per_packet_s'] = spikesPerPacket;
  out.runs['spike_onset_s'] = spikeOnsets;
  out.runs['flap_sessions_lost'] = flapLost;
  out.runs['flap_moves_per_5'] = flapMoves;
  out.runs['reactions'] = reactions;
  out.runs['resets'] = resets;
  out.runs['spike_traces'] = traces;
  out.runs['cut_traces'] = cutTraces;
  return {
    cut_max_gap_s: median(gaps),
    cut_tcp_survived: survived,
    cut_udp_lost_s: median(udpLost),
    call_rtt_ms: Math.round(median(callRtt)),
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

/** wanbond up at both ends: the LAN leaves through the concentrator and every link is up at both ends. */
async function waitReady(lab: Lab, wb: WanbondPlane): Promise<boolean> {
  const until = Date.now() + 180_000;
  let ready = false;
  while (!ready && Date.now() < until) {
    ready = (await lab.whoami('lan').catch(() => '')) === lab.conc.address;
    if (!ready) await sleep(1000);
  }
  if (!ready) return false;
  const n = lab.links.length;
  while (Date.now() < until) {
    const last = new Map<string, string>();
    for (const m of wb.moves()) last.set(`${m.side} ${m.link}`, m.to);
    if ([...last.values()].filter((s) => s === 'up').length >= 2 * n) return true;
    await sleep(500);
  }
  return false;
}

async function main(): Promise<void> {
  const t0 = Date.now();
  const lab = await buildTopology(profile);
  log(`topology built in ${((Date.now() - t0) / 1000).toFixed(0)} s`);
  try {
    // 1. The best link alone, straight through its modem (no tunnel), and the baseline: the seed
    // article's plain balance-rr bond, one gretap per link, no controller, on the fresh lab.
    await pinLinks(lab);
    await buildPlane(lab, { paths: lab.links.map(() => 1), extraRouter: lab.links.map(() => 0), extraConc: lab.links.map(() => 0), mode: 'balance-rr' });
    const best = [...lab.links].sort((a, b) => b.profile.rate_down_kbit - a.profile.rate_down_kbit)[0]!;
    out.wanbond.best_link_ratio = await repeat('best_link_ratio', async () =>
      (await lab.iperf('router', { seconds: 10, reverse: true, bind: best.address, extra: ['-O', '2'] })).bitsPerSecond / 1000 / sumDown);
    out.baseline.best_link_ratio = out.wanbond.best_link_ratio;
    // The best link's own round trip, idle: what a call could have on it alone.
    const bestPing = await lab.ping('router', lab.server.address, 20, { intervalSec: 0.2, bind: best.address });
    out.wanbond.best_link_rtt_ms = out.baseline.best_link_rtt_ms = Math.round(bestPing.rttAvgMs ?? 0);
    if (parts.has('baseline')) {
      out.baseline.single_flow_down_ratio = await repeat('baseline.single_flow_down_ratio', down(lab), downloadEnds(lab));
      out.baseline.multi_flow_down_ratio = await repeat('baseline.multi_flow_down_ratio', down(lab, 8));
      out.baseline.single_flow_up_ratio = await repeat('baseline.single_flow_up_ratio', up(lab));
      out.baseline.call_rtt_ms = Math.round(await repeat('baseline.call_rtt_ms', async () => {
        const t0 = Date.now();
        const [, trace] = await Promise.all([tcpFlow(lab, 12), voip(lab, 12)]);
        return voipMedianRtt(trace, t0 + 2000, t0 + 11_000);
      }));
    }
    // Its devices go; pinLinks' per-link rules stay (wanbond uses its own, at other priorities).
    await removePlane(lab);
    await lab.exec('router', ['ip', 'rule', 'del', 'priority', '900'], { reject: false });

    // 2. The CPU must not be the limit: unshaped throughput through wanbond's tunnels >= 2x the
    // sum. Measured with the links' rates left out of its config (nothing shaped: the tunnels'
    // ceiling; the router still weights by the capacities its packet trains find), the best of up
    // to three tries (a try can land on a moment another lab run takes the host's CPUs).
    const needed = 2 * Math.max(sumDown, sumUp);
    const bare = await startWanbond(lab, { rates: false });
    try {
      if (!(await waitReady(lab, bare))) throw new Error(`wanbond did not come up; router agent says:\n${bare.router.output().slice(-3000)}`);
      // Without rates the router measures each link with packet trains: one download once those
      // are done (five each way per link), at the profile's rates, before the links go unshaped.
      const trained = async () => (bare.router.output().match(/by packet train \(5 measured\)/g) ?? []).length >= 2 * lab.links.length;
      for (let i = 0; i < 120 && !(await trained()); i++) await sleep(1000);
      log(`packet trains done at every link: ${await trained()}`);
      if (parts.has('figures')) out.wanbond.single_flow_down_ratio_no_rates = await repeat('single_flow_down_ratio_no_rates', down(lab), downloadEnds(lab, bare));
      for (const l of lab.links) await lab.setLink(l, { rate_kbit: 1_000_000, jitter_ms: 0 });
      let cpu = 0;
      for (let i = 0; i < 3 && cpu < needed; i++) {
        const got = await lab.iperf('lan', { seconds: 5, reverse: true, parallel: 4, extra: ['-O', '1'] }).then((r) => r.bitsPerSecond / 1000, () => 0);
        out.runs['cpu_tries_kbit'] = [...(out.runs['cpu_tries_kbit'] ?? []), Math.round(got)];
        cpu = Math.max(cpu, got);
      }
      for (const l of lab.links) await lab.resetLink(l);
      const lag = await timerLag();
      out.cpu = { tunnel_kbit: Math.round(cpu), needed_kbit: needed, ok: cpu >= needed, timer_lag_p95_ms: lag };
      log(`cpu check: unshaped through wanbond ${Math.round(cpu)} kbit/s, need ${needed}; timer lag p95 ${lag} ms`);
    } finally {
      // What the links did meanwhile (a link judged down during a download explains a low figure).
      const moves = (text: string) => text.split('\n').filter((l) => / -> |out of the bond|steering:/.test(l)).slice(-60);
      out.runs['no_rates_router_moves'] = moves(bare.router.output());
      out.runs['no_rates_conc_moves'] = moves(bare.conc.output());
      await bare.stop().catch(() => undefined);
    }
    if (!out.cpu.ok) {
      out.refused = `the lab's CPU is the limit: unshaped throughput through wanbond ${out.cpu.tunnel_kbit} kbit/s < 2 x ${Math.max(sumDown, sumUp)} kbit/s`;
      return;
    }

    // 3. wanbond itself, configured as a user would: each link's rates given.
    const wb = await startWanbond(lab, process.env['BENCH_LOG'] === 'debug' ? { logLevel: 'debug' } : {});
    try {
      const ready = await waitReady(lab, wb);
      log(`wanbond up (LAN through the concentrator, every link up at both ends): ${ready}`);
      if (!ready) throw new Error(`wanbond did not come up; router agent says:\n${wb.router.output().slice(-3000)}`);
      await sleep(3000);
      // The bonds' round-robin order (their slave lists), as the figures ran.
      for (const ns of ['router', 'conc']) {
        const r = await lab.exec(ns, ['sh', '-c', 'cat /sys/class/net/wb*/bonding/slaves'], { reject: false });
        out.runs[`bond_slaves.${ns}`] = [r.stdout.trim()];
      }
      if (parts.has('figures')) {
        out.wanbond.single_flow_down_ratio = await repeat('single_flow_down_ratio', down(lab), downloadEnds(lab, wb));
        out.wanbond.multi_flow_down_ratio = await repeat('multi_flow_down_ratio', down(lab, 8), downloadEnds(lab, wb));
        out.wanbond.single_flow_up_ratio = await repeat('single_flow_up_ratio', up(lab), uploadEnds(lab, wb));
      }
      if (parts.has('scenarios')) Object.assign(out.wanbond, await scenarios(lab, wb));
    } finally {
      // Every line either agent logged, stamped as the bench saw it (unix ms, as `reactions[].at`).
      out.runs['agent_lines'] = wb.lines().map((l) => `${l.at} ${l.side} ${l.line}`);
      await wb.stop().catch(() => undefined);
    }

    out.results = out.wanbond;
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

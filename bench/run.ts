// Host side of `make bench [PROFILE=path]`: runs bench/scenario.ts in the lab for each profile
// (default: every file in bench/profiles/), writes bench/results/latest.json in the issue's shape
// (and <profile>-detail.json with every run, the baseline, the CPU check and the host's load),
// and prints the table beside the plain balance-rr baseline.
// Env: BENCH_REPS (default 3, at least 3 for quoted figures); BENCH_PARTS and BENCH_LOG, see scenario.ts.
import { readdirSync, writeFileSync, mkdirSync } from 'node:fs';
import { basename, join, resolve } from 'node:path';
import { loadavg } from 'node:os';
import { runInLab, REPO_ROOT } from '../lab/run.ts';
import { bundleBenchTools } from './bundle.ts';
import type { BenchDetail } from './detail.ts';

const RESULT_KEYS = [
  'single_flow_down_ratio', 'multi_flow_down_ratio', 'single_flow_up_ratio', 'best_link_ratio',
  'cut_max_gap_s', 'cut_tcp_survived', 'spike_recovery_s', 'flap_sessions_lost',
] as const;

/** The issue's floors; `only` limits a floor to one profile. */
const FLOORS: Record<string, { op: '>=' | '<=' | '=='; v: number | boolean; only?: string }[]> = {
  single_flow_down_ratio: [{ op: '>=', v: 0.8, only: 'hetero-3' }, { op: '>=', v: 0.9, only: 'equal-3' }],
  multi_flow_down_ratio: [{ op: '>=', v: 0.9, only: 'hetero-3' }],
  single_flow_up_ratio: [{ op: '>=', v: 0.75, only: 'hetero-3' }],
  cut_max_gap_s: [{ op: '<=', v: 1.0 }],
  cut_tcp_survived: [{ op: '==', v: true }],
  cut_udp_lost_s: [{ op: '<=', v: 1.0 }],
  spike_recovery_s: [{ op: '<=', v: 1.0 }],
  flap_sessions_lost: [{ op: '==', v: 0 }],
  flap_moves_per_5: [{ op: '<=', v: 5 }],
};


function verdict(key: string, v: number | boolean | undefined, profile: string): string {
  const fs = (FLOORS[key] ?? []).filter((f) => !f.only || f.only === profile);
  if (!fs.length || v === undefined) return '';
  const ok = fs.every((f) => (f.op === '>=' ? Number(v) >= Number(f.v) : f.op === '<=' ? Number(v) <= Number(f.v) : v === f.v));
  return `${ok ? 'meets' : 'MISSES'} ${fs.map((f) => `${f.op} ${f.v}`).join(' ')}`;
}

function table(name: string, d: BenchDetail): string {
  const rows: string[][] = [['figure', 'wanbond', 'plain balance-rr', 'floor']];
  const keys = [...RESULT_KEYS.slice(0, 4), 'single_flow_down_ratio_no_rates', 'call_rtt_ms', 'best_link_rtt_ms', 'cut_max_gap_s', 'cut_tcp_survived', 'cut_udp_lost_s', 'spike_recovery_s', 'flap_sessions_lost', 'flap_moves_per_5'];
  for (const k of keys) {
    const v = d.wanbond[k];
    rows.push([k, String(v ?? '-'), String(d.baseline[k] ?? '-'), verdict(k, v, name)]);
  }
  const w = rows[0]!.map((_, i) => Math.max(...rows.map((r) => r[i]!.length)));
  return rows.map((r) => r.map((c, i) => c.padEnd(w[i]!)).join('  ')).join('\n');
}

async function main(): Promise<number> {
  const arg = process.argv[2];
  const profiles = arg
    ? [resolve(arg)]
    : readdirSync(join(REPO_ROOT, 'bench', 'profiles')).filter((f) => f.endsWith('.json')).sort().map((f) => join(REPO_ROOT, 'bench', 'profiles', f));
  const reps = Math.max(1, Number(process.env['BENCH_REPS'] ?? 3));
  const dir = join(REPO_ROOT, 'bench', 'results');
  mkdirSync(dir, { recursive: true });
  let status = 0;
  await bundleBenchTools();
  for (const p of profiles) {
    const name = basename(p, '.json');
    console.log(`bench: ${name} (${reps} runs of each measurement) in the lab...`);
    const started = Date.now();
    const loadBefore = loadavg()[0]!;
    const r = await runInLab({
      scenario: join(REPO_ROOT, 'bench', 'scenario.ts'),
      args: [p, String(reps)],
      timeoutSec: 900 + reps * 600,
      env: Object.fromEntries(['BENCH_PARTS', 'BENCH_LOG'].filter((k) => process.env[k]).map((k) => [k, process.env[k]!])),
      onOutput: (s) => { for (const line of s.split('\n')) if (line.startsWith('[lab')) console.log(`  ${line}`); },
    });
    const d = r.result as BenchDetail | null;
    if (!d || d.error || !d.results) {
      console.error(`bench: ${name}: ${d?.refused ?? d?.error ?? `no result (exit ${r.exitCode}${r.timedOut ? ', timed out' : ''})`}`);
      if (!d) console.error(r.output.slice(-3000));
      status = 1;
      continue;
    }
    const host = { load_before: Math.round(loadBefore * 100) / 100, load_after: Math.round(loadavg()[0]! * 100) / 100, wall_s: Math.round((Date.now() - started) / 1000) };
    const results = Object.fromEntries(RESULT_KEYS.map((k) => [k, d.results![k]]));
    const latest = { profile: d.profile, sum_down_kbit: d.sum_down_kbit, results };
    writeFileSync(join(dir, 'latest.json'), JSON.stringify(latest, null, 2) + '\n');
    writeFileSync(join(dir, `${name}.json`), JSON.stringify(latest, null, 2) + '\n');
    writeFileSync(join(dir, `${name}-detail.json`), JSON.stringify({ ...d, host }, null, 2) + '\n');
    console.log(`\n${name}: sum of links ${d.sum_down_kbit} kbit/s down; ratios are goodput / sum; median of ${d.reps}; CPU ceiling ${d.cpu.tunnel_kbit} kbit/s (need ${d.cpu.needed_kbit}), guest timer lag p95 ${d.cpu.timer_lag_p95_ms ?? '?'} ms; host load ${host.load_before} -> ${host.load_after}; ${host.wall_s} s`);
    console.log(table(name, d) + '\n');
  }
  return status;
}

process.exit(await main());

// What bench/scenario.ts hands back to bench/run.ts (saved as results/<profile>-detail.json).
import type { LabProfile } from '../lab/profile.ts';

export interface BenchDetail {
  profile: LabProfile;
  sum_down_kbit: number;
  sum_up_kbit: number;
  reps: number;
  /** Unshaped throughput through wanbond's own tunnels; figures are refused below 2x the sum. */
  cpu: { tunnel_kbit: number; needed_kbit: number; ok: boolean; timer_lag_p95_ms?: number };
  /** The plain balance-rr bond (no controller, no WireGuard), measured in the same lab. */
  baseline: Record<string, number>;
  /** `wanbond run` at both ends: the figures plus cut_udp_lost_s and flap_moves_per_5. */
  wanbond: Record<string, number | boolean>;
  /** = wanbond once measured; null when the run was refused or failed. */
  results: Record<string, number | boolean> | null;
  runs: Record<string, unknown[]>;
  refused?: string;
  error?: string;
}

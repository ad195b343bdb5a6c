// What bench/scenario.ts hands back to bench/run.ts (saved as results/<profile>-detail.json).
import type { LabProfile } from '../lab/profile.ts';

export interface BenchDetail {
  profile: LabProfile;
  sum_down_kbit: number;
  sum_up_kbit: number;
  reps: number;
  cpu: { tunnel_kbit: number; needed_kbit: number; ok: boolean; timer_lag_p95_ms?: number };
  baseline: Record<string, number>;
  variants: Record<string, Record<string, number>>;
  /** wanbond's figures; null when the run was refused or failed. */
  results: Record<string, number | boolean> | null;
  runs: Record<string, unknown[]>;
  refused?: string;
  error?: string;
}

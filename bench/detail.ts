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
  /** Figures per data plane: 'kernel' (hand-built GRE bond driven by wanbond's health and steering) and 'wanbond' (`wanbond run`). */
  planes: Record<string, Record<string, number | boolean>>;
  /** Which plane `results` comes from: wanbond when it could be measured, else kernel. */
  plane: string;
  /** wanbond's figures; null when the run was refused or failed. */
  results: Record<string, number | boolean> | null;
  runs: Record<string, unknown[]>;
  refused?: string;
  error?: string;
}

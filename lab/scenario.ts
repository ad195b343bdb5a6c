// Helpers for scenarios, the programs runInLab starts inside the guest: a list of named checks,
// and writing the result JSON to the one host file the guest may write ($WANBOND_LAB_RESULT).
import { writeFileSync } from 'node:fs';

export interface Check {
  name: string;
  ok: boolean;
  detail: string;
}

export interface ScenarioResult {
  checks: Check[];
  /** Figures a scenario measured (speeds, times), for printing. */
  figures: Record<string, number | string | null>;
  /** Set when the scenario threw. */
  error?: string;
}

export function writeResult(data: unknown): void {
  const path = process.env['WANBOND_LAB_RESULT'];
  if (!path) throw new Error('WANBOND_LAB_RESULT is not set: run scenarios with runInLab (lab/run.ts)');
  writeFileSync(path, JSON.stringify(data, null, 2));
}

export function log(msg: string): void {
  console.log(`[lab ${process.uptime().toFixed(1)}s] ${msg}`);
}

/**
 * Runs a scenario body: `check` records named pass/fail results, `figure` records measurements.
 * The result is written whatever happens; a throw is recorded as `error` and exit status 1.
 */
export async function runScenario(
  body: (t: { check: (name: string, ok: boolean, detail?: string) => void; figure: (name: string, v: number | string | null) => void }) => Promise<void>,
): Promise<void> {
  const result: ScenarioResult = { checks: [], figures: {} };
  const check = (name: string, ok: boolean, detail = ''): void => {
    result.checks.push({ name, ok, detail });
    log(`${ok ? 'ok  ' : 'FAIL'} ${name}${detail ? `: ${detail}` : ''}`);
  };
  const figure = (name: string, v: number | string | null): void => { result.figures[name] = v; };
  try {
    await body({ check, figure });
  } catch (e) {
    result.error = (e as Error).stack ?? String(e);
    log(`error: ${result.error}`);
    process.exitCode = 1;
  }
  writeResult(result);
  // Spawned helpers (servers, wireguard-go) would keep the event loop alive; the guest powers off next.
  process.exit(process.exitCode ?? 0);
}

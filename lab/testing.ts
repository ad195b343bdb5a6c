// Host side of the lab tests: one boot per test file, one node test per check the scenario made.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { LabRunResult } from './run.ts';
import type { ScenarioResult } from './scenario.ts';

function tail(s: string, lines = 40): string {
  return s.split('\n').slice(-lines).join('\n');
}

/**
 * Registers one test per expected check name (a missing check fails), plus one that the scenario
 * finished cleanly. Checks the scenario made beyond `expected` become tests too.
 */
export function defineLabTests(run: LabRunResult, expected: string[]): void {
  console.log(`lab: boot ${run.bootSec ?? '?'} s, whole run ${run.wallSec.toFixed(1)} s, exit ${run.exitCode}`);
  const res = (run.result ?? { checks: [], figures: {} }) as ScenarioResult;
  if (res.figures && Object.keys(res.figures).length) console.log(`lab figures: ${JSON.stringify(res.figures)}`);
  test('lab scenario ran to the end', () => {
    assert.equal(run.timedOut, false, `lab timed out\n${tail(run.output)}`);
    assert.equal(res.error, undefined, `scenario threw: ${res.error}\n${tail(run.output)}`);
    assert.equal(run.exitCode, 0, `scenario exit ${run.exitCode}\n${tail(run.output)}`);
  });
  const byName = new Map(res.checks.map((c) => [c.name, c]));
  const names = [...new Set([...expected, ...res.checks.map((c) => c.name)])];
  for (const name of names) {
    test(name, () => {
      const c = byName.get(name);
      assert.ok(c, `the scenario never got to this check\n${tail(run.output)}`);
      assert.ok(c.ok, c.detail);
    });
  }
}

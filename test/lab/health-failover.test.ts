// A cut link leaves the bond's transmit set at both ends (the test's time bound is generous: speed
// is measured by `make bench`) and rejoins once it recovers; garbage sent to
// the health channel is counted and changes nothing. Real kernel (UML lab), real netem, real bond.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { runInLab, REPO_ROOT } from '../../lab/run.ts';
import { bundleBenchTools } from '../../bench/bundle.ts';

test('health: a cut link leaves the transmit set and rejoins after recovery', { timeout: 900_000 }, async () => {
  await bundleBenchTools();
  const r = await runInLab({ scenario: join(REPO_ROOT, 'test', 'lab', 'health-failover.scenario.ts'), timeoutSec: 600 });
  const res = r.result as { checks: { name: string; ok: boolean; detail: string }[]; figures: Record<string, number | null>; error?: string } | null;
  assert.ok(res, `no result from the lab (exit ${r.exitCode}):\n${r.output.slice(-3000)}`);
  assert.equal(res.error, undefined, res.error);
  const summary = res.checks.map((c) => `${c.ok ? 'ok' : 'FAIL'} ${c.name}: ${c.detail}`).join('\n') + '\n' + JSON.stringify(res.figures);
  for (const c of res.checks) assert.ok(c.ok, `${c.name}: ${c.detail}\n${summary}`);
  assert.ok(res.checks.length >= 8, 'every check ran');
  console.log(`health-failover figures: ${JSON.stringify(res.figures)}`);
  // The target is 1 s and `make bench` measures it; here only the behaviour is asserted. A one-CPU
  // guest on a loaded 2-core machine has been seen to run its timers 7 s late, hence the bound.
  const leave = res.figures['leave_event_s'];
  assert.ok(typeof leave === 'number' && leave <= 15, `left after ${leave} s`);
  const rejoin = res.figures['rejoin_event_s'];
  assert.ok(typeof rejoin === 'number' && rejoin <= 30, `rejoined after ${rejoin} s`);
});

// Reading the kernel state starts its processes one at a time, so it holds the agent's event loop
// (and the health monitor in it) about as long as one process start, not as all of them. Real
// kernel (UML lab), real ip/tc/wg/nft; see observe-loop.scenario.ts.
import { join } from 'node:path';
import { runInLab, REPO_ROOT } from '../../lab/run.ts';
import { defineLabTests } from '../../lab/testing.ts';

const run = await runInLab({ scenario: join(REPO_ROOT, 'test', 'lab', 'observe-loop.scenario.ts'), timeoutSec: 300 });
defineLabTests(run, [
  'observe() reads the kernel state',
  'observe() holds the event loop about as long as one process start, not as all of them',
]);

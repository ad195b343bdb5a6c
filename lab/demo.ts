// Host side of `make demo`: boots the lab and shows the demo scenario's own output, live.
import { runInLab } from './run.ts';

let showing = false;
let pending = '';
function show(chunk: string): void {
  pending += chunk;
  const lines = pending.split('\n');
  pending = lines.pop() ?? '';
  for (const line of lines) {
    if (line.startsWith('WANBOND_LAB_BOOTED')) {
      showing = true;
      console.log(`booted in ${line.split('=')[1]} s; building the lab...`);
    } else if (line.startsWith('WANBOND_LAB_EXIT')) {
      showing = false;
    } else if (showing) {
      console.log(line);
    }
  }
}

console.log('booting the lab (user-mode Linux, a real 6.1 kernel)...');
const r = await runInLab({ scenario: 'lab/demo-scenario.ts', args: process.argv.slice(2), timeoutSec: 300, onOutput: show });
if (r.exitCode !== 0) {
  console.error(`demo failed (exit ${r.exitCode}${r.timedOut ? ', timed out' : ''})`);
  // What the guest said before the demo started (boot trouble) has not been shown yet.
  if (!r.output.includes('WANBOND_LAB_BOOTED')) console.error(r.output.split('\n').slice(-30).join('\n'));
  process.exit(1);
}
console.log(`demo done in ${r.wallSec.toFixed(0)} s`);

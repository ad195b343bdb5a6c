// In the guest: how long reading the kernel state (observe, the reconcile's and the periodic
// check's first step) holds this process's event loop, against one process start. Starting a
// process blocks the starter while the kernel copies it (libuv forks; about 100 ms a start in
// this user-mode Linux, a few ms on a router), so processes started in one loop turn add up: five
// held the agent, and with it the health monitor, ~0.5 s. Started one at a time they do not.
import { execa } from 'execa';
import { runScenario, log } from '../../lab/scenario.ts';
import { observe } from '../../src/kernel/observe.ts';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;

await runScenario(async ({ check, figure }) => {
  // The longest gap between 5 ms timer turns while `fn` runs: how long the loop was held.
  let last = performance.now();
  let longest = 0;
  const ticker = setInterval(() => {
    const now = performance.now();
    longest = Math.max(longest, now - last);
    last = now;
  }, 5);
  const held = async (fn: () => Promise<unknown>): Promise<number> => {
    await sleep(300);
    last = performance.now();
    longest = 0;
    await fn();
    await sleep(50);
    return Math.round(longest);
  };
  await held(() => execa('true')); // the first start also loads what later ones share
  const one: number[] = [];
  for (let i = 0; i < 5; i++) one.push(await held(() => execa('true')));
  let state: Awaited<ReturnType<typeof observe>> | null = null;
  const all: number[] = [];
  for (let i = 0; i < 5; i++) {
    all.push(
      await held(async () => {
        state = await observe();
      }),
    );
  }
  clearInterval(ticker);
  log(`one process start held the loop ${one.join(', ')} ms; observe() ${all.join(', ')} ms`);
  figure('one_start_ms', median(one));
  figure('observe_ms', median(all));
  const s = state as Awaited<ReturnType<typeof observe>> | null;
  check('observe() reads the kernel state', !!s && s.links.some((l) => l.name === 'lo'), `links: ${s?.links.map((l) => l.name).join(' ')}`);
  // Five processes started in one turn held it ~4-5 times one start; in turn, about one start.
  check(
    'observe() holds the event loop about as long as one process start, not as all of them',
    median(all) <= 2 * median(one) + 20,
    `observe ${median(all)} ms (runs ${all.join(', ')}), one start ${median(one)} ms (runs ${one.join(', ')})`,
  );
});

// The tc kept running (src/kernel/tc-session.ts) against the real tc: answers each call after
// tc has read its lines, reports tc's errors as the call's, survives them, and starts again
// it is stopped. Read-only commands and errors only: no root needed.
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { TcSession } from '../../src/kernel/tc-session.ts';

const tc = new TcSession();
after(() => tc.stop());

test('a call answers once tc has read its lines; errors are the call\'s, and the next call is clean', async () => {
  assert.equal(await tc.run(['qdisc show dev lo']), '');
  const err = await tc.run(['qdisc change dev wanbond-nope0 root handle 1: netem delay 5ms']);
  assert.match(err, /Cannot find device "wanbond-nope0"/);
  assert.equal(await tc.run(['qdisc show dev lo', 'class show dev lo']), '', 'the same process carries on after an error');
});

test('calls made together run in turn, each with its own answer', async () => {
  const [a, b, c] = await Promise.all([
    tc.run(['qdisc show dev lo']),
    tc.run(['qdisc change dev wanbond-nope1 root handle 1: netem delay 5ms']),
    tc.run(['qdisc show dev lo']),
  ]);
  assert.equal(a, '');
  assert.match(b, /wanbond-nope1/);
  assert.equal(c, '');
});

test('stopped (or gone), the next call starts tc again', async () => {
  tc.stop();
  assert.equal(await tc.run(['qdisc show dev lo']), '');
});

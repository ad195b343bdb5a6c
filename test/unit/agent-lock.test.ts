// The stack lock (src/agent/lock.ts) in a temp directory: exclusive, names the holder, takes over
// a lock whose holder is gone or half-written, and releases only its own.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readFileSync, rmSync, utimesSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { acquireLock, StackBusyError, withStackLock } from '../../src/agent/lock.ts';

const dir = () => mkdtempSync(join(tmpdir(), 'wb-lock-'));

test('lock: one holder at a time; the second is told who holds it', () => {
  const d = dir();
  const p = join(d, 'run', 'lock');
  const alive = (pid: number) => pid === 111;
  const a = acquireLock(p, { pid: 111, alive });
  assert.equal(readFileSync(p, 'utf8'), '111\n');
  assert.throws(() => acquireLock(p, { pid: 222, alive }), (e: unknown) => e instanceof StackBusyError && e.pid === 111 &&
    e.message === 'another wanbond (pid 111) is changing the stack');
  a.release();
  assert.equal(existsSync(p), false);
  const b = acquireLock(p, { pid: 222, alive });
  assert.equal(readFileSync(p, 'utf8'), '222\n');
  b.release();
  rmSync(d, { recursive: true });
});

test('lock: a holder that is gone is stale and taken over', () => {
  const d = dir();
  const p = join(d, 'lock');
  writeFileSync(p, '999999\n');
  const l = acquireLock(p, { pid: 5, alive: () => false });
  assert.equal(readFileSync(p, 'utf8'), '5\n');
  assert.equal(existsSync(`${p}.break`), false);
  l.release();
  rmSync(d, { recursive: true });
});

test('lock: an empty lock file is waited for briefly, then taken over when old', () => {
  const d = dir();
  const p = join(d, 'lock');
  writeFileSync(p, '');
  const old = new Date(Date.now() - 60_000);
  utimesSync(p, old, old);
  const l = acquireLock(p, { pid: 6, alive: () => true });
  assert.equal(readFileSync(p, 'utf8'), '6\n');
  l.release();
  rmSync(d, { recursive: true });
});

test('lock: release leaves a lock another process took over alone', () => {
  const d = dir();
  const p = join(d, 'lock');
  const l = acquireLock(p, { pid: 7, alive: () => false });
  writeFileSync(p, '8\n'); // 7 was judged stale and 8 took the lock
  l.release();
  assert.equal(readFileSync(p, 'utf8'), '8\n');
  rmSync(d, { recursive: true });
});

test('lock: the real liveness check knows this process is not wanbond, a dead pid is gone', async () => {
  const { wanbondAlive } = await import('../../src/agent/lock.ts');
  // This test runner's command line does not name wanbond: a pid reused by something else.
  assert.equal(wanbondAlive(process.pid), process.argv.join(' ').includes('wanbond'));
  assert.equal(wanbondAlive(2 ** 22 + 12345), false);
});

test('withStackLock: runs the body under the lock, returns the busy message when held', async () => {
  const d = dir();
  const p = join(d, 'lock');
  process.env['WANBOND_LOCK_FILE'] = p;
  try {
    assert.equal(await withStackLock(true, async () => (existsSync(p) ? 'held' : 'not held')), 'held');
    assert.equal(existsSync(p), false);
    writeFileSync(p, '424242\n'); // a pid that runs nothing: stale, taken over
    assert.equal(await withStackLock(true, async () => readFileSync(p, 'utf8')), `${process.pid}\n`);
    assert.equal(await withStackLock(false, async () => 'dry'), 'dry');
  } finally {
    delete process.env['WANBOND_LOCK_FILE'];
    rmSync(d, { recursive: true });
  }
});

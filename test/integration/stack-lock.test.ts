// The stack lock between wanbond processes: with a live wanbond holding it, `apply`, `down` and
// `run` (the real CLI, as separate processes) refuse with the holder's pid and exit 1, and leave
// the lock as it was. The holder is a real process whose command line names wanbond; the lock
// file is moved to a temp directory with WANBOND_LOCK_FILE so the host's /run is not touched.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const MAIN = join(import.meta.dirname, '..', '..', 'src', 'cli', 'main.ts');

test('a second wanbond is refused while one holds the stack lock', async () => {
  const d = mkdtempSync(join(tmpdir(), 'wb-lock-'));
  const lock = join(d, 'lock');
  const cfg = join(d, 'wanbond');
  writeFileSync(cfg, "config globals 'globals'\n\toption enabled '0'\n");
  const holder = spawn(process.execPath, ['-e', 'setInterval(() => {}, 1000)', 'wanbond-lock-holder'], { stdio: 'ignore' });
  try {
    writeFileSync(lock, `${holder.pid}\n`);
    for (const args of [['apply', '--config', cfg], ['down'], ['run', '--config', cfg]]) {
      const r = spawnSync(process.execPath, ['--import', 'tsx', MAIN, ...args], {
        env: { ...process.env, WANBOND_LOCK_FILE: lock }, encoding: 'utf8', timeout: 60_000,
      });
      assert.equal(r.status, 1, `${args[0]}: exit ${r.status}; ${r.stderr}`);
      assert.match(r.stderr, new RegExp(`another wanbond \\(pid ${holder.pid}\\) is changing the stack`), args[0]);
      assert.equal(readFileSync(lock, 'utf8'), `${holder.pid}\n`, `${args[0]} left the lock alone`);
    }
  } finally {
    holder.kill('SIGKILL');
    rmSync(d, { recursive: true });
  }
});

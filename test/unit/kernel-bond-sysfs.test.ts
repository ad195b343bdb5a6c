// Bond membership through sysfs (src/kernel/bond-sysfs.ts), against a directory laid out as
// /sys/class/net is: <dev>/master is a symlink to the bond, <bond>/bonding/slaves takes -<dev>.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { masterOf, releaseSlave } from '../../src/kernel/bond-sysfs.ts';

test('masterOf reads the master link; releaseSlave writes -dev to the bond', () => {
  const sys = mkdtempSync(join(tmpdir(), 'wb-sys-'));
  mkdirSync(join(sys, 'wbond', 'bonding'), { recursive: true });
  mkdirSync(join(sys, 'wbg1p1'));
  mkdirSync(join(sys, 'wbg2p1'));
  symlinkSync('../wbond', join(sys, 'wbg1p1', 'master'));
  assert.equal(masterOf('wbg1p1', sys), 'wbond');
  assert.equal(masterOf('wbg2p1', sys), null);
  assert.equal(masterOf('nope', sys), null);
  // The kernel closes a released slave (its flags lose IFF_UP): the release brings it up again.
  writeFileSync(join(sys, 'wbg1p1', 'flags'), '0x1002\n');
  assert.equal(releaseSlave('wbond', 'wbg1p1', sys), null);
  assert.equal(readFileSync(join(sys, 'wbond', 'bonding', 'slaves'), 'utf8'), '-wbg1p1');
  assert.equal(readFileSync(join(sys, 'wbg1p1', 'flags'), 'utf8'), '0x1003');
  assert.match(releaseSlave('nobond', 'wbg1p1', sys) ?? '', /ENOENT/);
  rmSync(sys, { recursive: true });
});

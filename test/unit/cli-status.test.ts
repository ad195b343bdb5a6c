// `wanbond status`'s table (src/cli/status.ts formatStatus) from the TEST DOUBLE agent's status
// (test/doubles/agent-api.ts): one row per link, marks explained under the table.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { formatStatus } from '../../src/cli/status.ts';
import { FAKE_NOW, fakeStatus } from '../doubles/agent-api.ts';

const EXPRESS_NOTE = 'bond: * express link: small non-TCP packets (calls, DNS, pings) leave by it, bypassing the bond';

test('status table: BOND marks the express link with *, explained under the table like the capacity marks', () => {
  assert.deepEqual(formatStatus(fakeStatus(), FAKE_NOW), [
    'wanbond 0.1.0-test router on OpenWrt, enabled, up 2h02m',
    'bond wanbond0 (balance-rr, mtu 1380): wan wwan, rx 10.8Mbit/s tx 1.8Mbit/s',
    'concentrator vps.example.net: reachable for 2h01m',
    '',
    'LINK  STATUS  BOND  IFACE  DEVICE  RTT   JITTER  LOSS  RX    TX    CAP DN/UP   SINCE  REASON',
    'wan   up      yes*  wan    eth1    43ms  3.3ms   0.0%  5.4M  880k  8.0M/~1.5M  1h00m  probes ok',
    'wwan  up      yes   wwan   wwan0   68ms  12ms    1.5%  5.4M  880k  8.0M/~1.5M  1h00m  loss 1.5% (under 20%)',
    'wan2  down    no    wan2   -       -     -       100%  0k    0k    8.0M/~1.5M  1m35s  netifd: interface down',
    '',
    EXPRESS_NOTE,
    'capacity: ~ measured by packet trains',
  ]);
});

test('status table: no express link (none chosen, or express off), no mark and no note; a mark on a link out of the bond too', () => {
  const none = fakeStatus();
  for (const l of none.links) l.express = false;
  const lines = formatStatus(none, FAKE_NOW);
  assert.ok(!lines.some((l) => l.includes('*')));
  assert.deepEqual(lines.slice(-2), ['', 'capacity: ~ measured by packet trains']);

  // The kernel may route express by a link whose gretaps just left the bond: status says so.
  const out = fakeStatus();
  for (const l of out.links) {
    l.express = l.name === 'wan2';
    l.capacity_up_source = 'configured';
  }
  const rows = formatStatus(out, FAKE_NOW);
  assert.match(rows.find((l) => l.startsWith('wan2'))!, /^wan2\s+down\s+no\*\s+wan2\s/);
  assert.match(rows.find((l) => l.startsWith('wan '))!, /^wan\s+up\s+yes\s+wan\s/);
  assert.deepEqual(rows.slice(-2), ['', EXPRESS_NOTE]);
});
